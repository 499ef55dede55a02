"""compress/decompress through the api: VAE and model-free pictures, model choice,
wrong weights, and every PNG kind."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from conftest import blobs, make_zoo
from vaezip import api
from vaezip import format as vz
from vaezip.images import Picture, from_array
from vaezip.models import zoo
from vaezip.pipeline import encoding, plan


def pictures_of(images, mode=None, prefix="img"):
    return [from_array(im, mode=mode, name=f"{prefix}{i}.png") for i, im in enumerate(images)]


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x == y and x.name == y.name


@pytest.mark.parametrize("count, batch_size, streams", [(1, 4, 1), (9, 4, 1), (37, 4, 3), (20, 64, 2)])
def test_vae_round_trip(tiny_zoo, count, batch_size, streams):
    pictures = pictures_of(blobs(count))
    data, report = api.compress(pictures, model="tiny", batch_size=batch_size, streams=streams)
    assert report.model == "tiny" and {p.coder for p in report.pictures} == {"vae"}
    assert report.streams == min(streams, count)
    assert_same(api.decompress(data), pictures)
    assert abs(sum(p.bits for p in report.pictures) - 8 * len(data)) < 1e-6 * len(data) + 1e-6


@pytest.mark.parametrize("model", ["tiny-fact", "tiny-bin"])
def test_other_likelihoods_round_trip(tiny_zoo, model):
    images = blobs(11)
    mode = None
    if model == "tiny-bin":
        images, mode = (images > 100).astype(np.uint8), "1"
    pictures = pictures_of(images, mode=mode)
    data, report = api.compress(pictures, model=model, batch_size=4)
    assert {p.coder for p in report.pictures} == {"vae"}
    assert_same(api.decompress(data), pictures)


def every_kind_of_picture():
    rng = np.random.default_rng(5)
    return [
        from_array(rng.integers(0, 256, (1, 1), dtype=np.uint8), name="one.png"),
        from_array(rng.integers(0, 256, (1, 4096), dtype=np.uint8), name="row.png"),
        from_array(rng.integers(0, 256, (33, 17, 3), dtype=np.uint8), name="rgb.png"),
        from_array(rng.integers(0, 256, (9, 8, 4), dtype=np.uint8), name="rgba.png"),
        from_array(rng.integers(0, 256, (9, 8, 2), dtype=np.uint8), name="la.png"),
        from_array(rng.integers(0, 65536, (7, 5), dtype=np.uint16), name="gray16.png"),
        from_array(rng.integers(0, 65536, (6, 6, 4), dtype=np.uint16), name="rgba16.png"),
        from_array(rng.integers(0, 2, (13, 40)).astype(bool), name="bits.png"),
        Picture(rng.integers(0, 5, (8, 8, 1)).astype(np.uint8), "P",
                rng.integers(0, 256, (5, 4)).astype(np.uint8), "pal.png", 4),
        Picture(rng.integers(0, 256, (4, 4, 1)).astype(np.uint8), "L", None, "key.png", 8, (17,)),
    ]


def test_every_kind_of_png_round_trips_beside_vae_pictures(tiny_zoo):
    pictures = pictures_of(blobs(5)) + every_kind_of_picture() + pictures_of(blobs(3, seed=1), prefix="b")
    data, report = api.compress(pictures, model="tiny", batch_size=2)
    coders = [p.coder for p in report.pictures]
    assert coders[:5] == coders[-3:] + ["vae"] * 2 == ["vae"] * 5
    assert set(coders[5:-3]) <= {"model-free", "stored-png"}
    back = api.decompress(data)
    assert_same(back, pictures)
    assert back[5 + 8].png_bit_depth == 4 and back[5 + 9].transparency == (17,)


def test_model_free_archive_needs_no_zoo(monkeypatch, tmp_path):
    monkeypatch.setenv(zoo.ENV_MODELS, str(tmp_path / "empty"))
    pictures = every_kind_of_picture()
    data, report = api.compress(pictures)
    assert report.model == vz.MODEL_FREE
    assert_same(api.decompress(data), pictures)


def test_model_choice_rule(tiny_zoo, monkeypatch):
    grey = pictures_of(blobs(3))
    binary = pictures_of((blobs(3) > 100).astype(np.uint8), mode="1")
    other = [from_array(np.zeros((5, 5), dtype=np.uint8))]
    assert api.choose_model(binary + other) == "tiny-bin"
    assert api.choose_model(other) == vz.MODEL_FREE
    assert api.choose_model(grey, model="tiny-fact") == "tiny-fact"
    # two 8-bit models fit: the lower -ELBO wins
    scores = {"tiny": 5.0, "tiny-fact": 3.0}
    monkeypatch.setattr(plan, "_quick_neg_elbo", lambda info, pics, tiles=False: scores[info.name])
    assert api.choose_model(grey) == "tiny-fact"
    scores["tiny"] = 1.0
    assert api.choose_model(grey) == "tiny"
    # no exact fit: the models that can tile the most pictures (8-bit 9x12 and 16x8 grey: 8x8 tiles)
    big = [from_array(np.zeros(shape, dtype=np.uint8)) for shape in ((9, 12), (16, 8))]
    assert api.choose_model(big + other) == "tiny"
    assert api.choose_model([from_array(np.zeros((7, 30), dtype=np.uint8))]) == vz.MODEL_FREE  # no full tile
    with pytest.raises(zoo.ModelError):
        api.choose_model(grey, model="no-such-model")


def test_estimates_are_reported_and_route_pictures(tiny_zoo):
    pictures = pictures_of(blobs(6))
    data, report = api.compress(pictures, model="tiny", estimate_samples=4)
    for p in report.pictures:
        if p.coder == "vae":
            assert p.neg_elbo_bits > 0 and p.is_bits > 0
    assert report.estimate_samples == 4
    assert_same(api.decompress(data), pictures)


def test_wrong_weights_are_refused_by_name(tiny_zoo_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(zoo.ENV_MODELS, str(tiny_zoo_dir))
    pictures = pictures_of(blobs(4))
    data, _ = api.compress(pictures, model="tiny")
    other = make_zoo(tmp_path / "other", names=("tiny",), seed=99)  # same name, other weights
    monkeypatch.setenv(zoo.ENV_MODELS, str(other))
    with pytest.raises(api.CodingError, match="other weights of model 'tiny'"):
        api.decompress(data)
    monkeypatch.setenv(zoo.ENV_MODELS, str(tmp_path / "empty"))
    with pytest.raises(api.CodingError, match="not in this vaezip's model zoo"):
        api.decompress(data)


def test_retired_weights_still_decode_their_files(tmp_path, monkeypatch):
    import shutil

    from vaezip import format as vz

    directory = make_zoo(tmp_path / "zoo", names=("tiny",), seed=0)
    monkeypatch.setenv(zoo.ENV_MODELS, str(directory))
    pictures = pictures_of(blobs(4))
    old_data, _ = api.compress(pictures, model="tiny")
    old = zoo.get_info("tiny")
    # retrain: retire the current weights, register others under the same name
    retired = zoo.retire_model("tiny")
    assert retired == old and zoo.read_registry() == {}
    assert [info.sha256 for info in zoo.read_retired()["tiny"]] == [old.sha256]
    with pytest.raises(zoo.ModelError):
        api.choose_model(pictures, model="tiny")  # retired weights are never used to compress
    new_dir = make_zoo(tmp_path / "new", names=("tiny",), seed=99)
    new = zoo.read_registry(new_dir)["tiny"]
    shutil.copy(new_dir / new.file, directory / new.file)
    shutil.copy(new_dir / new.integer["file"], directory / new.integer["file"])
    zoo.register_model(new, directory)
    assert zoo.get_info("tiny") == new and zoo.read_retired()["tiny"] == [old]
    assert [m.name for m in zoo.list_models()] == ["tiny"]
    new_data, _ = api.compress(pictures, model="tiny")
    assert vz.read(new_data).header.model_sha256 != vz.read(old_data).header.model_sha256
    assert_same(api.decompress(old_data), pictures)  # the retired weights, found by the header
    assert_same(api.decompress(new_data), pictures)
    # weights in neither place are refused
    (directory / old.file).unlink()
    (directory / old.integer["file"]).unlink()  # version 3 files name the integer network
    with pytest.raises(zoo.ModelError, match="'tiny': weight file .* is missing"):
        api.decompress(old_data)
    third = make_zoo(tmp_path / "third", names=("tiny",), seed=7)
    monkeypatch.setenv(zoo.ENV_MODELS, str(third))
    with pytest.raises(api.CodingError, match="other weights of model 'tiny'"):
        api.decompress(old_data)


def test_retiring_twice_keeps_one_entry_and_unknown_names_fail(tmp_path):
    directory = make_zoo(tmp_path / "zoo", names=("tiny",), seed=0)
    info = zoo.get_info("tiny", directory)
    zoo.retire_model("tiny", directory)
    zoo.register_model(info, directory)
    zoo.retire_model("tiny", directory)
    assert zoo.read_retired(directory) == {"tiny": [info]}
    with pytest.raises(zoo.ModelError, match="nothing to retire"):
        zoo.retire_model("tiny", directory)
    assert zoo.find_weights("tiny", lambda sha: sha == info.sha256, directory) == info
    with pytest.raises(zoo.ModelError, match="no weights of model 'tiny' match"):
        zoo.find_weights("tiny", lambda sha: False, directory)
    with pytest.raises(zoo.ModelError, match="unknown model"):
        zoo.find_weights("other", lambda sha: True, directory)


def test_a_weight_differing_by_one_value_is_refused(tiny_zoo_dir, tmp_path, monkeypatch):
    import shutil

    import torch

    copy = tmp_path / "zoo"
    shutil.copytree(tiny_zoo_dir, copy)
    monkeypatch.setenv(zoo.ENV_MODELS, str(copy))
    data, _ = api.compress(pictures_of(blobs(4)), model="tiny")
    info = zoo.get_info("tiny")
    weights = torch.load(copy / info.file, weights_only=True)
    key = next(iter(weights))
    weights[key].view(-1)[0] += 1e-6
    from vaezip.models.train import save_weights

    path, digest = save_weights(weights, "tiny", copy)
    zoo.register_model(zoo.ModelInfo("tiny", info.arch, info.config, path.name, digest), copy)
    with pytest.raises(api.CodingError, match="other weights"):
        api.decompress(data)


def test_compress_is_deterministic_and_independent_of_batching_elsewhere(tiny_zoo):
    pictures = pictures_of(blobs(10))
    first, _ = api.compress(pictures, model="tiny", batch_size=4)
    again, _ = api.compress(pictures, model="tiny", batch_size=4)
    assert first == again


def test_empty_and_bad_requests(tiny_zoo):
    with pytest.raises(api.CodingError, match="nothing to compress"):
        api.compress([])
    with pytest.raises(api.CodingError, match="batch size"):
        api.compress(pictures_of(blobs(1)), batch_size=0)


def test_no_picture_costs_much_more_than_its_png(tiny_zoo):
    """The bound: a model-free picture costs at most its PNG + 48 bytes; the file adds a
    fixed header (< 160 bytes here). A tiled random image is where the planar coder loses
    to PNG's LZ77 by far: it must be stored as its PNG."""
    import io

    from vaezip.images import read_png, write_png

    rng = np.random.default_rng(9)
    tile = rng.integers(0, 256, (16, 16), dtype=np.uint8)
    tiled = from_array(np.tile(tile, (32, 32)), name="tiled.png")
    noise = from_array(rng.integers(0, 256, (64, 64), dtype=np.uint8), name="noise.png")
    for picture in (tiled, noise, *every_kind_of_picture()):
        buffer = io.BytesIO()
        write_png(picture, buffer)
        png = buffer.getvalue()
        data, report = api.compress([read_png(png)], sources=[png])
        assert len(data) <= len(png) + 48 + 160, (picture, len(data), len(png))
        assert api.decompress(data)[0] == picture
    data, report = api.compress([tiled])
    assert report.pictures[0].coder == "stored-png"


