"""Codecs: model families (push/pop over per-symbol parameter arrays) and combinators.

See ``vaezip.codecs.base`` for the contract every family follows.
"""

from vaezip.codecs.base import Codec, Family, batch, repeat, serial
from vaezip.codecs.bernoulli import Bernoulli
from vaezip.codecs.betabinomial import BetaBinomial
from vaezip.codecs.categorical import Categorical
from vaezip.codecs.logistic import DiscretizedLogistic, LogisticMixture
from vaezip.codecs.uniform import Uniform

__all__ = [
    # combinators
    "Codec",
    "Family",
    "serial",
    "repeat",
    "batch",
    # families
    "Uniform",
    "Bernoulli",
    "Categorical",
    "BetaBinomial",
    "DiscretizedLogistic",
    "LogisticMixture",
]
