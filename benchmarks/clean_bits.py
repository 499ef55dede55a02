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
    from vaezip import api
    from vaezip.models import zoo
    from vaezip.models.adapter import TorchLatentModel
    from vaezip.codecs import GaussianLatent
    from vaezip.codecs.bitsback import push_batch, push_batch_cis, push_batch_is
    from vaezip.datasets import load
    from vaezip.rans import Message

    images = load(args.data)[: args.images].astype(np.int64)
    model = TorchLatentModel(zoo.load_model(args.model), api.LIKELIHOOD_PRECISION)
    latent = GaussianLatent(api.LATENT_BITS, api.POSTERIOR_PRECISION)

    def rich() -> Message:  # plenty of clean bits: the net cost of a batch, no fillers
        rng = np.random.default_rng(0)
        msg = Message.from_words(rng.integers(1, 2**32, 100_000, dtype=np.uint64).astype(np.uint32))
        msg.strict = False
        return msg

    net = []
    for x in images:
        msg = rich()
        before = msg.num_bits()
        push_batch(msg, x[None], model, latent)
        net.append(msg.num_bits() - before)
    net_bits = float(np.mean(net))

    def need(push, *extra) -> float:
        fillers = []
        for x in images:
            msg = Message()
            push(msg, x[None], model, latent, *extra)
            fillers.append(msg.fillers)
        return 32.0 * float(np.mean(fillers))

    rows = [{"coder": "bb-ans", "particles": 1, "clean_bits": need(push_batch)}]
    for k in (int(v) for v in args.particles.split(",")):
        rows.append({"coder": "bb-is", "particles": k, "clean_bits": need(push_batch_is, k)})
        rows.append({"coder": "bb-cis", "particles": k, "clean_bits": need(push_batch_cis, k)})
    print(f"{args.model} on the first {len(images)} images of {args.data}: net cost {net_bits:.1f} bits/image")
    print("| coder | K | clean bits per image | × net cost |")
    print("|---|---|---|---|")
    for row in rows:
        row["times_net"] = row["clean_bits"] / net_bits
        print(f"| {row['coder']} | {row['particles']} | {row['clean_bits']:,.0f} | {row['times_net']:.1f} |")
    if args.json_path:
        record = {"command": "python benchmarks/clean_bits.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                  "model": args.model, "data": args.data, "images": len(images), "net_bits": net_bits, "rows": rows}
        Path(args.json_path).write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
