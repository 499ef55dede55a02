"""Rate and speed of the model-free plane coder (``vaezip.codecs.planar``) beside PNG.

Usage::

    python benchmarks/planar.py [--image FILE ...] [--speed-side 2048] [--repeat 3] [--json FILE]

Rates: bits per pixel of the whole coded message (every tail word plus the
64-bit final state) against Pillow's PNG with ``optimize=True`` (the whole
file, headers included) for:

- ``sample`` and ``sample-fashion`` (the 100 committed 28x28 images each), as
  one 10x10 mosaic, and per image (100 separate messages / PNG files, summed);
- ``photo-8``: a smooth synthetic 512x512 8-bit image (low-frequency waves,
  soft blobs, a ramp, Gaussian noise of std 2, fixed seed);
- ``photo-16``: the same scene as a 16-bit 512x512 image (noise std 40);
- ``noise-8`` / ``noise-16``: uniform random 512x512 planes (the bound is raw size);
- ``binary``: the sample digits mosaic thresholded at 128 (1-bit; PNG mode "1");
- ``constant``: a 4000x3000 constant 8-bit plane (bytes, not bpp, matter);
- each ``--image FILE`` (any format Pillow reads; each channel is one plane).

Every coded plane is decoded from the serialized words and compared with the
input; a mismatch stops the script with status 1.

Speed (one core: ``NUMBA_NUM_THREADS=1``): push (including argument checks)
and pop of a ``--speed-side`` square 8-bit ``photo-8``-like plane, best of
``--repeat`` runs after one warm-up run, in million pixels per second, by
the thread's CPU time (``time.thread_time``: on a shared machine wall time
measures the neighbours) and, beside it, by wall time.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = "1"

import argparse
import io
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vaezip import datasets  # noqa: E402
from vaezip.codecs.planar import Planar  # noqa: E402
from vaezip.rans import Message  # noqa: E402


def png_bytes(plane: np.ndarray, bit_depth: int) -> int:
    """Size of ``plane`` as a PNG written by Pillow with ``optimize=True``."""
    if bit_depth == 1:
        img = Image.fromarray(plane.astype(bool))
    elif bit_depth <= 8:
        img = Image.fromarray(plane.astype(np.uint8), mode="L")
    else:
        img = Image.fromarray(plane.astype(np.uint16))  # I;16
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.tell()


def coded_bytes(plane: np.ndarray, bit_depth: int) -> int:
    """Bytes of the coded message; checks the round trip."""
    codec = Planar(bit_depth)
    msg = Message()
    codec.push(msg, plane)
    data = msg.to_bytes()
    back = Message.from_bytes(data)
    decoded = codec.pop(back, shape=plane.shape)
    back.finish(0)
    if not np.array_equal(decoded, plane):
        sys.exit(f"round trip failed for a {plane.shape} plane at bit depth {bit_depth}")
    return len(data)


def scene(side: int, bit_depth: int, noise: float, seed: int = 1) -> np.ndarray:
    """Smooth photo-like content: waves, soft blobs, a ramp, Gaussian noise; clipped to the range."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side] / side
    img = 0.35 + 0.15 * np.sin(2 * np.pi * (1.3 * xx + 0.4 * yy)) + 0.1 * np.cos(2 * np.pi * 2.1 * yy)
    img += 0.2 * xx
    for _ in range(12):
        cy, cx, r, amp = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.03, 0.2), rng.uniform(-0.3, 0.3)
        img += amp * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    top = (1 << bit_depth) - 1
    img = img * top + rng.normal(0, noise, img.shape)
    return np.clip(np.round(img), 0, top).astype(np.uint8 if bit_depth <= 8 else np.uint16)


