"""Version-1 and -2 files coded with the shipped models decode to the committed sample, on the machines
that can. (Version 3 files decode on every machine: ``test_portable_vectors.py``.)

``tests/vectors/vz/KIND/vN-MODEL-40.vz`` holds the first 40 digits of the
shipped sample (``vaezip.datasets.load("sample")``; for ``mnist-bin``
thresholded at 127 to 0/1) compressed with the shipped model ``MODEL`` in
format version N, ``api.compress(to_pictures(images), model=MODEL)``, on one
kind of machine. ``KIND/KERNELS.json`` says which machine, and holds
``vaezip.models.adapter.kernel_fingerprint`` of each model's networks there (by
``MODEL:contiguous`` for version 1, ``MODEL:channels_last`` for version 2),
or null where they were not recorded.

The networks run in float32 through torch's kernels, which differ with the
CPU's vector ISA: a file decodes only on a machine whose network outputs
equal those of the machine that coded it (``vaezip/models/adapter.py``). So:

- a kind whose fingerprints are this machine's must decode exactly, and this
  vaezip must write its version-2 files of current weights byte for byte;
- a kind with other fingerprints is skipped (that is the portability limit,
  not a test result);
- a kind with unrecorded fingerprints must decode, unless this machine is
  one that kind names in ``differs_from``;
- on a machine of a new kind, ``test_this_machine_has_vectors`` skips and says
  so (``python tests/test_shipped_vectors.py KIND "machine text"`` writes
  vectors for it); before version 3 it failed, as no file was portable.

When a shipped model is retrained, its old weights are retired first
(``zoo.retire_model``, docs/models.md), so the old files keep decoding; the
current kind's ``v2-MODEL-40.vz`` is then rewritten with the new weights and
the old one kept as ``v2-MODEL-40-<old sha256[:8]>.vz`` (decoded, not
rewritten).
"""

from __future__ import annotations

import json
import platform
import re
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from vaezip import api
from vaezip import format as vz
from vaezip.bench import to_pictures
from vaezip.datasets import load
from vaezip.models import zoo

VECTORS = Path(__file__).parent / "vectors" / "vz"
MODELS = ("mnist", "mnist-bin")
NAME = re.compile(r"v(\d)-(.+)-40(?:-([0-9a-f]{8}))?\.vz")


def sample(model: str) -> np.ndarray:
    digits = load("sample")[:40]
    return (digits > 127).astype(np.uint8) if model == "mnist-bin" else digits


def kinds() -> dict[str, dict]:
    return {d.name: json.loads((d / "KERNELS.json").read_text())
            for d in sorted(VECTORS.iterdir()) if (d / "KERNELS.json").is_file()}


def vectors() -> list[str]:
    return sorted(f"{d.name}/{p.name}" for d in VECTORS.iterdir() if d.is_dir() for p in d.glob("v*.vz"))


def network_key(model: str, version: int) -> str:
    return f"{model}:{'channels_last' if version >= 2 else 'contiguous'}"


@lru_cache(maxsize=None)
def fingerprint_here(key: str) -> str:
    from vaezip.models.adapter import TorchLatentModel, kernel_fingerprint

    model, layout = key.split(":")
    return kernel_fingerprint(TorchLatentModel(zoo.load_model(model), channels_last=layout == "channels_last"))


def matches_here(kind: dict) -> bool | None:
    """True/False: this machine computes the kind's recorded fingerprints or not; None: not recorded."""
    if kind["fingerprints"] is None:
        return None
    return all(fingerprint_here(key) == value for key, value in kind["fingerprints"].items())


def kind_of_this_machine() -> str | None:
    return next((name for name, kind in kinds().items() if matches_here(kind)), None)


def decodes_to_sample(path: Path) -> None:
    version, model, _ = NAME.fullmatch(path.name).groups()
    pictures = api.decompress(path.read_bytes())
    want = sample(model)
    assert len(pictures) == len(want)
    for picture, image in zip(pictures, want):
        assert np.array_equal(picture.pixels.reshape(image.shape), image)


def test_vector_names_parse_and_every_kind_is_described():
    assert NAME.fullmatch("v2-mnist-bin-40.vz").groups() == ("2", "mnist-bin", None)
    assert NAME.fullmatch("v1-mnist-bin-40-37c0c75f.vz").groups() == ("1", "mnist-bin", "37c0c75f")
    assert all(NAME.fullmatch(name.split("/")[1]) for name in vectors())
    assert {name.split("/")[0] for name in vectors()} == set(kinds())  # every directory has its KERNELS.json
    for name, kind in kinds().items():
        assert kind["machine"] and set(kind.get("differs_from", [])) <= set(kinds()) - {name}
        models = {NAME.fullmatch(p.name).group(2) for p in (VECTORS / name).glob("v*.vz")}
        assert models == set(MODELS), name
        if kind["fingerprints"] is not None:
            keys = set()
            for p in (VECTORS / name).glob("v*.vz"):
                version, model, _ = NAME.fullmatch(p.name).groups()
                keys.add(network_key(model, int(version)))
            assert keys <= set(kind["fingerprints"]), name


