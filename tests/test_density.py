"""Density estimates against models whose −log q(x) is known exactly."""

import math

import numpy as np
import pytest
import torch

from vaezip.models import density, vae

torch.set_num_threads(1)
LOG_2 = math.log(2.0)


class LinearGaussian:
    """z ~ N(0, I_2), x = A z + b + N(0, s^2 I_4): q(x) = N(b, A A^T + s^2 I) exactly.

    The encoder is deliberately off (mean shifted by half a posterior std,
    sigma inflated), so the ELBO is loose and importance sampling has work to do.
    """

    def __init__(self):
        generator = torch.Generator().manual_seed(0)
        self.A = torch.randn(4, 2, generator=generator, dtype=torch.float64)
        self.b = torch.randn(4, generator=generator, dtype=torch.float64)
        self.s = 0.5
        precision = torch.eye(2, dtype=torch.float64) + self.A.T @ self.A / self.s**2
        self.post_cov = torch.linalg.inv(precision)

    def exact_posterior(self, x):
        flat = x.reshape(x.shape[0], 4)
        return (flat - self.b) @ self.A @ self.post_cov.T / self.s**2

    def encode(self, x):
        std = torch.sqrt(torch.diagonal(self.post_cov))
        mu = self.exact_posterior(x) + 0.5 * std
        return mu, (1.3 * std).expand_as(mu)

    def log_likelihood(self, x, z):
        flat = x.reshape(x.shape[0], 4)
        mean = z @ self.A.T + self.b
        return (-0.5 * ((flat - mean) / self.s) ** 2 - math.log(self.s)
                - 0.5 * math.log(2 * math.pi)).sum(dim=1)

    def exact_log_q(self, x):
        flat = x.reshape(x.shape[0], 4)
        cov = self.A @ self.A.T + self.s**2 * torch.eye(4, dtype=torch.float64)
        return torch.distributions.MultivariateNormal(self.b, cov).log_prob(flat)

    def exact_elbo(self, x):
        """E_{N(mu, diag sigma^2)}[log q(x|z)] − KL, in closed form."""
        mu, sigma = self.encode(x)
        flat = x.reshape(x.shape[0], 4)
        residual = flat - mu @ self.A.T - self.b
        trace = (self.A.square() * sigma[:1].square()).sum()
        expected_log_like = (-0.5 * (residual.square().sum(1) + trace) / self.s**2
                             - 4 * math.log(self.s) - 2 * math.log(2 * math.pi))
        return expected_log_like - vae.kl_standard_normal(mu, sigma)


class BinaryOneLatent:
    """Four binary pixels, one latent: q(x_i = 1 | z) = sigmoid(a_i z + c_i).

    q(x) is an integral over one dimension, computed by quadrature on a fine
    grid (error far below the tolerances); the posterior is a Gaussian fitted
    to the exact one, widened.
    """

    a = torch.tensor([2.0, -1.5, 1.0, 3.0], dtype=torch.float64)
    c = torch.tensor([0.5, 0.0, -1.0, 0.2], dtype=torch.float64)
    grid = torch.linspace(-12, 12, 48001, dtype=torch.float64)

    def log_likelihood(self, x, z):
        logits = z.reshape(-1, 1) * self.a + self.c
        bits = x.reshape(x.shape[0], 4).to(torch.float64)
        return (bits * torch.nn.functional.logsigmoid(logits)
                + (1 - bits) * torch.nn.functional.logsigmoid(-logits)).sum(1)

    def joint_on_grid(self, image):
        x = image.reshape(1, 4).expand(self.grid.numel(), 4)
        return self.log_likelihood(x, self.grid) - 0.5 * self.grid**2 - 0.5 * math.log(2 * math.pi)

    def exact_log_q(self, x):
        step = float(self.grid[1] - self.grid[0])
        return torch.stack([torch.logsumexp(self.joint_on_grid(im), 0) + math.log(step)
                            for im in x])

    def encode(self, x):
        mus, sigmas = [], []
        for image in x:
            weights = torch.softmax(self.joint_on_grid(image), 0)
            mean = (weights * self.grid).sum()
            mus.append(mean)
            sigmas.append(((weights * (self.grid - mean) ** 2).sum()).sqrt() * 1.3)
        return torch.stack(mus)[:, None], torch.stack(sigmas)[:, None]


