#!/usr/bin/env python
"""Measure the shipped models on their test splits; JPEG XL mosaic baselines.

For every model in the zoo (or those named with ``--models``):

* the test −ELBO over the *whole* test split is taken from the registry
  (``zoo.json``, written by ``vaezip train`` from a float64 measurement with
  the card's K samples); nothing is recomputed there;
* the importance-sampled estimate −log (1/K) Σ_k q(x|z_k) q(z_k) / p(z_k|x)
  with K = ``--k`` (default 1000) is computed with ``vaezip.models.density.estimate``
  on a fixed subset: the first ``--subset`` images of the test split
  (default 200), after the same target preparation as ``vaezip train``
  (``vaezip.models.train.as_targets`` with seed 2, which only matters for 8-bit
  images under a Bernoulli model; the shipped ``mnist-bin`` is tested on the
  already binarized ``mnist-bin-test``). The −ELBO of that subset (from the
  same K samples) is reported beside it, so the ELBO-to-IS gap is measured on
  the same images. The models run in ``--dtype`` (default float32: the
  estimate does not need bit-exactness, and float32 is about twice as fast
  here); ``--check-dtype N`` compares float32 and float64 on N images.

JPEG XL baselines (``--jxl``): one grayscale mosaic of a whole test split
(images in raster order, ``--columns`` per row, default 50: 2,000 images ->
40 x 50 tiles, 1120 x 1400 pixels), lossless at ``--jxl-effort`` (default
10) through ``imagecodecs.jpegxl_encode`` (libjxl), decoded back and
compared; bits per pixel of the codestream. Binarized splits are coded
with ``bitspersample=1``.

Results go to ``benchmarks/results/models-<UTC date>.json`` (``--out``),
merged into an existing file of that name model by model, with the machine
and versions. ``--update-zoo`` also writes the subset figures into each
model's ``rates`` in ``models/zoo.json`` (keys ``subset_*``; the whole-split
``test_*`` figures are left as they are). ``--write-docs`` rewrites the tables
of ``models/README.md`` and a "K = 1000" section of every measured card
``models/NAME.md`` from the results file.

Examples::

    python scripts/measure_models.py --jxl --no-models           # baselines only
    python scripts/measure_models.py --models mnist-bin --subset 20  # timing probe
    python scripts/measure_models.py --update-zoo                 # every model
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "scripts"))  # models_docs, beside this script

from models_docs import current, update_zoo, write_docs  # noqa: E402


def mosaic(images: np.ndarray, columns: int) -> np.ndarray:
    """Images (N, H, W) tiled in raster order, ``columns`` per row (zeros pad the last row)."""
    n, h, w = images.shape
    rows = -(-n // columns)
    out = np.zeros((rows * h, columns * w), dtype=images.dtype)
    for k in range(n):
        r, c = divmod(k, columns)
        out[r * h:(r + 1) * h, c * w:(c + 1) * w] = images[k]
    return out


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"platform": platform.platform(), "machine": platform.machine(), "cpu": cpu,
            "cpus": os.cpu_count(), "note": "2 cores shared with other work (trainings, tests)"}


def versions() -> dict:
    import numba
    import torch

    out = {"python": platform.python_version(), "torch": torch.__version__,
           "numpy": np.__version__, "numba": numba.__version__}
    try:
        out["vaezip_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
            text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        out["vaezip_commit"] = "unknown"
    try:
        import imagecodecs

        out["imagecodecs"] = imagecodecs.__version__
        out["libjxl"] = imagecodecs.jpegxl_version()
    except ImportError:
        pass
    return out


def test_spec(info) -> str:
    """The test split named on the card (``rates['test_split']`` is written as `name`)."""
    spec = str(info.rates.get("test_split", "")).strip("`")
    if not spec or " " in spec:
        raise SystemExit(f"model {info.name}: no named test split in the registry ({spec!r})")
    return spec


def card_dtype(name: str) -> str:
    """How the card's figures were computed, from its rates heading."""
    from vaezip.models import zoo

    path = zoo.models_dir() / f"{name}.md"
    text = path.read_text() if path.exists() else ""
    match = re.search(r"## Rates on the test split \(bits per dimension, ([^)]*)\)", text)
    return match.group(1) if match else "unknown"


def card_figures(info) -> dict:
    """The whole-split figures ``vaezip train`` registered for the model."""
    rates = info.rates
    return {"test_neg_elbo_bpd": rates.get("test_neg_elbo_bpd"),
            "test_is_bpd": rates.get("test_is_bpd"),
            "importance_samples": rates.get("importance_samples"),
            "test_images": rates.get("test_images"),
            "val_neg_elbo_bpd": rates.get("val_neg_elbo_bpd"),
            "dtype": card_dtype(info.name)}


