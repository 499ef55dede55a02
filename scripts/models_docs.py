"""The documents ``scripts/measure_models.py --write-docs`` writes from its results: the tables of
``models/README.md`` and the "K = 1000" section of every measured card ``models/NAME.md``; and
``--update-zoo``, the subset figures in ``models/zoo.json``."""

from __future__ import annotations

COMPARISON = {"mnist-bin-fact": "mnist-bin", "mnist-fact": "mnist", "fashion-fact": "fashion"}
"""Factorized comparison models and the main model each one is compared with."""
SPEED = ("mnist-bin-mlp",)
"""Models shipped for throughput measurements, listed apart."""

CARD_HEADING = "## Importance-sampled estimate, K = 1000 (scripts/measure_models.py)"


README_HEADER = ("| name | arch | data (train → test) | test −ELBO bpd (all) | IS bpd (K, images) "
                 "| −ELBO bpd, same images | params | file | sha256 |\n"
                 "|---|---|---|---|---|---|---|---|---|")
README_INTRO = [
    "# vaezip model zoo", "",
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
    "## Models", "", README_HEADER,
]
SPEED_INTRO = [
    "", "## Speed model", "",
    "`mnist-bin-mlp` has the size of craystack's example VAE (784-100-40 MLP encoder",
    "and decoder, factorized Bernoulli likelihood): it measures the coder's throughput",
    "against craystack's (`benchmarks/throughput.py`), not the best rate. The model",
    "choice rule never picks it over `mnist-bin` (higher −ELBO); ask for it with",
    "`--model mnist-bin-mlp`.", "", README_HEADER,
]


def readme_text(doc: dict) -> str:
    """``models/README.md``: every model's row, by kind, and the classical baselines."""
    from vaezip.models import zoo

    infos = {m.name: m for m in zoo.list_models()}
    measured = current(doc)
    rows = {name: _readme_row(infos[name], doc["models"].get(name) if name in measured else None)
            for name in infos}
    main = [n for n in sorted(infos) if n not in COMPARISON and n not in SPEED]
    comparison = [n for n in sorted(infos) if n in COMPARISON]
    lines = README_INTRO + [rows[n] for n in main]
    lines += ["", "## Factorized comparison models", "",
              "The same networks without the causal head (each pixel independent given z),",
              "shipped to measure what the head buys; they are small, but code worse than the",
              "models above. " + ", ".join(f"`{k}` is the comparison for `{v}`"
                                           for k, v in COMPARISON.items() if k in infos) + ".",
              "", README_HEADER]
    lines += [rows[n] for n in comparison] or ["| (none yet) |"]
    speed = [n for n in sorted(infos) if n in SPEED]
    if speed:
        lines += SPEED_INTRO + [rows[n] for n in speed]
    return "\n".join(lines + _baseline_lines(doc)) + "\n"


def _readme_row(info, r: dict | None) -> str:
    """A model's row: the card's whole-split figures, and the K = 1000 subset's when ``r`` has them."""
    rates = info.rates
    split = str(rates.get("test_split", "?")).strip("`")
    elbo = f"{rates['test_neg_elbo_bpd']:.4f}"
    card_is = f"{rates['test_is_bpd']:.4f} (K = {rates['importance_samples']}, all {rates['test_images']})"
    if r is None:
        return (f"| {info.name} | {info.arch} | {info.dataset} → {split} | {elbo} | {card_is} | – "
                f"| – | `{info.file}` | `{info.sha256[:12]}` |")
    sub = r["subset"]
    return (f"| {info.name} | {info.arch} | {info.dataset} → {split} | {elbo} | "
            f"**{sub['is_bpd']:.4f}** (K = {sub['importance_samples']}, first {sub['images']}); "
            f"{card_is} | {sub['neg_elbo_bpd']:.4f} (first {sub['images']}) | {r['params']:,} "
            f"| `{info.file}` | `{info.sha256[:12]}` |")


def _baseline_lines(doc: dict) -> list[str]:
    if not doc.get("baselines"):
        return []
    lines = ["", "## Classical baseline", ""]
    for key in sorted(doc["baselines"]):
        b = doc["baselines"][key]
        lines.append(f"- JPEG XL ({doc['versions'].get('libjxl', 'libjxl ?')}) lossless, effort "
                     f"{b['effort']}, one mosaic of all {b['images']} `{b['split']}` images "
                     f"({b['mosaic_shape'][1]}×{b['mosaic_shape'][0]}, {b['columns']} per row): "
                     f"**{b['bits_per_pixel']:.4f}** bits/pixel")
    return lines


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
