"""Run in a fresh process (other kernels chosen by environment variables before torch loads):
prints JSON with the sha256 of each model's fast-engine outputs on ``probe_inputs`` and, given a
.vz file, whether it decodes to the expected images.

    python tests/integer_probe.py MODEL[,MODEL...] [THREADS] [FILE.vz EXPECTED.npy]
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np


def probe_inputs(model, batch: int, seed: int = 0):
    """Seeded random pixels and latent-table entries, ``batch`` of each."""
    rng = np.random.default_rng(seed + batch)
    config = model.config
    pixels = rng.integers(0, config.n_values, (batch, config.height, config.width))
    latents = rng.choice(model.latent_table, (batch, config.latent_dim))
    return pixels, latents


def outputs(model, batch: int) -> dict:
    """The fast engine's integer outputs (encoder, decoder, head) on the probe inputs, as int64."""
    import torch

    from vaezip.models.integer import engine
    from vaezip.models.integer.adapter import IntegerLatentModel

    coder = IntegerLatentModel(model, 20)
    assert not coder.exact_fallback, "the fast engine failed its start-up check"
    pixels, latents = probe_inputs(model, batch)
    t = torch.from_numpy(2 * pixels - (model.config.n_values - 1)).float()[:, None]
    with engine.exact_kernels():
        out = {"encoder": coder.encoder.run(t).double().numpy(),
               "decoder": coder.decoder.run(torch.from_numpy(latents).double()).double().numpy()}
    if model.head is not None:
        params = coder.likelihood.params(pixels, features=out["decoder"].astype(np.float32))
        out["head"] = params * 2.0 ** 16
    return {key: value.astype(np.int64) for key, value in out.items()}


def digest(arrays: dict) -> str:
    h = hashlib.sha256()
    for key in sorted(arrays):
        h.update(key.encode() + np.ascontiguousarray(arrays[key], dtype=np.int64).tobytes())
    return h.hexdigest()


def main() -> None:
    import torch

    from vaezip.models import zoo

    names = sys.argv[1].split(",")
    torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    report = {}
    for name in names:
        model = zoo.load_integer(name)
        report[name] = {str(b): digest(outputs(model, b)) for b in (1, 64)}
    if len(sys.argv) > 4:
        from vaezip import api

        pictures = api.decompress(open(sys.argv[3], "rb").read())
        expected = np.load(sys.argv[4])
        report["decoded"] = all(np.array_equal(p.pixels[:, :, 0], e) for p, e in zip(pictures, expected)) and len(
            pictures) == len(expected)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
