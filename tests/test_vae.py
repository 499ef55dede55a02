"""The networks: shapes, normalized likelihoods, causality and the exported head."""

import numpy as np
import pytest
import torch

from vaezip.models import vae
from vaezip.models.config import ARCHS, make_config, ModelConfigError, VAEConfig
from vaezip.models.head import causal_offsets, export_head, head_params_reference
from vaezip.models.likelihoods import bernoulli_log_prob, logistic_mixture_log_prob, mixture_pixel_params

torch.set_num_threads(1)

TINY = dict(height=8, width=8, channels=4, hidden=16, head_hidden=6, latent_dim=3)


def tiny_model(arch: str, **overrides) -> vae.VAE:
    torch.manual_seed(0)
    return vae.build_model(arch, **{**TINY, **overrides}).double().eval()


def random_pixels(model: vae.VAE, batch: int = 3, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, model.config.height, model.config.width)
    return torch.randint(0, model.config.n_values, shape, generator=generator)


def scale_parameters(model: vae.VAE, factor: float) -> None:
    """Larger weights, so that every unit and every term matters in the tests."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.mul_(factor)


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_every_arch_has_the_documented_interface(arch):
    model = tiny_model(arch)
    x = random_pixels(model)
    mu, sigma = model.encode(x)
    assert mu.shape == sigma.shape == (3, model.latent_dim)
    assert bool((sigma > 0).all())
    features = model.decode_features(mu)
    assert features.shape[0] == 3 and features.shape[2:] == (8, 8)
    params = model.head_params(features, x)
    assert params.shape == (3, model.n_params, 8, 8)
    log_prob = model.log_prob(params, x)
    assert log_prob.shape == (3, 8, 8) and bool((log_prob <= 0).all())
    assert torch.allclose(model.log_likelihood(x, mu), log_prob.flatten(1).sum(1))
    loss = model.neg_elbo(x, torch.Generator().manual_seed(1))
    assert loss.shape == (3,) and bool(torch.isfinite(loss).all())


def test_mlp_has_craystacks_size():
    model = vae.build_model("bernoulli-mlp")
    sizes = [layer.out_features for layer in model.encoder.net if isinstance(layer, torch.nn.Linear)]
    assert sizes == [100, 80] and model.latent_dim == 40


@pytest.mark.parametrize("n_values", [2, 16, 256])
def test_mixture_probabilities_sum_to_one(n_values):
    generator = torch.Generator().manual_seed(n_values)
    k, pixels = 3, 40
    params = torch.randn(pixels, 3 * k, 1, 1, generator=generator, dtype=torch.float64) * 3
    params[:4, 2 * k:] = -9.0  # scales below the clamp
    params[4:8, k:2 * k] = 5.0  # means far outside [-1, 1]
    values = torch.arange(n_values).view(1, n_values, 1)
    log_p = torch.stack([logistic_mixture_log_prob(params, values[:, v:v + 1, :].expand(
        pixels, 1, 1), k, n_values) for v in range(n_values)])
    assert torch.allclose(torch.logsumexp(log_p, dim=0), torch.zeros(pixels, 1, 1,
                                                                  dtype=torch.float64), atol=1e-12)
    assert bool(torch.isfinite(log_p).all())


def test_mixture_matches_the_documented_formula():
    params = torch.tensor([0.3, -0.2, 0.1, 0.7, -0.5, -2.0], dtype=torch.float64).view(1, 6, 1, 1)
    weights = torch.softmax(params[0, :2, 0, 0], 0)
    means, scales = params[0, 2:4, 0, 0], torch.exp(params[0, 4:6, 0, 0])
    for v in (0, 1, 100, 254, 255):
        u, h = v * 2 / 255 - 1, 1 / 255
        upper = torch.sigmoid((u + h - means) / scales) if v < 255 else torch.ones(2)
        lower = torch.sigmoid((u - h - means) / scales) if v > 0 else torch.zeros(2)
        expected = torch.log((weights * (upper - lower)).sum())
        got = logistic_mixture_log_prob(params, torch.tensor([[[v]]]), 2, 256)
        assert abs(got.item() - expected.item()) < 1e-12


def test_pixel_unit_parameters_give_the_same_probabilities():
    """What a coder in pixel units (bins [v - 0.5, v + 0.5]) rebuilds from the raw output."""
    generator = torch.Generator().manual_seed(2)
    k = 4
    params = torch.randn(6, 3 * k, 1, 1, generator=generator, dtype=torch.float64)
    params[:, 2 * k:] -= 2.0
    weights, means, scales = mixture_pixel_params(params[:, :, 0, 0].numpy(), k, 256)
    edges = np.concatenate([[-np.inf], np.arange(255) + 0.5, [np.inf]])
    with np.errstate(over="ignore"):
        cdf = 1.0 / (1.0 + np.exp(-(edges[None, None] - means[..., None]) / scales[..., None]))
    expected = np.log((weights[..., None] * np.diff(cdf, axis=-1)).sum(axis=1))  # (6, 256)
    values = torch.arange(256).view(1, 256, 1).expand(6, 256, 1)
    got = torch.stack([logistic_mixture_log_prob(params, values[:, v:v + 1], k, 256)
                       for v in range(256)], dim=1).view(6, 256).numpy()
    finite = expected > -30
    assert np.abs(got[finite] - expected[finite]).max() < 1e-8


def test_bernoulli_probability():
    logits = torch.tensor([-2.0, 0.0, 3.0], dtype=torch.float64).view(3, 1, 1, 1)
    ones = bernoulli_log_prob(logits, torch.ones(3, 1, 1, dtype=torch.long))
    zeros = bernoulli_log_prob(logits, torch.zeros(3, 1, 1, dtype=torch.long))
    assert torch.allclose(ones.exp() + zeros.exp(), torch.ones(3, 1, 1, dtype=torch.float64))
    assert torch.allclose(ones.exp().flatten(), torch.sigmoid(logits.flatten()))


def test_causal_offsets_are_raster_ordered_and_exclude_the_centre():
    offsets = causal_offsets(5)
    assert offsets.shape == (12, 2)
    assert offsets.tolist()[:5] == [[-2, -2], [-2, -1], [-2, 0], [-2, 1], [-2, 2]]
    assert offsets.tolist()[-2:] == [[0, -2], [0, -1]]
    assert causal_offsets(3).tolist() == [[-1, -1], [-1, 0], [-1, 1], [0, -1]]


@pytest.mark.parametrize("arch", ["logistic-ar", "bernoulli-ar"])
def test_head_reads_only_earlier_pixels(arch):
    model = tiny_model(arch)
    x = random_pixels(model, batch=1)
    features = model.decode_features(torch.randn(1, model.latent_dim, dtype=torch.float64))
    base = model.head_params(features, x)
    for i, j in [(0, 0), (3, 4), (7, 7)]:
        changed = x.clone()
        changed[0, i, j] = (changed[0, i, j] + 1) % model.config.n_values
        differs = (model.head_params(features, changed) != base).any(dim=1)[0]
        rows, cols = torch.nonzero(differs, as_tuple=True)
        assert all((r, c) > (i, j) for r, c in zip(rows.tolist(), cols.tolist()))


@pytest.mark.parametrize("arch", ["logistic-ar", "bernoulli-ar"])
def test_pixel_by_pixel_head_equals_the_masked_conv(arch):
    """Decompression's view: only pixels before (i, j) are known, the rest is garbage."""
    model = tiny_model(arch)
    x = random_pixels(model, batch=2)
    features = model.decode_features(torch.randn(2, model.latent_dim, dtype=torch.float64))
    full = model.head_params(features, x)
    garbage = random_pixels(model, batch=2, seed=7)
    known = garbage.clone()
    for i in range(8):
        for j in range(8):
            step = model.head_params(features, known)
            assert torch.equal(step[:, :, i, j], full[:, :, i, j])
            known[:, i, j] = x[:, i, j]


