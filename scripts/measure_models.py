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


COMPARISON = {"mnist-bin-fact": "mnist-bin", "mnist-fact": "mnist", "fashion-fact": "fashion"}
"""Factorized comparison models and the main model each one is compared with."""
SPEED = ("mnist-bin-mlp",)
"""Models shipped for throughput measurements, listed apart."""

CARD_HEADING = "## Importance-sampled estimate, K = 1000 (scripts/measure_models.py)"


def history(name: str) -> list[dict]:
    """Epoch history from the training checkpoint, if it is still there."""
    import torch

    path = ROOT / "checkpoints" / name / "last.pt"
    if not path.exists():
        return []
    payload = torch.load(path, map_location="cpu", weights_only=True)
    return list(payload["state"]["history"])


def readme_text(doc: dict) -> str:
    from vaezip.models import zoo

    infos = {m.name: m for m in zoo.list_models()}
    measured = current(doc)
    header = ("| name | arch | data (train → test) | test −ELBO bpd (all) | IS bpd (K, images) "
              "| −ELBO bpd, same images | params | file | sha256 |\n"
              "|---|---|---|---|---|---|---|---|---|\n")

    def row(name):
        info = infos[name]
        r = doc["models"].get(name) if name in measured else None
        rates = info.rates
        split = str(rates.get("test_split", "?")).strip("`")
        elbo = f"{rates['test_neg_elbo_bpd']:.4f}"
        card_is = f"{rates['test_is_bpd']:.4f} (K = {rates['importance_samples']}, all {rates['test_images']})"
        if r is None:
            return (f"| {name} | {info.arch} | {info.dataset} → {split} | {elbo} | {card_is} | – "
                    f"| – | `{info.file}` | `{info.sha256[:12]}` |")
        sub = r["subset"]
        return (f"| {name} | {info.arch} | {info.dataset} → {split} | {elbo} | "
                f"**{sub['is_bpd']:.4f}** (K = {sub['importance_samples']}, first {sub['images']}); "
                f"{card_is} | {sub['neg_elbo_bpd']:.4f} (first {sub['images']}) | {r['params']:,} "
                f"| `{info.file}` | `{info.sha256[:12]}` |")

    main = [n for n in sorted(infos) if n not in COMPARISON and n not in SPEED]
    comparison = [n for n in sorted(infos) if n in COMPARISON]
    lines = ["# vaezip model zoo", "",
             "Weights are registered in `zoo.json` (name, arch, config, file, full sha256) and",
             "verified on every load. Each model has a card `NAME.md`. Rates are measured on",
             "the test split by `vaezip.models.density`, in bits per dimension: the −ELBO over the",
             "whole test split (written by `vaezip train`, float64 or float32 networks as the",
             "card says), and the importance-sampled",
             "−log q(x) with K = 1000 on the first images of the test split",
             "(`scripts/measure_models.py`, float32; K = 1000 on every image would take hours",
             "on the 2-core machine these were made on) beside the card's K-sample figure on",
             "all images. The −ELBO of the same subset is given so the gap can be read off.",
             "Figures and machine: `benchmarks/results/models-*.json`; discussion and targets:",
             "`docs/models.md`.", "",
             "## Models", "", header.rstrip("\n")]
    lines += [row(n) for n in main]
    lines += ["", "## Factorized comparison models", "",
              "The same networks without the causal head (each pixel independent given z),",
              "shipped to measure what the head buys; they are small, but code worse than the",
              "models above. " + ", ".join(f"`{k}` is the comparison for `{v}`"
                                           for k, v in COMPARISON.items() if k in infos) + ".",
              "", header.rstrip("\n")]
    lines += [row(n) for n in comparison] or ["| (none yet) |"]
    speed = [n for n in sorted(infos) if n in SPEED]
    if speed:
        lines += ["", "## Speed model", "",
                  "`mnist-bin-mlp` has the size of craystack's example VAE (784-100-40 MLP encoder",
                  "and decoder, factorized Bernoulli likelihood): it measures the coder's throughput",
                  "against craystack's (`benchmarks/throughput.py`), not the best rate. The model",
                  "choice rule never picks it over `mnist-bin` (higher −ELBO); ask for it with",
                  "`--model mnist-bin-mlp`.", "", header.rstrip("\n")]
        lines += [row(n) for n in speed]
    if doc.get("baselines"):
        lines += ["", "## Classical baseline", ""]
        for key in sorted(doc["baselines"]):
            b = doc["baselines"][key]
            lines.append(f"- JPEG XL ({doc['versions'].get('libjxl', 'libjxl ?')}) lossless, effort "
                         f"{b['effort']}, one mosaic of all {b['images']} `{b['split']}` images "
                         f"({b['mosaic_shape'][1]}×{b['mosaic_shape'][0]}, {b['columns']} per row): "
                         f"**{b['bits_per_pixel']:.4f}** bits/pixel")
    return "\n".join(lines) + "\n"