def test_stored_and_planar_pictures_mix_in_one_archive(tiny_zoo):
    rng = np.random.default_rng(10)
    tiled = from_array(np.tile(rng.integers(0, 256, (8, 8), dtype=np.uint8), (16, 16)), name="t.png")
    pictures = pictures_of(blobs(3)) + [tiled] + every_kind_of_picture()[:3] + [tiled]
    data, report = api.compress(pictures, model="tiny")
    coders = [p.coder for p in report.pictures]
    assert coders[3] == coders[-1] == "stored-png" and coders[:3] == ["vae"] * 3
    assert_same(api.decompress(data), pictures)


@pytest.mark.parametrize("particles, estimator, code", [
    (2, "bb-is", vz.BB_IS), (7, "bb-is", vz.BB_IS), (2, "bb-cis", vz.BB_CIS), (7, "bb-cis", vz.BB_CIS),
    (1, "bb-cis", vz.BB_ANS),
])
def test_importance_sampled_archives_round_trip(tiny_zoo, particles, estimator, code):
    pictures = pictures_of(blobs(13))
    data, _ = api.compress(pictures, model="tiny", batch_size=4, particles=particles, estimator=estimator)
    header = vz.read_header(data).header
    assert header.particles == particles and header.estimator == code
    assert_same(api.decompress(data), pictures)


