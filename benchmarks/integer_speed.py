"""Integer networks (format version 3) against float32 networks (version 2), side by side in one run.

Usage::

    python benchmarks/integer_speed.py --model mnist [--data mnist-train,mnist-test] [--repeat 3]
        [--cli-images 2000] [--json FILE]

API: ``vaezip.api.compress`` and ``decompress`` of the whole data set (pictures
in memory, default streams, no estimates), version 2 and version 3 in turn,
``--repeat`` times each, interleaved so that the machine's load falls on
both; the best run of each and their ratio (version 3 over version 2, in
images per second: above 1 is faster). Every run's decoded pictures are
compared with the input.

Command line: the first ``--cli-images`` images as PNG files named
``00000.png`` ... in a temporary directory, then ``vaezip compress DIR -o
F.vz --model M -k 0 --format-version V`` and ``vaezip decompress F.vz -o
OUT/`` as processes (start-up, PNG reading and writing included), timed the
same way. ``-k 0``: no estimates, whose cost is the same for both versions
and not coding. The decompressed PNGs are compared with the inputs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, installed or not

VERSIONS = (2, 3)


def api_runs(pictures: list, model: str, repeat: int) -> dict:
    from vaezip import api

    best = {v: {"compress_s": float("inf"), "decompress_s": float("inf")} for v in VERSIONS}
    sizes = {}
    for version in VERSIONS:  # warm-up: Numba, torch, the integer engine's start-up check
        api.decompress(api.compress(pictures[:100], model=model, version=version)[0])
    for _ in range(repeat):
        for version in VERSIONS:
            started = time.perf_counter()
            data, _ = api.compress(pictures, model=model, version=version)
            compressed = time.perf_counter()
            decoded = api.decompress(data)
            done = time.perf_counter()
            if any(not np.array_equal(a.pixels, b.pixels) for a, b in zip(decoded, pictures)):
                raise SystemExit(f"error: version {version}: an image did not come back exact")
            best[version]["compress_s"] = min(best[version]["compress_s"], compressed - started)
            best[version]["decompress_s"] = min(best[version]["decompress_s"], done - compressed)
            sizes[version] = len(data)
    return _summary(best, len(pictures), sizes)


def cli_runs(images: np.ndarray, model: str, repeat: int) -> dict:
    from vaezip.bench import to_pictures
    from vaezip.images import write_png

    best = {v: {"compress_s": float("inf"), "decompress_s": float("inf")} for v in VERSIONS}
    sizes = {}
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "png"
        source.mkdir()
        for index, picture in enumerate(to_pictures(images)):
            with open(source / f"{index:05d}.png", "wb") as stream:
                write_png(picture, stream)
        for _ in range(repeat):
            for version in VERSIONS:
                archive, out = Path(work) / f"v{version}.vz", Path(work) / f"out{version}"
                compress_s = _timed(["compress", str(source), "-o", str(archive), "--model", model, "-k", "0",
                                     "--format-version", str(version), "--force"])
                decompress_s = _timed(["decompress", str(archive), "-o", str(out), "--force"])
                _check_same(source, out)
                best[version]["compress_s"] = min(best[version]["compress_s"], compress_s)
                best[version]["decompress_s"] = min(best[version]["decompress_s"], decompress_s)
                sizes[version] = archive.stat().st_size
    return _summary(best, len(images), sizes)


def _timed(arguments: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "vaezip", *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"error: vaezip {' '.join(arguments)}: {result.stderr.strip()}")
    return time.perf_counter() - started


def _check_same(source: Path, out: Path) -> None:
    from vaezip.images import read_png

    for path in sorted(source.iterdir()):
        if not np.array_equal(read_png(path.read_bytes()).pixels, read_png((out / path.name).read_bytes()).pixels):
            raise SystemExit(f"error: {path.name} did not come back exact through the command line")


def _summary(best: dict, count: int, sizes: dict) -> dict:
    out = {f"v{v}": {**best[v], "compress_images_per_s": count / best[v]["compress_s"],
                     "decompress_images_per_s": count / best[v]["decompress_s"], "file_bytes": sizes[v]}
           for v in VERSIONS}
    out["images"] = count
    out["ratio_compress"] = best[2]["compress_s"] / best[3]["compress_s"]
    out["ratio_decompress"] = best[2]["decompress_s"] / best[3]["decompress_s"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", default="mnist-train,mnist-test")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cli-images", type=int, default=2000)
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    from vaezip.bench import to_pictures, vector_flags
    from vaezip.datasets import load
    from vaezip.models import zoo

    images = np.concatenate([load(spec) for spec in args.data.split(",")])
    if zoo.get_info(args.model).config["n_values"] == 2 and images.max() > 1:
        images = (images > 127).astype(np.uint8)
    record = {"command": "python benchmarks/integer_speed.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "model": args.model, "data": args.data, "repeat": args.repeat,
              "api": api_runs(to_pictures(images), args.model, args.repeat),
              "cli": cli_runs(images[:args.cli_images], args.model, args.repeat) if args.cli_images else None,
              "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                          "processor": _cpu_name(), "vector_flags": vector_flags(),
                          "load_average_1min": round(os.getloadavg()[0], 2)},
              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    _print(record)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(record, indent=2) + "\n")
    return 0


def _cpu_name() -> str:
    from vaezip.bench.machine import cpu_name

    return cpu_name()


def _print(record: dict) -> None:
    for where in ("api", "cli"):
        part = record[where]
        if part is None:
            continue
        print(f"{record['model']} {where} ({part['images']} images, best of {record['repeat']}):")
        for v in VERSIONS:
            p = part[f"v{v}"]
            print(f"  version {v}: compress {p['compress_images_per_s']:8,.0f} img/s, "
                  f"decompress {p['decompress_images_per_s']:8,.0f} img/s, {p['file_bytes']:,} bytes")
        print(f"  version 3 / version 2 speed: compress {part['ratio_compress']:.2f}, "
              f"decompress {part['ratio_decompress']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
