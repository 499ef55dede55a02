"""Convert zoo models to integer networks and measure them beside their float networks.

    python scripts/convert_models.py [--models mnist,fashion,...] [--samples K] [--limit N]
        [--out benchmarks/results/integer-models.json] [--cards] [--cards-only]

For each model: ``publish_integer`` (the ``.vzn`` file and the zoo entry's
``integer`` record, with the settings below), then on the whole test split,
in one run and with the same seed, the float model's and the integer model's
−ELBO and K-sample importance-sampled estimate (float64, ``vaezip.models.
density``), stored in the entry's ``integer.rates``; ``--out`` collects the
records, ``--cards`` writes each model card's "Integer network" section, and
``--cards-only`` only writes those sections from the registry.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from vaezip.models import zoo
from vaezip.models.integer.publish import measure_integer, publish_integer, write_card_section
from vaezip.models.integer.quantize import Settings

# mnist-fact needs its float32 convolutions summed in two groups of input channels to stay
# within 0.3 % (+0.43 % with one group on 300 test images, +0.14 % with two)
SETTINGS = {"mnist-fact": Settings(default_groups=2)}


def test_images(info: zoo.ModelInfo, limit: int | None):
    from vaezip import datasets

    images = datasets.load(info.rates.get("test_split", "").strip("`"))
    return images[:limit] if limit else images


def command(name: str, samples: int) -> str:
    return f"python scripts/convert_models.py --models {name} --samples {samples} --cards"


def convert_and_measure(name: str, samples: int, limit: int | None) -> dict:
    started = time.perf_counter()
    info = publish_integer(name, SETTINGS.get(name))
    converted = time.perf_counter() - started
    info = measure_integer(info, test_images(info, limit), samples)
    return {"model": name, "integer": info.integer, "seconds": {"convert": round(converted, 1),
                                                                 "measure": round(time.perf_counter() - started, 1)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(info.name for info in zoo.list_models()))
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--cards", action="store_true")
    parser.add_argument("--cards-only", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name in args.models.split(","):
        if not args.cards_only:
            row = convert_and_measure(name, args.samples, args.limit)
            print(json.dumps(row), flush=True)
            if args.out:
                doc = json.loads(args.out.read_text()) if args.out.exists() else {}
                doc[name] = row
                args.out.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        if args.cards or args.cards_only:
            info = zoo.get_info(name)
            samples = info.integer.get("rates", {}).get("importance_samples", args.samples)
            write_card_section(zoo.models_dir() / f"{name}.md", info, command(name, samples))


if __name__ == "__main__":
    main()