def test_unknown_estimator_is_refused(tiny_zoo):
    with pytest.raises(api.CodingError, match="estimator"):
        api.compress(pictures_of(blobs(2)), model="tiny", particles=2, estimator="bb-xyz")


# -- pictures larger than the model: tiles ----------------------------------------------------
def _fake_tile_costs(wins):
    """A stand-in for plan._tile_costs: the VAE 'wins' on tiles where ``wins(k)`` (k counts calls' tiles)."""
    def costs(name, picture, tiles):
        vae = np.array([1.0 if wins(k) else 1e9 for k in range(len(tiles))])
        return vae, np.full(len(tiles), 100.0)
    return costs


@pytest.mark.parametrize("model, mode, size", [("tiny", "L", (20, 27)), ("tiny-bin", "1", (16, 17)),
                                               ("tiny", "L", (8, 30))])
def test_tiled_pictures_round_trip(tiny_zoo, monkeypatch, model, mode, size):
    monkeypatch.setattr(plan, "_tile_costs", _fake_tile_costs(lambda k: k % 3 != 1))
    monkeypatch.setattr(encoding, "_png_bytes", lambda picture, source: bytes(1 << 20))  # never stored as PNG
    rng = np.random.default_rng(1)
    big = rng.integers(0, 2 if mode == "1" else 256, size).astype(np.uint8)
    pictures = pictures_of(list(blobs(3)) if mode == "L" else [], mode=mode) + [from_array(big, mode=mode, name="big.png")]
    data, report = api.compress(pictures, model=model, batch_size=2)
    assert report.pictures[-1].coder == "per-tile"
    entry = vz.read_header(data).images[-1]
    tiles = -(-size[0] // 8) * -(-size[1] // 8)
    assert entry.coder == vz.CODER_PER_TILE and len(entry.tile_coders) == tiles
    assert 0 < entry.tile_coders.count(vz.CODER_VAE) < tiles
    assert_same(api.decompress(data), pictures)


def test_tiles_are_skipped_when_the_vae_wins_none(tiny_zoo, monkeypatch):
    monkeypatch.setattr(plan, "_tile_costs", _fake_tile_costs(lambda k: False))
    big = np.random.default_rng(2).integers(0, 256, (24, 24)).astype(np.uint8)
    data, report = api.compress([from_array(big, name="big.png")], model="tiny")
    assert report.pictures[0].coder in ("model-free", "stored-png") and report.model == "none"


def test_tile_coders_that_do_not_fit_the_tiles_are_refused(tiny_zoo, monkeypatch):
    monkeypatch.setattr(plan, "_tile_costs", _fake_tile_costs(lambda k: True))
    monkeypatch.setattr(encoding, "_png_bytes", lambda picture, source: bytes(1 << 20))
    big = np.random.default_rng(3).integers(0, 256, (16, 20)).astype(np.uint8)
    data, _ = api.compress([from_array(big, name="big.png")], model="tiny")
    archive = vz.read(data)
    entry = archive.images[0]
    for bad in (entry.tile_coders[:-1], bytes([vz.CODER_VAE]) * len(entry.tile_coders)):  # count; a partial VAE tile
        broken = vz.Archive(archive.header, [replace(entry, tile_coders=bad)], archive.streams, archive.checksums)
        with pytest.raises(api.CodingError, match="tile"):
            api.decompress(vz.write(broken))


def test_a_mosaic_of_digits_is_coded_tile_by_tile_with_the_shipped_model():
    from vaezip.datasets import load

    digits = load("sample")[:6]
    mosaic = np.zeros((2 * 28 + 5, 3 * 28), dtype=np.uint8)  # 2 x 3 digits and a 5-row strip
    for k, digit in enumerate(digits):
        mosaic[28 * (k // 3):28 * (k // 3) + 28, 28 * (k % 3):28 * (k % 3) + 28] = digit
    picture = from_array(mosaic, name="mosaic.png")
    data, report = api.compress([picture])
    assert report.model in ("mnist", "fashion") and report.pictures[0].coder == "per-tile"
    assert vz.read_header(data).images[0].tile_coders.count(vz.CODER_VAE) == 6
    free, _ = api.compress([picture], model="none")
    assert len(data) < len(free)
    assert_same(api.decompress(data), [picture])


def _info(bpd, side=28, n_values=2):
    rates = {} if bpd is None else {"test_neg_elbo_bpd": bpd}
    return zoo.ModelInfo("m", "bernoulli", {"height": side, "width": side, "n_values": n_values}, "m.pt", "0" * 64,
                         rates=rates)


@pytest.mark.parametrize("bpd, images, streams", [
    (0.17, 2000, 1),     # 266,560 expected bits: under one stream's worth
    (0.17, 10000, 2),    # 1.33 Mbit: 2.2 streams' worth, rounded down
    (1.27, 2000, 2),     # 1.99 Mbit: 3.3, rounded down to a power of two
    (1.27, 3900, 4),     # 3.88 Mbit: 6.5 -> 4
    (2.98, 10000, 8),    # 23 Mbit: capped at 8
    (2.98, 1, 1),
    (None, 1000, 8),     # no measured rate: the raw bit depth, 8 bits per pixel of an 8-bit model
])
def test_default_streams_follow_the_expected_bits(bpd, images, streams):
    info = _info(bpd, n_values=2 if bpd is not None else 256)
    assert api.default_streams(info, images) == streams


def test_default_streams_are_powers_of_two_that_grow_with_the_data():
    counts = [api.default_streams(_info(0.5), n) for n in range(1, 40000, 97)]
    assert all(c & (c - 1) == 0 and 1 <= c <= api.MAX_STREAMS for c in counts)
    assert counts == sorted(counts) and counts[0] == 1 and counts[-1] == api.MAX_STREAMS


def test_a_vae_entry_whose_mode_is_not_the_models_is_refused(tiny_zoo):
    pictures = pictures_of(blobs(5))
    data, _ = api.compress(pictures, model="tiny", batch_size=4)
    archive = vz.read(data)
    entry = archive.images[0]
    assert entry.mode == "L"
    binary = replace(entry, mode="1")
    broken = vz.Archive(archive.header, [binary], archive.streams, archive.checksums)
    with pytest.raises(api.CodingError, match="shape and mode"):
        api.decompress(vz.write(broken))
