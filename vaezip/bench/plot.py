"""The bench plot: per-image achieved bits against the IS −log q(x) estimate, and bits/dim per codec."""

from __future__ import annotations


def plot(record: dict, per_image: dict, path) -> None:
    """Write a PNG: per-image achieved bits vs IS −log q(x) (with y = x), and bits/dim per codec.

    Needs matplotlib (``ImportError`` otherwise; the CLI checks first).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (scatter, bars) = plt.subplots(1, 2, figsize=(12, 5), gridspec_kw={"width_ratios": [1, 1.4]})
    _per_image(scatter, record, per_image)
    _codecs(bars, record)
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    plt.close(figure)


def _per_image(scatter, record: dict, per_image: dict) -> None:
    """Left: each image's achieved bits against its IS estimate, with y = x."""
    v = record["vaezip"]
    achieved, estimated = per_image["achieved_bits"], per_image["is_bits"]
    if estimated is not None:
        pairs = [(x, y) for x, y in zip(estimated, achieved) if x is not None]
        xs, ys = zip(*pairs)
        scatter.scatter(xs, ys, s=8, alpha=0.6, label="images")
        low, high = min(min(xs), min(ys)), max(max(xs), max(ys))
        scatter.plot([low, high], [low, high], color="black", linewidth=1, label="y = x")
        scatter.set_xlabel(f"IS estimate of -log q(x), K={v['estimate_samples']} (bits)")
        scatter.legend()
    else:
        scatter.text(0.5, 0.5, "no -log q(x) estimates\n(model-free coder)", ha="center", va="center",
                     transform=scatter.transAxes)
        scatter.set_xlabel("-log q(x) (bits)")
    scatter.set_ylabel(f"achieved bits ({per_image['achieved_from']})", fontsize=8)
    scatter.set_title("vaezip per image")


def _codecs(bars, record: dict) -> None:
    """Right: bits/dim of vaezip, the model's estimates and every baseline that ran."""
    v = record["vaezip"]
    names, values = ["vaezip"], [v["bpd"]]
    if v["neg_elbo_bpd"] is not None:
        names += ["-ELBO", f"IS K={v['estimate_samples']}"]
        values += [v["neg_elbo_bpd"], v["is_bpd"]]
    for row in record["baselines"]:
        if row["status"] == "ok":
            names.append(f"{row['name']} {row['layout']}")
            values.append(row["bpd"])
    colours = ["tab:red"] + ["tab:orange"] * (2 if v["neg_elbo_bpd"] is not None else 0)
    colours += ["tab:blue"] * (len(names) - len(colours))
    bars.bar(range(len(names)), values, color=colours)
    bars.set_xticks(range(len(names)), names, rotation=45, ha="right")
    bars.set_ylabel("bits per dimension")
    data = record["dataset"]
    bars.set_title(f"{data['spec']}: {data['images']} images, model {record['model']['name']}")
