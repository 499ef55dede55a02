"""Deterministic elementary functions: accuracy against exact values, and the
monotonicity on the snap grid that integer cumulative tables rely on."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from vaezip.codecs import detmath as dm


def test_exp_and_log_are_within_one_ulp_of_libm():
    rng = np.random.default_rng(0)
    for x in rng.uniform(-700, 700, 5000):
        assert abs(dm.exp_(x) - math.exp(x)) <= np.spacing(math.exp(x))
    for x in np.exp(rng.uniform(-700, 700, 5000)):
        assert abs(dm.log_(x) - math.log(x)) <= 2 * np.spacing(abs(math.log(x)))
    assert dm.exp_(-1000.0) == 0.0 and dm.log_(0.0) == -math.inf


@pytest.mark.parametrize("lo, hi, rel", [(-30, -10, 1e-12), (-10, -3, 1e-13), (-3, 3, 1e-14), (3, 9, 1e-15)])
def test_normal_cdf_accuracy(lo, hi, rel):
    mpmath.mp.dps = 40
    for t in np.random.default_rng(1).uniform(lo, hi, 400):
        exact = float(mpmath.ncdf(t))
        assert abs(dm.normal_cdf(t) - exact) <= rel * exact


def test_sigmoid_matches_exact():
    mpmath.mp.dps = 40
    for t in np.random.default_rng(2).uniform(-60, 60, 2000):
        exact = float(1 / (1 + mpmath.exp(-t)))
        assert abs(dm.sigmoid(t) - exact) <= 4 * np.spacing(exact)


def test_grid_functions_match_their_definitions():
    rng = np.random.default_rng(3)
    for t in rng.uniform(-60, 60, 3000):
        m = dm.snap_index(t, dm.SNAP_LIMIT)
        assert abs(m / 2**dm.SNAP_BITS - t) <= 2.0 ** -(dm.SNAP_BITS + 1)
        exact = dm.sigmoid(m / 2**dm.SNAP_BITS)
        assert abs(dm.sigmoid_grid(m) - exact) <= 2e-8
    mpmath.mp.dps = 30
    for t in rng.uniform(-dm.NORMAL_LIMIT, dm.NORMAL_LIMIT, 3000):
        m = dm.snap_index(t, dm.NORMAL_LIMIT)
        assert abs(dm.normal_cdf_grid(m) - float(mpmath.ncdf(m / 2**dm.SNAP_BITS))) < 2e-9


def test_snap_clamps_and_handles_nan():
    limit = int(dm.SNAP_LIMIT * 2**dm.SNAP_BITS)
    assert dm.snap_index(1e300, dm.SNAP_LIMIT) == limit
    assert dm.snap_index(-1e300, dm.SNAP_LIMIT) == -limit
    assert dm.snap_index(float("nan"), dm.SNAP_LIMIT) == 0


@pytest.mark.parametrize("name, limit", [("sigmoid_grid", dm.SNAP_LIMIT), ("normal_cdf_grid", dm.NORMAL_LIMIT)])
def test_grid_functions_never_decrease(name, limit):
    """Every grid point over the whole clamped range (strided by a prime to keep it quick),
    plus every point of a dense window: never decreasing."""
    fn = getattr(dm, name)
    top = int(limit * 2**dm.SNAP_BITS)
    _check_monotone(fn, np.arange(-top, top + 1, 97))
    _check_monotone(fn, np.arange(-300_000, 300_000))
    _check_monotone(fn, np.arange(top - 300_000, top + 1))


def _check_monotone(fn, grid):
    values = np.empty(grid.size)
    _eval(fn, grid, values)
    assert np.all(np.diff(values) >= 0)
    assert values[0] >= 0 and values[-1] <= 1


def _eval(fn, grid, out):
    # evaluated in a Python loop over a compiled scalar: fine for a test
    for i, m in enumerate(grid.tolist()):
        out[i] = fn(m)
