"""Compress and decompress throughput of ``vaezip.api``, images per second.

Usage::

    python benchmarks/throughput.py --model mnist-bin-mlp [--data mnist-bin-train,mnist-bin-test]
        [--batch-size 64] [--particles 1] [--repeat 3] [--json FILE]

Times ``vaezip.api.compress`` (pictures in memory to the bytes of one .vz
file: planning, networks, coding, container, checksums) and
``vaezip.api.decompress`` (bytes to pictures, checksums verified) on the
concatenated data sets, with no importance-sampled estimate (that is a
report, not coding). One warm-up run on 100 images first (Numba and torch
start-up); then ``--repeat`` timed runs, the best kept and every run listed.
Every run's decoded pictures are compared with the input; a mismatch stops
the script with status 1. The archive uses the streams ``api.compress``
chooses (``api.default_streams``: one per 600,000 expected bits, a power of
two, at most 8), one thread each, so on a 2-core machine two streams run at
once. Wall time (``time.perf_counter``):
on a shared machine the neighbours' load shows in it. Each run also records
this process's CPU time over its wall time (``cpu_percent``: 200 means both
cores of a 2-core machine were busy with vaezip) and the 1-minute load
average when it ended, so a slow run can be told from a busy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, installed or not


def _fingerprint(model: str) -> str:
    from vaezip.models import zoo
    from vaezip.models.adapter import TorchLatentModel, kernel_fingerprint

    return kernel_fingerprint(TorchLatentModel(zoo.load_model(model)))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", default="mnist-bin-train,mnist-bin-test",
                        help="comma-separated data sets (vaezip.datasets specs), concatenated")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--particles", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)

    from vaezip import api
    from vaezip.bench import to_pictures
    from vaezip.datasets import load

    images = np.concatenate([load(spec) for spec in args.data.split(",")])
    pictures = to_pictures(images)
    options = dict(model=args.model, batch_size=args.batch_size, particles=args.particles, estimate_samples=0)
    api.decompress(api.compress(pictures[:100], **options)[0])  # warm-up
    runs = []
    for _ in range(args.repeat):
        run, report = _run(pictures, options)
        if run is None:
            print("error: an image did not come back exact", file=sys.stderr)
            return 1
        runs.append(run)
    record = _record(args, argv, len(pictures), report, runs)
    _print(record, args.repeat)
    if args.json_path:
        with open(args.json_path, "w") as out:
            json.dump(record, out, indent=2)
            out.write("\n")
    return 0


def _run(pictures: list, options: dict) -> tuple[dict | None, object]:
    """One timed compress and decompress of ``pictures``: the run's figures (None if an image did not
    come back exact) and the compress report."""
    from vaezip import api

    started, cpu = time.perf_counter(), _cpu_seconds()
    data, report = api.compress(pictures, **options)
    compress_s, compress_cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    started, cpu = time.perf_counter(), _cpu_seconds()
    decoded = api.decompress(data)
    decompress_s, decompress_cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    if len(decoded) != len(pictures) or any(not np.array_equal(a.pixels, b.pixels) for a, b in zip(decoded, pictures)):
        return None, report
    return {"compress_s": compress_s, "decompress_s": decompress_s,
            "compress_images_per_s": len(pictures) / compress_s,
            "decompress_images_per_s": len(pictures) / decompress_s,
            "compress_cpu_percent": round(100 * compress_cpu / compress_s, 1),
            "decompress_cpu_percent": round(100 * decompress_cpu / decompress_s, 1),
            "load_average_1min": round(os.getloadavg()[0], 2)}, report


def _record(args, argv, images: int, report, runs: list[dict]) -> dict:
    from vaezip.bench import vector_flags

    return {
        "command": "python benchmarks/throughput.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "model": args.model, "data": args.data, "images": images, "batch_size": args.batch_size,
        "particles": args.particles, "streams": report.streams, "file_bytes": report.file_bytes,
        "bpd": report.bpd,
        "compress_images_per_s": max(r["compress_images_per_s"] for r in runs),
        "decompress_images_per_s": max(r["decompress_images_per_s"] for r in runs),
        "runs": runs,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "vector_flags": vector_flags(),
                    "kernel_fingerprint": _fingerprint(args.model)},
    }


def _print(record: dict, repeat: int) -> None:
    print(f"{record['model']} on {record['data']}: {record['images']} images, {record['streams']} streams, "
          f"batch {record['batch_size']}, K={record['particles']}: {record['bpd']:.4f} bits/dim")
    for run in record["runs"]:
        print(f"  run: compress {run['compress_images_per_s']:,.0f} ({run['compress_cpu_percent']:.0f} % CPU), "
              f"decompress {run['decompress_images_per_s']:,.0f} ({run['decompress_cpu_percent']:.0f} % CPU), "
              f"load {run['load_average_1min']:.2f}")
    print(f"compress   {record['compress_images_per_s']:9,.0f} images/s (best of {repeat})")
    print(f"decompress {record['decompress_images_per_s']:9,.0f} images/s (best of {repeat})")


if __name__ == "__main__":
    sys.exit(main())