def measure_model(name: str, k: int, subset: int, dtype_name: str, batch_size: int,
                  max_rows: int, check_dtype: int) -> dict:
    import torch

    from vaezip import datasets
    from vaezip.models import density, zoo
    from vaezip.models.train import as_targets
    from vaezip.models.vae import count_parameters

    info = zoo.get_info(name)
    dtype = {"float32": torch.float32, "float64": torch.float64}[dtype_name]
    model = zoo.load_model(name, dtype=dtype)
    spec = test_spec(info)
    images = datasets.load(spec)
    targets = as_targets(images, model.config.n_values, seed=2)[:subset]
    start = time.perf_counter()
    result = density.estimate(model, targets, n_samples=k, batch_size=batch_size, seed=0,
                              max_rows=max_rows)
    seconds = time.perf_counter() - start
    row = {
        "name": name, "arch": info.arch, "dataset": info.dataset, "test_split": spec,
        "file": info.file, "sha256": info.sha256, "params": count_parameters(model),
        "weight_bytes": (zoo.models_dir() / info.file).stat().st_size,
        "config": info.config,
        "card": card_figures(info),
        "subset": {"images": int(targets.shape[0]), "which": f"first {int(targets.shape[0])} "
                   f"images of {spec}", "importance_samples": k, "dtype": dtype_name,
                   "seed": 0, "neg_elbo_bpd": result.neg_elbo_bpd, "is_bpd": result.is_bpd,
                   "seconds": round(seconds, 1)},
    }
    if check_dtype:
        row["dtype_check"] = dtype_check(name, targets[:check_dtype], n_samples=100)
    return row


def dtype_check(name: str, x, n_samples: int) -> dict:
    """float32 vs float64 on the same images and the same latent samples z_k.

    (``density.estimate`` draws its normal samples in the model's dtype, so two
    runs in different dtypes would differ by sampling noise; here one float64
    set of eps is shared and only the arithmetic differs.)
    """
    import math

    import torch

    from vaezip.models import density, zoo

    generator = torch.Generator().manual_seed(0)
    eps = torch.randn((x.shape[0], n_samples, zoo.get_info(name).config["latent_dim"]),
                      generator=generator, dtype=torch.float64)
    out = {}
    with torch.no_grad():
        for dtype in (torch.float32, torch.float64):
            model = zoo.load_model(name, dtype=dtype)
            mu, sigma = model.encode(x)
            z = mu[:, None] + sigma[:, None] * eps.to(dtype)
            batch, k, dim = z.shape
            x_rep = x[:, None].expand(batch, k, *x.shape[1:]).reshape(batch * k, *x.shape[1:])
            log_like = model.log_likelihood(x_rep, z.reshape(batch * k, dim)).view(batch, k)
            log_w = (log_like + density.gaussian_log_density(z, torch.zeros_like(z), torch.ones_like(z))
                     - density.gaussian_log_density(z, mu[:, None], sigma[:, None]))
            is_bits = (math.log(k) - torch.logsumexp(log_w, dim=1)).double() / math.log(2.0)
            out[str(dtype).replace("torch.", "")] = is_bits.numpy()
    diff = np.abs(out["float32"] - out["float64"])
    n_dims = int(np.prod(x.shape[1:]))
    return {"images": int(x.shape[0]), "importance_samples": n_samples,
            "same_latent_samples": True,
            "max_abs_diff_bits_per_image": float(diff.max()),
            "abs_diff_bpd": float(abs(out["float32"].mean() - out["float64"].mean()) / n_dims),
            "is_bpd_float32": float(out["float32"].mean() / n_dims),
            "is_bpd_float64": float(out["float64"].mean() / n_dims)}


def jxl_baseline(spec: str, effort: int, columns: int) -> dict:
    import imagecodecs

    from vaezip import datasets

    images = datasets.load(spec)
    binary = int(images.max()) <= 1
    tiles = mosaic(images, columns)
    kwargs = {"lossless": True, "effort": effort, "numthreads": 1}
    if binary:
        kwargs["bitspersample"] = 1
    start = time.perf_counter()
    data = imagecodecs.jpegxl_encode(tiles, **kwargs)
    seconds = time.perf_counter() - start
    decoded = imagecodecs.jpegxl_decode(data)
    if not np.array_equal(np.asarray(decoded).reshape(tiles.shape), tiles):
        raise SystemExit(f"JPEG XL round trip of the {spec} mosaic is not lossless")
    n_pixels = images.size  # padding of the last mosaic row is not counted as data
    return {"split": spec, "images": int(images.shape[0]), "mosaic_shape": list(tiles.shape),
            "columns": columns, "effort": effort, "bytes": len(data),
            "bits_per_pixel": len(data) * 8 / n_pixels,
            "bits_per_mosaic_pixel": len(data) * 8 / tiles.size,
            "seconds": round(seconds, 1),
            "command": (f"imagecodecs.jpegxl_encode(mosaic(datasets.load({spec!r}), "
                        f"columns={columns}), "
                        + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")")}


def history(name: str) -> list[dict]:
    """Epoch history from the training checkpoint, if it is still there."""
    import torch

    path = ROOT / "checkpoints" / name / "last.pt"
    if not path.exists():
        return []
    payload = torch.load(path, map_location="cpu", weights_only=True)
    return list(payload["state"]["history"])


