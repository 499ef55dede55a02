"""vaezip.datasets reads image files: IDX (gzipped or not), npz and npy, directories of PNGs.

Everything runs on synthetic files written to tmp_path.
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from PIL import Image

from _dataset_files import fresh_caches, idx_bytes, random_images, write_idx, write_pngs  # noqa: F401 (autouse fixture)
from vaezip import datasets as ds


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