def card_section(doc: dict, name: str) -> str:
    r = doc["models"][name]
    sub, card = r["subset"], r["card"]
    out = [CARD_HEADING, ""]
    if name in COMPARISON:
        out += [(f"**Factorized comparison model**: the network of `{COMPARISON[name]}` without "
                 "the causal head (pixels independent given z); shipped to measure what the "
                 "head buys."), ""]
    out += [(f"Measured with `vaezip.models.density.estimate` on the first {sub['images']} images of "
             f"`{r['test_split']}` (K = 1000 on all of them would take hours on this 2-core "
             f"machine), K = {sub['importance_samples']}, seed 0, the model in {sub['dtype']}")]
    dc = r.get("dtype_check")
    if dc:
        out[-1] += (f" (float32 and float64 on the same latent samples differ by at most "
                    f"{dc['max_abs_diff_bits_per_image']:.1e} bits per image on "
                    f"{dc['images']} images)")
    out[-1] += f"; {sub['seconds']:.0f} s on a shared core."
    out += ["", "| images | −ELBO bpd | importance-sampled −log q(x) bpd | K |", "|---|---|---|---|",
            (f"| first {sub['images']} | {sub['neg_elbo_bpd']:.4f} | {sub['is_bpd']:.4f} | "
             f"{sub['importance_samples']} |"),
            (f"| all {card['test_images']} (the card's figures above, {card['dtype']}) | "
             f"{card['test_neg_elbo_bpd']:.4f} | {card['test_is_bpd']:.4f} | "
             f"{card['importance_samples']} |")]
    for b in doc.get("baselines", {}).values():
        if b["split"] == r["test_split"]:
            out += ["", (f"JPEG XL lossless, effort {b['effort']}, on one mosaic of all "
                         f"{b['images']} `{b['split']}` images: {b['bits_per_pixel']:.4f} "
                         "bits/pixel.")]
    hist = r.get("history") or []
    if len(hist) >= 2:
        last = hist[-4:]
        out += ["", "Validation −ELBO over the last epochs: "
                + ", ".join(f"{h['val_bpd']:.4f}" for h in last)
                + f" (epoch {last[0]['epoch']} to {last[-1]['epoch']})."]
    out += ["", f"Figures: `benchmarks/results/{doc.get('file', 'models-*.json')}`."]
    return "\n".join(out) + "\n"


def write_docs(doc: dict, names: list[str]) -> None:
    from vaezip.models import zoo

    directory = zoo.models_dir()
    (directory / "README.md").write_text(readme_text(doc))
    for name in names:
        path = directory / f"{name}.md"
        if not path.exists() or name not in doc["models"]:
            continue
        text = path.read_text()
        if CARD_HEADING in text:
            text = text[:text.index(CARD_HEADING)].rstrip("\n") + "\n"
        path.write_text(text.rstrip("\n") + "\n\n" + card_section(doc, name))


def current(doc: dict) -> list[str]:
    """Measured models whose weights are still the registered ones (same sha256)."""
    from vaezip.models import zoo

    registry = zoo.read_registry()
    return sorted(name for name, row in doc["models"].items()
                  if name in registry and registry[name].sha256 == row["sha256"])


def update_zoo(doc: dict) -> None:
    """Write the subset figures into ``rates`` of every current model in zoo.json."""
    from dataclasses import replace

    from vaezip.models import zoo

    models = zoo.read_registry()
    for name in current(doc):
        info, s = models[name], doc["models"][name]["subset"]
        rates = dict(info.rates, subset_images=s["images"],
                     subset_importance_samples=s["importance_samples"],
                     subset_neg_elbo_bpd=s["neg_elbo_bpd"], subset_is_bpd=s["is_bpd"],
                     subset_dtype=s["dtype"])
        models[name] = replace(info, rates=rates)
    zoo.write_registry(models)


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
    args = parser.parse_args()

    import torch

    from vaezip.models import zoo

    torch.set_num_threads(args.threads)
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    out = args.out or ROOT / "benchmarks" / "results" / f"models-{date}.json"
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

    names = [] if args.no_models else (args.models or [m.name for m in zoo.list_models()])
    rows = []
    for name in names:
        print(f"measuring {name} (K={args.k}, first {args.subset} test images, {args.dtype}) ...",
              flush=True)
        row = measure_model(name, args.k, args.subset, args.dtype, args.batch_size,
                            args.max_rows, args.check_dtype)
        row["command"] = " ".join(["python", "scripts/measure_models.py"] + sys.argv[1:])
        row["history"] = history(name)
        row["measured"] = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                           "machine": machine(), "versions": versions()}
        doc["models"][name] = row
        rows.append(row)
        print(f"  −ELBO {row['subset']['neg_elbo_bpd']:.4f}  IS {row['subset']['is_bpd']:.4f} bpd"
              f"  ({row['subset']['seconds']:.0f} s)", flush=True)
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


if __name__ == "__main__":
    main()
