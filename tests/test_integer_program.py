"""Integer programs: the bounds that make them exact, the model file, and conversion of every arch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import integer_reference as ref
from conftest import blobs
from vaezip.models.integer import engine, exact64, netfile
from vaezip.models.integer.convert import convert
from vaezip.models.integer.network import IntegerModel
from vaezip.models.integer.program import (
    EXACT_LIMIT, Op, Program, ProgramError, Table, check_bounds, input_bounds, sum_bounds,
)
from vaezip.models.vae import build_model

ARCHS = {
    "logistic-ar": dict(height=8, width=8, channels=4, head_hidden=4, latent_dim=3, mixtures=2),
    "logistic": dict(height=8, width=8, channels=4, latent_dim=3, mixtures=2),
    "bernoulli-ar": dict(height=8, width=8, channels=4, head_hidden=4, latent_dim=3),
    "bernoulli": dict(height=8, width=8, channels=4, latent_dim=3),
    "bernoulli-mlp": dict(height=8, width=8, hidden=16, latent_dim=3),
}


def tiny_integer(arch: str, seed: int = 0) -> IntegerModel:
    torch.manual_seed(seed)
    model = build_model(arch, **ARCHS[arch])
    images = blobs(48, 8, seed)
    if model.config.n_values == 2:
        images = (images > 127).astype(np.uint8)
    return convert(model, images)


def random_op(rng, kind: str, cin: int = 3, cout: int = 2) -> Op:
    shape = {"linear": (cout, cin), "conv": (cout, cin, 3, 3), "conv_transpose": (cin, cout, 4, 4)}[kind]
    return Op(kind, rng.integers(-50, 51, shape), rng.integers(-1000, 1001, cout), rng.integers(0, 8, cout), 10_000,
              stride=2 if kind == "conv_transpose" else 1, padding=1)


def test_the_bound_is_the_largest_partial_sum_over_every_subset_and_input():
    import itertools

    rng = np.random.default_rng(1)
    op = random_op(rng, "linear", cin=6, cout=3)
    low, high = -rng.integers(0, 40, 6), rng.integers(0, 40, 6)
    worst = np.zeros(3, dtype=np.int64)
    for corner in itertools.product(*zip(low, high)):
        terms = op.weight * np.array(corner)[None, :]
        for mask in itertools.product((0, 1), repeat=6):  # every subset: every order's partial sums are among them
            worst = np.maximum(worst, np.abs((terms * np.array(mask)[None, :]).sum(axis=1)))
    assert np.array_equal(worst, sum_bounds(op, low, high, with_bias=False))


@pytest.mark.parametrize("kind", ["conv", "conv_transpose"])
def test_no_convolution_sum_passes_its_bound(kind):
    rng = np.random.default_rng(2)
    op = random_op(rng, kind)
    low, high = -rng.integers(0, 40, 3), rng.integers(0, 40, 3)
    bound = sum_bounds(op, low, high, with_bias=False)
    sums = ref.conv if kind == "conv" else ref.conv_transpose
    for _ in range(10):
        x = rng.integers(low[None, :, None, None], high[None, :, None, None] + 1, (2, 3, 6, 6))
        extreme = np.where(rng.random((2, 3, 6, 6)) < 0.5, low[None, :, None, None], high[None, :, None, None])
        for inputs in (x, extreme):
            acc = sums(inputs, op.weight, op.stride, op.padding)
            assert (np.abs(acc).max(axis=(0, 2, 3)) <= bound).all()


def test_a_program_that_could_leave_the_exact_range_is_refused():
    weight = np.full((1, 1 << 12), 1 << 14, dtype=np.int64)  # 2**12 terms of 2**14 * 2**30
    op = Op("linear", weight, np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), 100)
    check_bounds(Program([op]), -(1 << 20), 1 << 20)  # 2**46: fine
    with pytest.raises(ProgramError, match="beyond the exact range 2\\^53"):
        check_bounds(Program([op]), -(1 << 30), 1 << 30)
    assert EXACT_LIMIT == 1 << 53


def test_malformed_programs_are_refused_with_a_reason():
    rng = np.random.default_rng(0)
    good = random_op(rng, "linear")
    bad_shift = Op("linear", good.weight, good.bias, np.full(2, 63), 10)
    with pytest.raises(ProgramError, match="shifts"):
        check_bounds(Program([bad_shift]), -5, 5)
    with pytest.raises(ProgramError, match="add without save"):
        input_bounds(Program([Op("add", limit=5)]), -5, 5)
    with pytest.raises(ProgramError, match="input channels"):
        check_bounds(Program([good]), np.zeros(5, dtype=np.int64), np.ones(5, dtype=np.int64))
    with pytest.raises(ProgramError, match="table 3 does not exist"):
        input_bounds(Program([Op("lut", table_of=np.array([3, 3, 3]))]), np.zeros(3), np.ones(3))


def test_table_ranges_are_exact():
    table = Table(low=-5, values=np.array([-9, -7, -3, -2, 0]), slope_shift=1, offset=4)
    for lo in range(-9, 5):
        for hi in range(lo, 6):
            values = table.apply(np.arange(lo, hi + 1))
            assert table.range(lo, hi) == (values.min(), values.max())


@pytest.mark.parametrize("arch", ARCHS)
def test_every_arch_converts_to_an_exact_network_the_engines_run_as_the_reference(arch):
    model = tiny_integer(arch)
    model.check()
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, model.config.n_values, (5, 8, 8))
    t = (2 * pixels - (model.config.n_values - 1))[:, None]
    latents = rng.choice(model.latent_table, (5, model.config.latent_dim))
    for program, x, bound in ((model.encoder, t, model.config.n_values - 1), (model.decoder, latents, model.latent_bound)):
        want = ref.run(program, x)
        with engine.exact_kernels():
            fast = engine.Engine(program, bound).run(torch.from_numpy(x).double()).double().numpy()
        assert np.array_equal(fast, want)
        assert np.array_equal(exact64.run(program, torch.from_numpy(x)).numpy(), want)
    if model.head is not None:
        from vaezip.models.integer.adapter import IntegerLatentModel

        features = ref.run(model.decoder, latents)
        numba = IntegerLatentModel(model).likelihood.params(pixels, features=features.astype(np.float32))
        assert np.array_equal(numba * 2**16, ref.head(model.head, model.config.n_values, features, pixels))
        torch_head = exact64.head(model.head, model.config.n_values, torch.from_numpy(features), torch.from_numpy(pixels))
        assert np.array_equal(torch_head.numpy(), numba * 2**16)


@pytest.mark.parametrize("arch", ["logistic-ar", "bernoulli-mlp"])
def test_the_model_file_round_trips_byte_for_byte(arch):
    model = tiny_integer(arch)
    data = netfile.dumps(model)
    again = netfile.loads(data)
    assert netfile.dumps(again) == data
    assert data[:8] == netfile.MAGIC
    assert netfile.dumps(tiny_integer(arch)) == data  # conversion is deterministic


def test_a_damaged_model_file_is_refused_or_still_exact():
    data = netfile.dumps(tiny_integer("logistic-ar"))
    rng = np.random.default_rng(3)
    for cut in sorted({0, 5, 9, 14, len(data) - 1, *rng.integers(0, len(data), 30).tolist()}):
        with pytest.raises((netfile.NetFileError, ProgramError)):
            netfile.loads(data[:cut])
    for position in rng.integers(0, len(data), 60):
        damaged = bytearray(data)
        damaged[position] ^= 0x5A
        try:
            model = netfile.loads(bytes(damaged))
        except (netfile.NetFileError, ProgramError):
            continue
        model.check()  # a change of a weight's value: still a valid, exact network (the sha256 tells it apart)
    with pytest.raises(netfile.NetFileError, match="bytes after"):
        netfile.loads(data + b"\0")


def test_weights_that_could_overflow_are_refused_when_loaded():
    model = tiny_integer("logistic")
    op = next(op for op in model.encoder.ops if op.kind == "conv")
    op.weight = op.weight * (1 << 28)
    data = netfile.dumps(model)
    with pytest.raises(ProgramError, match="exact range|below 2\\^31"):
        netfile.loads(data)


def test_the_latent_table_is_the_bucket_centres_rounded_at_50_digits():
    import mpmath

    from vaezip.models.integer.network import latent_table

    mpmath.mp.dps = 50
    bits, frac = 12, 12
    table = latent_table(bits, frac)
    for k in range(1 << bits):
        exact = mpmath.sqrt(2) * mpmath.erfinv(2 * (k + mpmath.mpf(1) / 2) / (1 << bits) - 1) * (1 << frac)
        assert table[k] == int(mpmath.floor(exact + mpmath.mpf(1) / 2)), k
        assert abs(exact - mpmath.floor(exact) - mpmath.mpf(1) / 2) > 1e-6  # no centre sits near a tie
