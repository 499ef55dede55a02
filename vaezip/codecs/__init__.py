"""Codecs: model families (push/pop over per-symbol parameter arrays) and combinators.

See ``vaezip.codecs.base`` for the contract every family follows.
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
