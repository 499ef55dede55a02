"""How many network outputs change when torch computes them with other kernels.

Usage::

    python benchmarks/kernel_portability.py [--model mnist] [--data mnist-test] [--images 64] [--json FILE]

A .vz file decodes only where the decoder rebuilds the networks' outputs bit
for bit (after ``vaezip.models.adapter`` rounds them to its 2**-16 grid). Another
CPU's kernels (oneDNN and MKL pick them by vector ISA) or another torch
build change last bits; this script imitates that on one machine by
switching torch's oneDNN (mkldnn) backend off, and counts the grid values
(posterior means and standard deviations at the images, decoder outputs at
the means) that differ from the default path.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, installed or not


def outputs(model, images):
    mean, std = model.encode(images)
    decoded = model.decode(mean)
    return {"mean": mean, "std": std, **decoded}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mnist")
    parser.add_argument("--data", default="mnist-test")
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)

    import torch

    from vaezip.models import zoo
    from vaezip.models.adapter import TorchLatentModel
    from vaezip.datasets import load

    torch.set_num_threads(1)
    images = load(args.data)[: args.images]
    images = images[..., 0] if images.ndim == 4 else images
    model = TorchLatentModel(zoo.load_model(args.model))
    default = outputs(model, images)
    torch.backends.mkldnn.enabled = False
    try:
        other = outputs(model, images)
    finally:
        torch.backends.mkldnn.enabled = True
    rows = {name: {"values": int(default[name].size), "differ": int(np.sum(default[name] != other[name]))}
            for name in default}
    record = {"command": "python benchmarks/kernel_portability.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "model": args.model, "data": args.data, "images": int(len(images)),
              "torch": torch.__version__, "outputs": rows}
    for name, row in rows.items():
        print(f"{name:>10}: {row['differ']:,} of {row['values']:,} grid values differ "
              f"({100.0 * row['differ'] / row['values']:.2f} %)")
    if args.json_path:
        with open(args.json_path, "w") as out:
            json.dump(record, out, indent=2)
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
