"""Codecs: model families (push/pop over per-symbol parameter arrays) and combinators.

See ``vaezip.codecs.base`` for the contract every family follows. One module
per family holds its cumulative function, its search and its kernels; the
loops those kernels run (push, pop, interval) are written once in ``loops``
and inlined into each kernel, which keeps numba's disk cache (a shared loop
taking the family's function as an argument, or kernels made by a closure
factory, were compiled again in every process). ``bitsback``
composes the families into BB-ANS, BB-IS and BB-CIS; ``detmath`` is the
machine-independent math; ``planar/`` the model-free coder. Only numpy,
numba and ``vaezip.rans`` are imported, each family's module when one of
its names is first used.
"""

import importlib

# name -> the module (under vaezip.codecs) that defines it; imported on first use (PEP 562), so
# that a file coded model-free never imports, nor compiles, the VAE families (detmath's tables)
_HOMES = {
    "AutoregressiveBernoulli": "autoregressive", "AutoregressiveMixture": "autoregressive",
    "Codec": "base", "Family": "base", "batch": "base", "repeat": "base", "serial": "base",
    "Bernoulli": "bernoulli", "BetaBinomial": "betabinomial", "Categorical": "categorical",
    "DiscretizedGaussian": "gaussian", "GaussianLatent": "gaussian",
    "DiscretizedLogistic": "logistic", "LogisticMixture": "logistic", "Planar": "planar",
    "Uniform": "uniform", "UniformBelow": "uniform",
    "LatentModel": "bitsback", "pop_batch": "bitsback", "pop_stream": "bitsback",
    "push_batch": "bitsback", "push_stream": "bitsback",
}

__all__ = [
    # combinators
    "Codec",
    "Family",
    "serial",
    "repeat",
    "batch",
    # families
    "Uniform",
    "UniformBelow",
    "Bernoulli",
    "Categorical",
    "BetaBinomial",
    "DiscretizedLogistic",
    "LogisticMixture",
    "DiscretizedGaussian",
    "GaussianLatent",
    "AutoregressiveMixture",
    "AutoregressiveBernoulli",
    "Planar",
    # bits-back
    "LatentModel",
    "push_batch",
    "pop_batch",
    "push_stream",
    "pop_stream",
]


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'vaezip.codecs' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"vaezip.codecs.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
