"""The human-readable table ``vaezip bench`` prints from a record."""

from __future__ import annotations

from vaezip.bench.baselines import JXL_EFFORT

_SHORT = {"png": "PNG (optimize)", "webp": "WebP lossless m6", "jxl": f"JPEG XL lossless e{JXL_EFFORT}",
          "xz": "xz -9e", "brotli": "brotli 11", "zstd": "zstd 19"}


def format_report(record: dict) -> str:
    """The human-readable table ``vaezip bench`` prints."""
    data, v, model = record["dataset"], record["vaezip"], record["model"]
    lines = [
        f"vaezip bench {data['spec']}: {data['images']} images of {data['height']}x{data['width']} "
        f"mode {data['mode']}, {data['dims']:,} dims; model {model['name']}; particles {record['particles']}",
        "",
        f"{'codec':22} {'layout':11} {'bits/dim':>8} {'bytes':>10} {'x vaezip':>8} {'seconds':>8}",
        f"{'vaezip':22} {'archive':11} {v['bpd']:8.4f} {v['file_bytes']:10,d} {1.0:8.3f} "
        f"{v['compress']['seconds']:8.2f}",
    ]
    lines += _estimate_lines(v)
    lines += _baseline_lines(record["baselines"])
    lines += _footer_lines(record)
    return "\n".join(lines)


def _estimate_lines(v: dict) -> list[str]:
    """The model's −ELBO and IS estimate below vaezip's row, and the gaps to them."""
    k = v["estimate_samples"]
    if v["neg_elbo_bpd"] is None:
        return ["  no -ELBO / IS estimates (model-free coder, or --estimate-samples 0)"]
    return [
        f"{'  model -ELBO':34} {v['neg_elbo_bpd']:8.4f}",
        f"{f'  IS -log q(x), K={k}':34} {v['is_bpd']:8.4f}",
        f"{'  gap achieved - (-ELBO)':34} {v['gap_neg_elbo_bpd']:8.4f}  ({v['gap_neg_elbo_percent']:+.2f} %)",
        f"{'  gap achieved - IS':34} {v['gap_is_bpd']:8.4f}  ({v['gap_is_percent']:+.2f} %)",
    ]


def _baseline_lines(rows: list[dict]) -> list[str]:
    lines = []
    for row in rows:
        label = f"{_SHORT[row['name']]:22} {row['layout']:11}"
        if row["status"] != "ok":
            lines.append(f"{label} {row['status']}")
            continue
        lines.append(f"{label} {row['bpd']:8.4f} {row['bytes']:10,d} {row['ratio']:8.3f} {row['seconds']:8.2f}")
    return lines


def _footer_lines(record: dict) -> list[str]:
    """First-image overhead, speed, memory and wall time."""
    v = record["vaezip"]
    k = v["estimate_samples"]
    first = v["first_image"]
    lines = [
        "",
        f"first image alone: {first['archive_bits']:,} bits as a 1-image archive, {first['share_bits']:,.0f} "
        f"bits as its share of the set: {first['overhead_bits']:,.0f} bits of first-image overhead",
        f"compress   {v['compress']['seconds']:7.2f} s {v['compress']['images_per_s']:9.1f} images/s"
        f"   ({v['streams']} streams; coders {', '.join(f'{c} {n}' for c, n in v['coders'].items())})",
        f"decompress {v['decompress']['seconds']:7.2f} s {v['decompress']['images_per_s']:9.1f} images/s"
        "   (every image checked exact)",
    ]
    if k:
        lines.append(f"estimate   {v['estimate']['seconds']:7.2f} s (-ELBO and IS with K={k})")
    peak = "-" if v["peak_rss_mib"] is None else f"{v['peak_rss_mib']:.0f}"
    lines.append(f"peak memory {peak} MiB (ru_maxrss of the process, after vaezip, "
                 f"before the baselines); wall {record['wall_seconds']:.1f} s")
    lines.append("x vaezip = baseline bits / vaezip bits (above 1: vaezip is smaller)")
    return lines
