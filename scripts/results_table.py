"""Print the README's results table from the ``vaezip bench`` records.

Reads ``benchmarks/results/bench-*.json`` (written by ``vaezip bench ...
--json FILE``; schema in docs/bench.md) and prints a markdown table, one row
per record, followed by the command that made each row and the machine it
ran on, so the README's numbers are generated, never typed::

    python scripts/results_table.py                 # benchmarks/results/
    python scripts/results_table.py --dir some/dir
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = "vaezip-bench/1"
ORDER = ("sample", "sample-fashion", "mnist-test", "mnist-bin-test", "fashion-test")
IMAGE_CODECS = (("png", "PNG"), ("webp", "WebP"), ("jxl", "JPEG XL"))
BYTE_CODECS = (("xz", "xz -9e"), ("brotli", "brotli 11"), ("zstd", "zstd 19"))


def load_records(directory: Path) -> list[tuple[Path, dict]]:
    """The bench records of ``directory``, in the order of ``ORDER`` then by name; others are skipped."""
    records = []
    for path in sorted(directory.glob("bench-*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            print(f"skipped {path}: {error}", file=sys.stderr)
            continue
        if record.get("schema") != SCHEMA:
            print(f"skipped {path}: schema {record.get('schema')!r}, not {SCHEMA}", file=sys.stderr)
            continue
        records.append((path, record))

    def key(item):
        spec = item[1]["dataset"]["spec"]
        return (ORDER.index(spec) if spec in ORDER else len(ORDER), spec, item[0].name)

    return sorted(records, key=key)


def _bpd(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def _baseline(record: dict, name: str, layout: str):
    for row in record["baselines"]:
        if row["name"] == name and row["layout"] == layout and row["status"] == "ok":
            return row["bpd"]
    return None


def row(record: dict) -> str:
    """One markdown table row of a record."""
    v = record["vaezip"]
    k = v["estimate_samples"]
    is_text = "–" if v["is_bpd"] is None else f"{v['is_bpd']:.3f} (K={k})"
    gap = "–" if v["gap_is_percent"] is None else f"{v['gap_is_bpd']:.3f} ({v['gap_is_percent']:+.1f} %)"
    cells = [f"`{record['dataset']['spec']}`", f"{record['dataset']['images']:,}", record["model"]["name"],
             f"**{v['bpd']:.3f}**", _bpd(v["neg_elbo_bpd"]), is_text, gap]
    for name, _ in IMAGE_CODECS:
        cells.append(f"{_bpd(_baseline(record, name, 'per-image'))} / {_bpd(_baseline(record, name, 'mosaic'))}")
    for name, _ in BYTE_CODECS:
        cells.append(_bpd(_baseline(record, name, "raw")))
    first = v.get("first_image") or {}
    alone = "–" if "archive_bits" not in first else (
        f"{first['archive_bits']:,} ({first['neg_elbo_bits']:,.0f})" if first.get("neg_elbo_bits") is not None
        else f"{first['archive_bits']:,}")
    cells.append(alone)
    cells.append(f"{v['decompress']['images_per_s']:,.0f}")
    return "| " + " | ".join(cells) + " |"


def table(records: list[tuple[Path, dict]]) -> str:
    """The markdown table, then the command and machine of every row."""
    header = (["data set", "images", "model", "vaezip", "−ELBO", "IS −log q(x)", "gap to IS"]
              + [f"{label} (per image / mosaic)" for _, label in IMAGE_CODECS]
              + [label for _, label in BYTE_CODECS] + ["first image alone: file bits (its −ELBO)", "decompress img/s"])
    lines = [
        "Bits per dimension (lower is better); vaezip: the whole archive with every overhead; "
        "image codecs per image file and as one mosaic image; xz, brotli and zstd over the raw bytes.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += [row(record) for _, record in records]
    lines.append("")
    for path, record in records:
        machine, versions = record["machine"], record["versions"]
        load = machine.get("load_average")
        load_text = f", load average {load[0]:.1f}" if load else ""
        where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        lines.append(f"- `{record['dataset']['spec']}`: `{record['command']}` ({record['started']}, "
                     f"{machine['processor']}, {machine['cpus']} CPUs{load_text}; vaezip {versions['vaezip']}, "
                     f"torch {versions.get('torch', '–')}; `{where}`)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=ROOT / "benchmarks" / "results",
                        help="folder of bench-*.json records [default: benchmarks/results]")
    args = parser.parse_args(argv)
    records = load_records(args.dir)
    if not records:
        print(f"no bench-*.json records with schema {SCHEMA} in {args.dir}", file=sys.stderr)
        return 1
    print(table(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