def test_linear_gaussian_importance_sampling_converges_to_exact():
    model = LinearGaussian()
    x = torch.randn(6, 2, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    exact_bits = -model.exact_log_q(x).numpy() / LOG_2
    elbo_bits = -model.exact_elbo(x).numpy() / LOG_2
    result = density.estimate(model, x, n_samples=20000, batch_size=4, seed=0, max_rows=5000)
    assert result.n_dims == 4 and result.is_bits.shape == (6,)
    # tolerances: about 3 standard deviations of the Monte Carlo error at K = 20000
    assert np.abs(result.is_bits - exact_bits).max() < 0.03
    assert abs(result.is_bpd - exact_bits.mean() / 4) < 0.005
    assert np.all(elbo_bits > exact_bits + 0.5)  # the ELBO is genuinely loose here
    assert np.abs(result.neg_elbo_bits - elbo_bits).max() < 0.15
    assert np.all(result.neg_elbo_bits > exact_bits + 0.3)


def test_few_samples_are_worse_than_many():
    model = LinearGaussian()
    x = torch.randn(40, 2, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    exact_bpd = float(-model.exact_log_q(x).mean()) / LOG_2 / 4
    one = density.estimate(model, x, n_samples=1, seed=0)
    many = density.estimate(model, x, n_samples=2000, seed=0)
    assert one.is_bpd > many.is_bpd + 0.01
    assert abs(many.is_bpd - exact_bpd) < 0.005


def test_enumerable_binary_model():
    model = BinaryOneLatent()
    images = torch.tensor([[b >> 3 & 1, b >> 2 & 1, b >> 1 & 1, b & 1] for b in range(16)])
    images = images.reshape(16, 2, 2)
    exact = model.exact_log_q(images)
    assert abs(float(torch.logsumexp(exact, 0))) < 1e-9  # the 16 images sum to 1
    exact_bits = -exact.numpy() / LOG_2
    result = density.estimate(model, images, n_samples=20000, batch_size=16, seed=0)
    assert np.abs(result.is_bits - exact_bits).max() < 0.02
    assert np.all(result.neg_elbo_bits >= exact_bits)
    assert result.neg_elbo_bpd > result.is_bpd


def test_seeded_and_independent_of_chunking():
    torch.manual_seed(0)
    model = vae.build_model("logistic-ar", height=8, width=8, channels=4, head_hidden=4,
                            latent_dim=3).double().eval()
    images = np.random.default_rng(0).integers(0, 256, (5, 8, 8), dtype=np.uint8)
    first = density.estimate(model, images, n_samples=20, batch_size=2, seed=3, max_rows=7)
    again = density.estimate(model, images, n_samples=20, batch_size=2, seed=3, max_rows=7)
    chunked = density.estimate(model, images, n_samples=20, batch_size=2, seed=3, max_rows=1000)
    other = density.estimate(model, images, n_samples=20, batch_size=2, seed=4)
    assert np.array_equal(first.is_bits, again.is_bits)
    assert np.allclose(first.is_bits, chunked.is_bits, rtol=0, atol=1e-9)
    assert np.allclose(first.neg_elbo_bits, chunked.neg_elbo_bits, rtol=0, atol=1e-9)
    assert not np.array_equal(first.is_bits, other.is_bits)
    assert np.all(first.is_bits <= first.neg_elbo_bits + 1.0)
    summary = first.summary()
    assert summary["importance_samples"] == 20 and summary["images"] == 5


def test_rejects_zero_samples():
    with pytest.raises(ValueError, match="n_samples"):
        density.estimate(LinearGaussian(), np.zeros((1, 2, 2)), n_samples=0)
