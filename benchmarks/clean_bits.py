"""Clean bits one image needs before bits-back can push anything: BB-ANS, BB-IS, BB-CIS.

Usage::

    python benchmarks/clean_bits.py [--model mnist-bin] [--data mnist-bin-test] [--images 50]
        [--particles 4,16,64] [--json FILE]

Each image is coded alone onto an empty compression message, as one batch
of plain bits-back (``push_batch``), BB-IS or BB-CIS: every word the batch
pops from the empty message is a filler word, so ``32 * fillers`` is the
clean bits it needs (what the images before it must have left on the
stream, or what a stream's start pays). Printed per coder: the mean clean
bits per image and the same as a multiple of the model's mean net cost per
image (its −ELBO under plain bits-back, measured the same way on a message
that already holds enough bits).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, installed or not


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mnist-bin")
    parser.add_argument("--data", default="mnist-bin-test")
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--particles", default="4,16,64")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from vaezip.codecs.bitsback import push_batch, push_batch_cis, push_batch_is

    images, model, latent = _setup(args.model, args.data, args.images)
    net_bits = _net_bits(images, model, latent)
    rows = [{"coder": "bb-ans", "particles": 1, "clean_bits": _clean_bits(push_batch, images, model, latent)}]
    for k in (int(v) for v in args.particles.split(",")):
        rows.append({"coder": "bb-is", "particles": k,
                     "clean_bits": _clean_bits(push_batch_is, images, model, latent, k)})
        rows.append({"coder": "bb-cis", "particles": k,
                     "clean_bits": _clean_bits(push_batch_cis, images, model, latent, k)})
    _print_table(args.model, args.data, len(images), net_bits, rows)
    if args.json_path:
        record = {"command": "python benchmarks/clean_bits.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                  "model": args.model, "data": args.data, "images": len(images), "net_bits": net_bits, "rows": rows}
        Path(args.json_path).write_text(json.dumps(record, indent=2) + "\n")
    return 0


def _setup(name: str, data: str, count: int):
    """The first ``count`` images of ``data``, the zoo model ``name`` as the coder runs it, the latent codec."""
    from vaezip import api
    from vaezip.codecs import GaussianLatent
    from vaezip.datasets import load
    from vaezip.models import zoo
    from vaezip.models.adapter import TorchLatentModel

    images = load(data)[:count].astype(np.int64)
    model = TorchLatentModel(zoo.load_model(name), api.LIKELIHOOD_PRECISION)
    return images, model, GaussianLatent(api.LATENT_BITS, api.POSTERIOR_PRECISION)


def _rich():
    """A message with plenty of clean bits: a batch on it costs its net bits, with no fillers."""
    from vaezip.rans import Message

    rng = np.random.default_rng(0)
    msg = Message.from_words(rng.integers(1, 2**32, 100_000, dtype=np.uint64).astype(np.uint32))
    msg.strict = False
    return msg


def _net_bits(images, model, latent) -> float:
    """The mean net cost of an image with plain bits-back, in bits."""
    from vaezip.codecs.bitsback import push_batch

    net = []
    for x in images:
        msg = _rich()
        before = msg.num_bits()
        push_batch(msg, x[None], model, latent)
        net.append(msg.num_bits() - before)
    return float(np.mean(net))


def _clean_bits(push, images, model, latent, *extra) -> float:
    """The mean clean bits an image needs when ``push`` codes it on an empty message (32 per filler word)."""
    from vaezip.rans import Message

    fillers = []
    for x in images:
        msg = Message()
        push(msg, x[None], model, latent, *extra)
        fillers.append(msg.fillers)
    return 32.0 * float(np.mean(fillers))


def _print_table(name: str, data: str, count: int, net_bits: float, rows: list[dict]) -> None:
    print(f"{name} on the first {count} images of {data}: net cost {net_bits:.1f} bits/image")
    print("| coder | K | clean bits per image | × net cost |")
    print("|---|---|---|---|")
    for row in rows:
        row["times_net"] = row["clean_bits"] / net_bits
        print(f"| {row['coder']} | {row['particles']} | {row['clean_bits']:,.0f} | {row['times_net']:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