def mosaic(images: np.ndarray, columns: int = 10) -> np.ndarray:
    n, h, w = images.shape
    rows = -(-n // columns)
    out = np.zeros((rows * h, columns * w), dtype=images.dtype)
    for k in range(n):
        r, c = divmod(k, columns)
        out[r * h : (r + 1) * h, c * w : (c + 1) * w] = images[k]
    return out


def workloads(extra_images):
    """(name, list of planes, bit depth) for every rate row."""
    rows = []
    for split in ("sample", "sample-fashion"):
        images = datasets.load(split)
        rows.append((f"{split} mosaic", [mosaic(images)], 8))
        rows.append((f"{split} per image", list(images), 8))
    rows.append(("photo-8 512x512", [scene(512, 8, 2.0)], 8))
    rows.append(("photo-16 512x512", [scene(512, 16, 40.0)], 16))
    rng = np.random.default_rng(7)
    rows.append(("noise-8 512x512", [rng.integers(0, 256, (512, 512)).astype(np.uint8)], 8))
    rows.append(("noise-16 512x512", [rng.integers(0, 65536, (512, 512)).astype(np.uint16)], 16))
    rows.append(("binary digits mosaic", [(mosaic(datasets.load("sample")) >= 128).astype(np.uint8)], 1))
    rows.append(("constant 4000x3000", [np.full((3000, 4000), 93, dtype=np.uint8)], 8))
    for path in extra_images:
        img = Image.open(path)
        depth = 1 if img.mode == "1" else 16 if img.mode.startswith("I") else 8
        arr = np.array(img)
        if depth == 16:
            arr = arr.astype(np.uint16)
        planes = [arr] if arr.ndim == 2 else [np.ascontiguousarray(arr[..., c]) for c in range(arr.shape[2])]
        rows.append((f"{Path(path).name} ({img.mode}, {len(planes)} planes)", planes, depth))
    return rows


def rate_table(extra_images):
    results = []
    for name, planes, depth in workloads(extra_images):
        pixels = sum(p.size for p in planes)
        ours = sum(coded_bytes(p, depth) for p in planes)
        png = sum(png_bytes(p, depth) for p in planes)
        results.append(dict(name=name, bit_depth=depth, pixels=pixels, planar_bytes=ours, png_bytes=png,
                            planar_bpp=8 * ours / pixels, png_bpp=8 * png / pixels, ratio=ours / png))
    return results


def speed(side: int, repeat: int):
    plane = scene(side, 8, 2.0, seed=3)
    codec = Planar(8)

    def once():
        msg = Message()
        c0, w0 = time.thread_time(), time.perf_counter()
        codec.push(msg, plane)
        c1, w1 = time.thread_time(), time.perf_counter()
        back = Message.from_words(msg.to_words())
        c2, w2 = time.thread_time(), time.perf_counter()
        out = codec.pop(back, shape=plane.shape)
        c3, w3 = time.thread_time(), time.perf_counter()
        if not np.array_equal(out, plane):
            sys.exit("speed run: round trip failed")
        return c1 - c0, c3 - c2, w1 - w0, w3 - w2

    once()
    times = [once() for _ in range(repeat)]
    best = [min(t[k] for t in times) for k in range(4)]
    rate = [plane.size / b / 1e6 for b in best]
    return dict(pixels=plane.size, push_mpix_s=rate[0], pop_mpix_s=rate[1],
                push_mpix_s_wall=rate[2], pop_mpix_s_wall=rate[3])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", action="append", default=[], help="extra image file (repeatable)")
    parser.add_argument("--speed-side", type=int, default=2048)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)

    rates = rate_table(args.image)
    print(f"{'plane(s)':40s} {'depth':>5s} {'pixels':>10s} {'planar bpp':>11s} {'PNG bpp':>9s} "
          f"{'planar B':>10s} {'PNG B':>10s} {'ratio':>7s}")
    for r in rates:
        print(f"{r['name']:40s} {r['bit_depth']:5d} {r['pixels']:10d} {r['planar_bpp']:11.4f} {r['png_bpp']:9.4f} "
              f"{r['planar_bytes']:10d} {r['png_bytes']:10d} {r['ratio']:7.3f}")
    sp = speed(args.speed_side, args.repeat)
    print(f"\nspeed, {args.speed_side}x{args.speed_side} 8-bit photo-like plane, one core, best of {args.repeat}: "
          f"push {sp['push_mpix_s']:.1f} Mpx/s, pop {sp['pop_mpix_s']:.1f} Mpx/s (CPU time); "
          f"wall: push {sp['push_mpix_s_wall']:.1f}, pop {sp['pop_mpix_s_wall']:.1f} Mpx/s")
    if args.json:
        args.json.write_text(json.dumps(dict(rates=rates, speed=sp), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
