"""The coders of one archive's streams: VAE pictures with bits-back, per-tile pictures, model-free
planes, and stored PNG files; built once per archive and shared by its streams."""

from __future__ import annotations

import numpy as np

from vaezip import format as vz
from vaezip.images import Picture
from vaezip.pipeline.settings import LATENT_BITS, LIKELIHOOD_PRECISION, POSTERIOR_PRECISION, CodingError


def _latent_model(info, version: int):
    """``(bits-back model, sha256 the header names)`` of zoo entry ``info`` for a file of ``version``.

    Version 3 codes with the integer network (exact on every machine); version 1 ran the float32
    networks in torch's default (contiguous) memory format and version 2 channels-last: other
    float32 kernels, so other grid values, decodable only on machines like the writer's.
    """
    if version >= 3:
        return _integer_model(info), bytes.fromhex(info.integer_sha256)
    from vaezip.models import zoo
    from vaezip.models.adapter import TorchLatentModel

    model = TorchLatentModel(zoo.load_model(info.name, info=info), LIKELIHOOD_PRECISION, channels_last=version >= 2)
    return model, bytes.fromhex(info.sha256)


_INTEGER_MODELS: dict = {}


def _integer_model(info):
    """The integer network of ``info`` as a bits-back model, built once per process (its load,
    checks and engine start-up check cost a fraction of a second); the file's sha256 is checked
    every time."""
    from vaezip.models import zoo
    from vaezip.models.integer.adapter import IntegerLatentModel

    zoo.verified_path(info, integer=True)
    key = (str(zoo.models_dir()), info.name, info.integer_sha256)
    if key not in _INTEGER_MODELS:
        _INTEGER_MODELS[key] = IntegerLatentModel(zoo.load_integer(info.name, info=info), LIKELIHOOD_PRECISION)
    return _INTEGER_MODELS[key]


class Coders:
    """The model side of one archive: bits-back pieces, built once and shared by the streams."""

    def __init__(self, model_name: str, batch_size: int, particles: int = 1, coupled: bool = True,
                 version: int = vz.FORMAT_VERSION, info=None):
        self.batch_size = batch_size
        self.particles = particles
        self.coupled = coupled
        self.model_name = model_name
        self.version = version
        self.latent = None  # the VAE's latent codec; model-free archives never import the VAE families
        self.model = None
        self.sha256 = bytes(32)
        self.progress = None  # called with the VAE pictures done, batch by batch (not tiles)
        if model_name != vz.MODEL_FREE:
            from vaezip.codecs import GaussianLatent
            from vaezip.models import zoo

            self.latent = GaussianLatent(LATENT_BITS, POSTERIOR_PRECISION)
            # info: the weights a file names (current or retired); None: the current ones
            self.info = info or zoo.get_info(model_name)
            self.model, self.sha256 = _latent_model(self.info, version)

    # model-free pictures: planes through the adaptive coder, or the PNG bytes as they are
    @staticmethod
    def push_planar(msg, picture: Picture) -> None:
        from vaezip.codecs.planar import Planar

        planes = picture.planes()
        for c in range(planes.shape[0] - 1, -1, -1):
            Planar(picture.bit_depth).push(msg, planes[c])

    @staticmethod
    def pop_planar(msg, height: int, width: int, channels: int, bit_depth: int) -> np.ndarray:
        from vaezip.codecs.planar import Planar

        planes = [Planar(bit_depth).pop(msg, shape=(height, width)) for _ in range(channels)]
        return np.stack(planes, axis=-1)

    @staticmethod
    def push_stored(msg, blob: bytes) -> None:
        """A PNG file's bytes: its length as two 16-bit symbols, then the bytes, 8 bits each."""
        from vaezip.codecs import Uniform

        Uniform(256).push(msg, np.frombuffer(blob, dtype=np.uint8))
        Uniform(1 << 16).push(msg, np.array([len(blob) >> 16, len(blob) & 0xFFFF]))

    @staticmethod
    def pop_stored(msg) -> bytes:
        from vaezip.codecs import Uniform

        high, low = Uniform(1 << 16).pop(msg, (2,))
        size = (int(high) << 16) | int(low)
        if size > 4 * msg.length + 8:
            raise CodingError("a stored PNG declares more bytes than its stream holds: corrupt file")
        return Uniform(256).pop(msg, (size,)).astype(np.uint8).tobytes()

    # per-tile pictures: the model-free tiles first (popped last), then the VAE tiles with bits-back
    def push_tiles(self, msg, picture: Picture, tile_coders: bytes) -> None:
        from vaezip.codecs.planar import Planar
        from vaezip.images.tiling import split

        tiles = split(picture.pixels[:, :, 0], self.tile_bounds(picture.height, picture.width, tile_coders))
        for k in range(len(tiles) - 1, -1, -1):
            if tile_coders[k] == vz.CODER_MODEL_FREE:
                Planar(picture.bit_depth).push(msg, np.ascontiguousarray(tiles[k]))
        vae = [tiles[k] for k in range(len(tiles)) if tile_coders[k] == vz.CODER_VAE]
        self.push_vae(msg, np.stack(vae).astype(np.int64), [0.0] * len(vae), report=False)

    def pop_tiles(self, msg, height: int, width: int, bit_depth: int, tile_coders: bytes) -> np.ndarray:
        from vaezip.codecs.planar import Planar
        from vaezip.images.tiling import assemble

        bounds = self.tile_bounds(height, width, tile_coders)
        vae = iter(self.pop_vae(msg, tile_coders.count(vz.CODER_VAE), report=False))
        free = [None if c == vz.CODER_VAE else Planar(bit_depth).pop(msg, shape=(b - t, r - l))
                for c, (t, b, l, r) in zip(tile_coders, bounds)]
        tiles = [next(vae) if c == vz.CODER_VAE else tile for c, tile in zip(tile_coders, free)]
        return assemble(tiles, bounds, height, width)[:, :, None]

    def tile_bounds(self, height: int, width: int, tile_coders: bytes) -> list[tuple[int, int, int, int]]:
        """The tiling rule's tiles, after checking ``tile_coders`` fits them (a corrupt file otherwise)."""
        from vaezip.images.tiling import is_full, tile_bounds

        tile_height, tile_width = self.model.shape
        bounds = tile_bounds(height, width, tile_height, tile_width)
        if len(bounds) != len(tile_coders) or vz.CODER_VAE not in tile_coders or any(
            c == vz.CODER_VAE and not is_full(b, tile_height, tile_width) for c, b in zip(tile_coders, bounds)
        ):
            raise CodingError("the tile coders of an image do not fit its tiles: corrupt file")
        return bounds

    # VAE pictures, with bits-back
    def push_vae(self, msg, images: np.ndarray, sizes: list[float], report: bool = True) -> None:
        """Push ``images`` (N, H, W) with bits-back; their bits to ``sizes``; ``report``: tell ``progress``."""
        from vaezip.codecs.bitsback import push_stream

        shares = np.zeros(len(images))
        push_stream(msg, images, self.model, self.latent, self.batch_size, self.particles,
                    coupled=self.coupled, sizes=shares, done=self.progress if report else None)
        sizes[:] = shares.tolist()

    def pop_vae(self, msg, count: int, report: bool = True) -> np.ndarray:
        """``count`` images (count, H, W), uint8 (the zoo's models have 1- or 8-bit pixels)."""
        from vaezip.codecs.bitsback import pop_stream

        return pop_stream(msg, count, self.model, self.latent, self.batch_size, self.particles,
                          coupled=self.coupled, dtype=np.uint8, done=self.progress if report else None)
