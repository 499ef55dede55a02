"""What a network is: ``VAEConfig`` (stored in the model zoo), the named archs, their checks.

Importing this module does not import torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

LIKELIHOODS = ("bernoulli", "logistic")
NETS = ("conv", "mlp")


class ModelConfigError(ValueError):
    """A model configuration that cannot be built."""


@dataclass(frozen=True)
class VAEConfig:
    """Everything needed to rebuild a network; stored in the model zoo."""

    likelihood: str = "logistic"
    head: bool = True
    net: str = "conv"
    height: int = 28
    width: int = 28
    n_values: int = 256
    latent_dim: int = 32
    channels: int = 32
    hidden: int = 100
    head_hidden: int = 32
    head_layers: int = 1
    kernel_size: int = 5
    mixtures: int = 5

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "VAEConfig":
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ModelConfigError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**data)


ARCHS: dict[str, dict] = {
    "bernoulli": dict(likelihood="bernoulli", head=False, net="conv", n_values=2),
    "bernoulli-ar": dict(likelihood="bernoulli", head=True, net="conv", n_values=2),
    "bernoulli-mlp": dict(likelihood="bernoulli", head=False, net="mlp", n_values=2,
                          latent_dim=40, hidden=100),
    "logistic": dict(likelihood="logistic", head=False, net="conv", n_values=256),
    "logistic-ar": dict(likelihood="logistic", head=True, net="conv", n_values=256),
}


def make_config(arch: str, **overrides) -> VAEConfig:
    """The config of ``arch`` with keyword overrides (e.g. latent_dim=40)."""
    if arch not in ARCHS:
        raise ModelConfigError(f"unknown arch {arch!r}; choose one of {sorted(ARCHS)}")
    config = VAEConfig(**ARCHS[arch])
    try:
        config = replace(config, **overrides)
    except TypeError as error:
        raise ModelConfigError(f"bad config override: {error}") from None
    check_config(config)
    return config


def check_config(config: VAEConfig) -> None:
    """Raise ModelConfigError if ``config`` cannot be built."""
    if config.likelihood not in LIKELIHOODS:
        raise ModelConfigError(f"likelihood must be one of {LIKELIHOODS}")
    if config.net not in NETS:
        raise ModelConfigError(f"net must be one of {NETS}")
    if config.likelihood == "bernoulli" and config.n_values != 2:
        raise ModelConfigError("a Bernoulli likelihood needs n_values = 2")
    if config.n_values < 2:
        raise ModelConfigError("n_values must be at least 2")
    if config.net == "conv" and (config.height % 4 or config.width % 4):
        raise ModelConfigError("the conv net needs height and width divisible by 4")
    if config.kernel_size < 3 or config.kernel_size % 2 == 0:
        raise ModelConfigError("kernel_size must be odd and at least 3")
    for name in ("latent_dim", "channels", "hidden", "head_hidden", "mixtures"):
        if getattr(config, name) < 1:
            raise ModelConfigError(f"{name} must be positive")
    if config.head_layers < 0:
        raise ModelConfigError("head_layers must be >= 0")