def test_kernel_fingerprint_is_repeatable_and_sees_other_kernels():
    import torch

    from vaezip.models.adapter import TorchLatentModel, kernel_fingerprint

    model = TorchLatentModel(zoo.load_model("mnist"), channels_last=True)
    first = kernel_fingerprint(model)
    assert kernel_fingerprint(model) == first and len(first) == 16
    torch.backends.mkldnn.enabled = False  # other convolution kernels, as on another CPU
    try:
        assert kernel_fingerprint(model) != first
    finally:
        torch.backends.mkldnn.enabled = True


def test_this_machine_has_vectors():
    here = kind_of_this_machine()
    unrecorded = [name for name, kind in kinds().items() if matches_here(kind) is None]
    decodable = []
    for name in unrecorded:
        try:
            for path in sorted((VECTORS / name).glob("v*.vz")):
                decodes_to_sample(path)
            decodable.append(name)
        except Exception:  # noqa: BLE001 - any failure to decode: not this machine's kind
            pass
    if not (here or decodable):  # version 3 files decode here all the same (test_portable_vectors.py)
        pytest.skip("no committed version-1/2 vectors decode on this machine: its float32 torch kernels are of a "
                    f"new kind ({platform.processor() or platform.machine()}); see this module's docstring")


@pytest.mark.parametrize("name", vectors())
def test_shipped_model_vector_decodes(name):
    kind_name, file_name = name.split("/")
    kind = kinds()[kind_name]
    path = VECTORS / name
    version, model, old = NAME.fullmatch(file_name).groups()
    version = int(version)
    header = vz.read_header(path.read_bytes()).header
    assert (header.version, header.model) == (version, model)
    try:
        info = zoo.find_weights(
            model, lambda sha: vz.weights_id(bytes.fromhex(sha), version) == header.model_sha256)
    except zoo.ModelError as error:
        pytest.fail(f"{name}: {error}; see this module's docstring")
    current = zoo.get_info(model).sha256
    if old is None and version >= 2 and kind["fingerprints"] is not None:
        assert info.sha256 == current, f"{name}: retire and regenerate, see this module's docstring"
    if old is not None:
        assert info.sha256.startswith(old) and info.sha256 != current
    match = matches_here(kind)
    if match is False:
        pytest.skip(f"{kind_name} vectors were made with other float32 network kernels than this machine's")
    if match is None and kind_of_this_machine() in kind.get("differs_from", []):
        pytest.skip(f"{kind_name} vectors were made on a machine known to compute other network outputs")
    decodes_to_sample(path)


@pytest.mark.parametrize("model", MODELS)
def test_version_2_vector_is_what_this_vaezip_writes(model):
    here = kind_of_this_machine()
    if here is None:
        pytest.skip("no vectors with this machine's kernel fingerprints")
    data, _ = api.compress(to_pictures(sample(model)), model=model, version=2)
    assert data == (VECTORS / here / f"v2-{model}-40.vz").read_bytes()


def write_vectors(kind_name: str, machine: str) -> None:
    """Write this machine's version-2 vectors and fingerprints into ``vectors/vz/KIND``."""
    import vaezip

    directory = VECTORS / kind_name
    directory.mkdir(exist_ok=True)
    for model in MODELS:
        data, _ = api.compress(to_pictures(sample(model)), model=model, version=2)
        (directory / f"v2-{model}-40.vz").write_bytes(data)
    differs = []
    for name, kind in kinds().items():
        if name == kind_name or matches_here(kind) is True:
            continue
        if matches_here(kind) is None:  # unrecorded fingerprints: this machine differs if they do not decode
            try:
                for path in sorted((VECTORS / name).glob("v*.vz")):
                    decodes_to_sample(path)
                continue
            except Exception:  # noqa: BLE001 - any failure to decode means other kernels
                kind["differs_from"] = sorted(set(kind.get("differs_from", [])) | {kind_name})
                (VECTORS / name / "KERNELS.json").write_text(json.dumps(kind, indent=2) + "\n")
        differs.append(name)
    record = {"machine": machine, "written_by": f"v2: vaezip {vaezip.__version__}",
              "fingerprints": {network_key(m, 2): fingerprint_here(network_key(m, 2)) for m in MODELS},
              "differs_from": differs}
    (directory / "KERNELS.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    write_vectors(sys.argv[1], sys.argv[2])
