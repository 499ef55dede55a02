"""The integer networks' engines equal the plain integer reference, bit for bit, whatever kernels run.

``integer_reference`` (numpy int64 loops) is the specification made runnable;
the fast engine (float32 oneDNN convolutions, Numba), the float64 engine and
the Numba head must give its integers for every shipped model and the tiny
test models, on random and real inputs, at batch 1 and 64, with one or two
torch threads, from channels-last or contiguous inputs, and in fresh
processes whose torch, oneDNN and MKL pick other kernels.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch

import integer_reference as ref
from integer_probe import digest, outputs, probe_inputs
from vaezip.models import zoo
from vaezip.models.integer import engine, exact64

SHIPPED = [info.name for info in zoo.list_models()]
HERE = Path(__file__).parent
# environment variables that make torch, oneDNN and MKL choose other kernels (set before torch loads)
ENVIRONMENTS = {
    "aten-default": {"ATEN_CPU_CAPABILITY": "default"},
    "dnnl-sse41": {"DNNL_MAX_CPU_ISA": "SSE41"},
    "onednn-sse41": {"ONEDNN_MAX_CPU_ISA": "SSE41"},
    "mkl-sse42": {"MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
    "all-at-once": {"ATEN_CPU_CAPABILITY": "default", "DNNL_MAX_CPU_ISA": "SSE41", "ONEDNN_MAX_CPU_ISA": "SSE41",
                    "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "OMP_NUM_THREADS": "2"},
}


@lru_cache(maxsize=None)
def integer_model(name: str):
    return zoo.load_integer(name)


def reference_outputs(model, batch: int) -> dict:
    """The reference's integers for ``integer_probe.outputs``' inputs."""
    pixels, latents = probe_inputs(model, batch)
    t = (2 * pixels - (model.config.n_values - 1))[:, None]
    out = {"encoder": ref.run(model.encoder, t), "decoder": ref.run(model.decoder, latents)}
    if model.head is not None:
        out["head"] = ref.head(model.head, model.config.n_values, out["decoder"], pixels)
    return out


@lru_cache(maxsize=None)
def reference_digest(name: str, batch: int) -> str:
    return digest(reference_outputs(integer_model(name), batch))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_integer_network_is_exact_and_checks(name):
    model = integer_model(name)
    model.check()  # every partial sum of every layer proven below 2**53
    assert zoo.get_info(name).integer_sha256


@pytest.mark.parametrize("name", SHIPPED)
def test_fast_engine_equals_the_reference_on_random_inputs(name):
    model = integer_model(name)
    for batch in (1, 64):
        fast = outputs(model, batch)
        want = reference_outputs(model, batch) if batch == 1 or name.endswith("mlp") else None
        if want is not None:
            assert set(fast) == set(want)
            for key in want:
                assert np.array_equal(fast[key], want[key]), f"{name} {key} batch {batch}"
        else:
            assert digest(fast) == reference_digest(name, batch)


@pytest.mark.parametrize("name", SHIPPED)
def test_engines_equal_the_reference_on_real_images_and_any_layout(name):
    from vaezip.datasets import load

    model = integer_model(name)
    images = load("sample-fashion" if name.startswith("fashion") else "sample")[:3].astype(np.int64)
    if model.config.n_values == 2:
        images = (images > 127).astype(np.int64)
    t = 2 * images[:, None] - (model.config.n_values - 1)
    want = ref.run(model.encoder, t)
    fast = engine.Engine(model.encoder, model.config.n_values - 1)
    contiguous = torch.from_numpy(t).float()
    with engine.exact_kernels():
        for x in (contiguous, contiguous.contiguous(memory_format=torch.channels_last)):
            assert np.array_equal(fast.run(x).double().numpy().astype(np.int64), want)
        assert np.array_equal(exact64.run(model.encoder, contiguous).numpy().astype(np.int64), want)


@pytest.mark.parametrize("threads", [1, 2])
def test_thread_count_does_not_change_a_bit(threads):
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for name in ("mnist", "mnist-bin"):
            assert digest(outputs(integer_model(name), 64)) == reference_digest(name, 64)
    finally:
        torch.set_num_threads(previous)


def test_a_layer_is_split_into_groups_only_as_its_bound_needs():
    from vaezip.models.integer.program import Op

    weight = np.full((1, 4, 1, 1), 1 << 10, dtype=np.int64)
    op = Op("conv", weight, np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), 100)
    low, high = np.full(4, -(1 << 12)), np.full(4, 1 << 12)  # each input channel alone: 2**22
    assert engine.exact_groups(op, low, high) == 2  # four together reach 2**24: not exact in float32
    assert engine.exact_groups(op, low // 2, high // 2) == 1
    assert engine.exact_groups(op, low * 8, high * 8) is None  # one channel alone is too much


def _probe_in_subprocess(env: dict, names: str, extra=()) -> dict:
    full = {**os.environ, **env, "PYTHONPATH": str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, str(HERE / "integer_probe.py"), names, "1", *extra],
                            capture_output=True, text=True, env=full, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def default_kernel_file(tmp_path_factory):
    """A file compressed here with the default kernels, and the images it holds."""
    from vaezip import api
    from vaezip.bench import to_pictures
    from vaezip.datasets import load

    directory = tmp_path_factory.mktemp("v3")
    images = load("sample")[40:56]
    data, _ = api.compress(to_pictures(images), model="mnist")
    (directory / "file.vz").write_bytes(data)
    np.save(directory / "images.npy", images)
    return directory


@pytest.mark.slow
@pytest.mark.parametrize("label", ENVIRONMENTS)
def test_other_kernels_in_a_fresh_process_give_the_same_integers(label, default_kernel_file):
    names = "mnist,mnist-bin,fashion-fact"
    report = _probe_in_subprocess(ENVIRONMENTS[label], names,
                                  (str(default_kernel_file / "file.vz"), str(default_kernel_file / "images.npy")))
    for name in names.split(","):
        for batch in ("1", "64"):
            assert report[name][batch] == reference_digest(name, int(batch)), f"{label}: {name} batch {batch}"
    assert report["decoded"] is True, f"{label}: a file compressed with the default kernels did not decode"


def test_inexact_kernels_fail_the_start_up_check_and_the_exact_engine_takes_over(monkeypatch):
    """A convolution that is not exact (as NNPACK's Winograd is) must never reach the coder."""
    import types

    import torch.nn.functional as F

    from vaezip.models.integer.adapter import IntegerLatentModel

    model = integer_model("mnist")
    broken = types.SimpleNamespace(conv2d=lambda *a, **k: F.conv2d(*a, **k) * (1 + 2**-20),
                                   conv_transpose2d=F.conv_transpose2d)
    monkeypatch.setattr(engine, "F", broken)  # the fast engine's kernels only
    coder = IntegerLatentModel(model, 20)
    assert coder.exact_fallback and isinstance(coder.encoder, engine.ExactEngine)
    pixels, _ = probe_inputs(model, 4)
    mu, sigma = coder.encode(pixels)
    t = (2 * pixels - 255)[:, None]
    want = ref.run(model.encoder, t)
    assert np.array_equal(np.rint(np.concatenate([mu, sigma], 1) * 2**16).astype(np.int64), want)
