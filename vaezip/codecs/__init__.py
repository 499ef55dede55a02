"""Codecs: model families (push/pop over per-symbol parameter arrays) and combinators.

See ``vaezip.codecs.base`` for the contract every family follows. One module
per family holds its cumulative function, its search and its kernels; the
loops those kernels run (push, pop, interval) are written once in ``loops``
and inlined into each kernel, which keeps numba's disk cache (a shared loop
taking the family's function as an argument, or kernels made by a closure
factory, were compiled again in every process). ``bitsback``
composes the families into BB-ANS, BB-IS and BB-CIS; ``detmath`` is the
machine-independent math; ``planar/`` the model-free coder. Only numpy,
numba and ``vaezip.rans`` are imported.
"""

from vaezip.codecs.autoregressive import AutoregressiveBernoulli, AutoregressiveMixture
from vaezip.codecs.base import Codec, Family, batch, repeat, serial
from vaezip.codecs.bernoulli import Bernoulli
from vaezip.codecs.betabinomial import BetaBinomial
from vaezip.codecs.categorical import Categorical
from vaezip.codecs.gaussian import DiscretizedGaussian, GaussianLatent
from vaezip.codecs.logistic import DiscretizedLogistic, LogisticMixture
from vaezip.codecs.planar import Planar
from vaezip.codecs.uniform import Uniform, UniformBelow
from vaezip.codecs.bitsback import LatentModel, pop_batch, pop_stream, push_batch, push_stream

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