def print_table(models: dict, baselines: dict) -> None:
    print(f"{'name':16} {'arch':13} {'test split':15} {'−ELBO (all, K)':>16} "
          f"{'−ELBO subset':>12} {'IS subset (K, n)':>22} {'params':>9} {'s':>6}")
    for name in sorted(models):
        r = models[name]
        c, s = r["card"], r["subset"]
        print(f"{name:16} {r['arch']:13} {r['test_split']:15} "
              f"{c['test_neg_elbo_bpd']:>9.4f} ({c['importance_samples']:>3}) "
              f"{s['neg_elbo_bpd']:>12.4f} {s['is_bpd']:>9.4f} ({s['importance_samples']}, "
              f"{s['images']:>4}) {r['params']:>9,} {s['seconds']:>6.0f}")
    for key in sorted(baselines):
        b = baselines[key]
        print(f"JPEG XL e{b['effort']} lossless, mosaic of {b['split']} ({b['images']} images, "
              f"{b['mosaic_shape'][0]}x{b['mosaic_shape'][1]}): {b['bits_per_pixel']:.4f} bpp "
              f"({b['bytes']} bytes, {b['seconds']:.0f} s)")


def save(out: Path, doc: dict) -> dict:
    """Write ``doc``, keeping entries another run wrote into ``out`` meanwhile."""
    if out.exists():
        on_disk = json.loads(out.read_text())
        for key in ("models", "baselines"):
            doc[key] = {**on_disk.get(key, {}), **doc[key]}
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_suffix(".tmp")
    temporary.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, out)
    return doc


def main() -> None:
    args = parse_args()
    import torch

    from vaezip.models import zoo

    torch.set_num_threads(args.threads)
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    out = args.out or ROOT / "benchmarks" / "results" / f"models-{date}.json"
    doc = new_doc(out)
    names = [] if args.no_models else (args.models or [m.name for m in zoo.list_models()])
    for name in names:
        measure_into(doc, name, args)
        save(out, doc)
    if args.jxl:
        for spec in args.jxl_splits:
            print(f"JPEG XL e{args.jxl_effort} on the {spec} mosaic ...", flush=True)
            doc["baselines"][f"jxl-e{args.jxl_effort}-mosaic-{spec}"] = jxl_baseline(
                spec, args.jxl_effort, args.columns)
    doc = save(out, doc)
    for name in current(doc):  # the card's figures as registered now
        doc["models"][name]["card"] = card_figures(zoo.get_info(name))
    doc = save(out, doc)
    if args.update_zoo:
        update_zoo(doc)
    if args.write_docs:
        write_docs(doc, current(doc))
    print_table(doc["models"], doc["baselines"])
    print(f"written {out}")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", help="model names [default: every registered one]")
    parser.add_argument("--no-models", action="store_true", help="measure no model")
    parser.add_argument("--k", type=int, default=1000, help="importance samples [1000]")
    parser.add_argument("--subset", type=int, default=200, help="first N test images [200]")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--max-rows", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1, help="torch threads [1]")
    parser.add_argument("--check-dtype", type=int, default=0, metavar="N",
                        help="also compare float32 and float64 on N images (K = 100)")
    parser.add_argument("--jxl", action="store_true", help="JPEG XL mosaic baselines")
    parser.add_argument("--jxl-splits", nargs="*", default=["mnist-test", "mnist-bin-test"])
    parser.add_argument("--jxl-effort", type=int, default=10)
    parser.add_argument("--columns", type=int, default=50)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--update-zoo", action="store_true")
    parser.add_argument("--write-docs", action="store_true",
                        help="rewrite models/README.md and the K = 1000 section of each card")
    return parser.parse_args()


def new_doc(out: Path) -> dict:
    """The results file ``out`` as it is (or an empty one), with this run's machine, versions and date."""
    doc = json.loads(out.read_text()) if out.exists() else {}
    doc.setdefault("models", {})
    doc.setdefault("baselines", {})
    doc["what"] = ("Shipped vaezip models on their test splits: whole-split −ELBO from the "
                   "model card (float64, the card's K), importance-sampled −log q(x) with K "
                   "samples on the first N test images (vaezip.models.density.estimate), and JPEG XL "
                   "lossless on one mosaic of each test split. Produced by "
                   "scripts/measure_models.py; bits per pixel (= per dimension). The "
                   "top-level machine, versions and date are the latest run's; each model's "
                   "own are under its 'measured'.")
    doc["machine"] = machine()
    doc["versions"] = versions()
    doc["file"] = out.name
    doc["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return doc


def measure_into(doc: dict, name: str, args) -> None:
    """Measure model ``name`` as ``args`` say and put its row into ``doc``."""
    print(f"measuring {name} (K={args.k}, first {args.subset} test images, {args.dtype}) ...", flush=True)
    row = measure_model(name, args.k, args.subset, args.dtype, args.batch_size, args.max_rows, args.check_dtype)
    row["command"] = " ".join(["python", "scripts/measure_models.py"] + sys.argv[1:])
    row["history"] = history(name)
    row["measured"] = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                       "machine": machine(), "versions": versions()}
    doc["models"][name] = row
    print(f"  −ELBO {row['subset']['neg_elbo_bpd']:.4f}  IS {row['subset']['is_bpd']:.4f} bpd"
          f"  ({row['subset']['seconds']:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
