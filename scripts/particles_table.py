"""Print the README's importance-sampled bits-back table from ``vaezip bench`` records.

Reads ``benchmarks/results/particles/*.json`` (each written by ``vaezip bench
DATASET --particles K [--estimator E] --baselines none --json FILE``) and
prints one markdown table row per record: the archive's bits/dim (every
overhead included), the −ELBO and the K-sample importance-sampled estimate
of the same images, the gaps, the filler words the coder borrowed, and the
compress / decompress throughput; then the command and machine of each::

    python scripts/particles_table.py
    python scripts/particles_table.py --dir some/dir
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = "vaezip-bench/1"


def rows(directory: Path) -> list[dict]:
    records = []
    for path in sorted(directory.glob("*.json")):
        record = json.loads(path.read_text())
        if record.get("schema") != SCHEMA:
            print(f"skipped {path}: not a {SCHEMA} record", file=sys.stderr)
            continue
        record["_path"] = path
        records.append(record)
    records.sort(key=lambda r: (r["dataset"]["spec"], r["dataset"].get("limit") or 0,
                                r.get("estimator", "bb-ans") == "bb-is", r["particles"], -r["vaezip"]["streams"]))
    return records


def table(records: list[dict]) -> str:
    baseline = {}  # K = 1 archive bits/dim per (data set, limit)
    for r in records:
        if r["particles"] == 1:
            baseline[(r["dataset"]["spec"], r["dataset"].get("limit"))] = r["vaezip"]["bpd"]
    lines = [
        "| data set | images | model | estimator | K | streams | archive bpd | vs K = 1 archive | −ELBO | IS estimate "
        "| archive over its estimate | filler words | compress img/s | decompress img/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        v = r["vaezip"]
        one = baseline.get((r["dataset"]["spec"], r["dataset"].get("limit")))
        versus = "–" if one is None or r["particles"] == 1 else f"{100 * (v['bpd'] / one - 1):+.2f} %"
        estimate = "–" if v["is_bpd"] is None else f"{v['is_bpd']:.4f} (K={v['estimate_samples']})"
        # the K = 1 archive's estimate is the -ELBO; with K particles, the K-sample IS estimate
        gap = v["gap_neg_elbo_percent"] if r["particles"] == 1 else v["gap_is_percent"]
        gap = "–" if gap is None else f"{gap:+.2f} %" + (" (−ELBO)" if r["particles"] == 1 else "")
        lines.append(
            f"| `{r['dataset']['spec']}` | {r['dataset']['images']:,} | {r['model']['name']} | "
            f"{r.get('estimator', 'bb-ans')} | {r['particles']} | {v['streams']} | **{v['bpd']:.4f}** | {versus} | "
            f"{v['neg_elbo_bpd']:.4f} | {estimate} | {gap} | {v['filler_words']} | "
            f"{v['compress']['images_per_s']:.1f} | {v['decompress']['images_per_s']:.1f} |"
        )
    lines.append("")
    for r in records:
        m = r["machine"]
        load = m.get("load_average") or ["?"]
        load = f"{load[0]:.1f}" if isinstance(load[0], float) else load[0]
        lines.append(f"- `{r['command']}` ({r['started']}, {m.get('processor', '?')}, {m.get('cpus', '?')} CPUs, "
                     f"load average {load}; vaezip {r['versions'].get('vaezip', '?')})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=ROOT / "benchmarks" / "results" / "particles")
    args = parser.parse_args(argv)
    records = rows(args.dir)
    if not records:
        print(f"no records in {args.dir}", file=sys.stderr)
        return 1
    print(table(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