@pytest.mark.parametrize("arch,layers,kernel", [("logistic-ar", 1, 5), ("logistic-ar", 0, 3),
                                                ("logistic-ar", 2, 7), ("bernoulli-ar", 1, 5)])
def test_reference_head_agrees_with_torch(arch, layers, kernel):
    model = tiny_model(arch, head_layers=layers, kernel_size=kernel)
    scale_parameters(model, 3.0)
    generator = torch.Generator().manual_seed(3)
    features = torch.randn(2, 6, 8, 8, generator=generator, dtype=torch.float64) * 2
    x = random_pixels(model, batch=2, seed=5)
    expected = model.head_params(features, x).detach().numpy()
    weights = export_head(model)
    assert all(a.dtype == np.float64 for a in weights.values())
    assert weights["conv_w"].shape == (len(causal_offsets(kernel)), 6)
    assert weights["layer_w"].shape == (layers, 6, 6)
    got = head_params_reference(features.numpy(), x.numpy(), weights)
    assert np.abs(got - expected).max() <= 1e-9
    assert np.abs(expected).max() > 1.0  # the comparison is not trivially zero


def test_export_head_refuses_a_factorized_model():
    with pytest.raises(ValueError, match="factorized"):
        export_head(tiny_model("logistic"))


def test_factorized_model_ignores_pixels():
    model = tiny_model("logistic")
    features = model.decode_features(torch.zeros(1, 3, dtype=torch.float64))
    assert torch.equal(model.head_params(features, None), features)


def test_config_round_trip_and_errors():
    config = make_config("logistic-ar", latent_dim=40, mixtures=3)
    assert VAEConfig.from_dict(config.to_dict()) == config
    assert vae.model_from_config(config.to_dict()).config == config
    with pytest.raises(ModelConfigError, match="unknown arch"):
        make_config("nope")
    with pytest.raises(ModelConfigError, match="divisible by 4"):
        make_config("logistic", height=30)
    with pytest.raises(ModelConfigError, match="n_values"):
        make_config("bernoulli", n_values=256)
    with pytest.raises(ModelConfigError, match="override"):
        make_config("bernoulli", colour=True)
    with pytest.raises(ModelConfigError, match="unknown model config"):
        VAEConfig.from_dict({"colour": 1})


def test_float64_is_deterministic_across_batch_splits():
    model = tiny_model("logistic-ar")
    x = random_pixels(model, batch=4)
    z = torch.randn(4, 3, dtype=torch.float64)
    whole = model.log_likelihood(x, z)
    parts = torch.cat([model.log_likelihood(x[:1], z[:1]), model.log_likelihood(x[1:], z[1:])])
    assert torch.allclose(whole, parts, rtol=0, atol=1e-9)
