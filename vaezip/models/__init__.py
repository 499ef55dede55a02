"""Models: the networks, how they are trained, the zoo of trained weights, and their use for coding.

- ``config``: what a network is (``VAEConfig``, the named archs); no torch.
- ``layers``, ``likelihoods``, ``head``, ``vae``: the PyTorch networks (the
  encoder and decoder, q(x|z) in torch, the causal head and its plain
  reference, the ``VAE`` with the interface a coder calls).
- ``train``: ``vaezip train``, from a data set to weights, card and registry.
- ``zoo``: the registry of trained weights, verified on every load; no torch
  until a model is loaded.
- ``density``: −ELBO and importance-sampled −log q(x) estimates.
- ``adapter``: a zoo VAE as a bits-back ``LatentModel`` (numpy in, numpy out).

Imports point one way: models use ``vaezip.codecs`` (and ``vaezip.rans``
through it) and, for training, ``vaezip.datasets``; nothing here knows the
.vz format. Importing this package imports neither torch nor numba.
"""
