"""The command line as a user meets it, beside the API, in one run.

Usage::

    python benchmarks/cli_throughput.py --model mnist-bin --data mnist-bin-train,mnist-bin-test \\
        [--repeat 2] [--json benchmarks/results/cli-throughput-mnist-bin.json]
    python benchmarks/cli_throughput.py --model fashion --data fashion-test

The images are written as PNG files named ``00000.png`` ... in a temporary
directory. Then, ``--repeat`` times:

- command line: ``vaezip compress DIR -o F.vz --model M -k 0`` and
  ``vaezip decompress F.vz -o OUT/`` as processes (start-up, PNG reading and
  writing included); ``-k 0``: no estimates, which are the report's and not
  coding's (their default is being cut to a subset elsewhere). The PNGs that
  come back are compared with the inputs.
- API: ``vaezip.api.compress`` / ``decompress`` of the same pictures in
  memory (warm), once with the file names, once without, so that the cost
  of the name table shows.
- phases: one compress and one decompress run in this process step by step
  (imports, PNG reading, coding, writing), seconds each.

Best of the repeats; the −ELBO of the model from a posterior-mean pass is
printed beside the file's bits/dim. JSON to ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout, installed or not


def write_dir(images: np.ndarray, directory: Path) -> list:
    from vaezip.bench import to_pictures
    from vaezip.images import write_png

    directory.mkdir(parents=True)
    pictures = to_pictures(images)
    for index, picture in enumerate(pictures):
        picture.name = f"{index:05d}.png"
        write_png(picture, directory / picture.name)
    return pictures


def vaezip_process(*arguments: str) -> float:
    """Seconds of one ``vaezip`` process, start-up included."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "vaezip", *arguments], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"error: vaezip {' '.join(arguments)}: {done.stderr.strip()}")
    return time.perf_counter() - started


def cli_run(source: Path, work: Path, model: str) -> dict:
    archive, out = work / "cli.vz", work / "out"
    compress_s = vaezip_process("compress", str(source), "-o", str(archive), "--model", model, "-k", "0", "--force")
    decompress_s = vaezip_process("decompress", str(archive), "-o", str(out), "--force")
    from vaezip.images import read_png

    for path in sorted(source.iterdir()):
        if not np.array_equal(read_png(path.read_bytes()).pixels, read_png((out / path.name).read_bytes()).pixels):
            raise SystemExit(f"error: {path.name} did not come back exact through the command line")
    return {"compress_s": compress_s, "decompress_s": decompress_s, "file_bytes": archive.stat().st_size}


def api_run(pictures: list, model: str) -> dict:
    from dataclasses import replace

    from vaezip import api

    started = time.perf_counter()
    data, _ = api.compress(pictures, model=model)
    compressed = time.perf_counter()
    api.decompress(data)
    done = time.perf_counter()
    unnamed, _ = api.compress([replace(p, name=None) for p in pictures], model=model)
    return {"compress_s": compressed - started, "decompress_s": done - compressed, "file_bytes": len(data),
            "file_bytes_without_names": len(unnamed)}


# one compress and one decompress, step by step as the commands take them, in a fresh process
_PHASES = """
import io, json, sys, time
from pathlib import Path
t = [time.perf_counter()]
def lap(): t.append(time.perf_counter()); return t[-1] - t[-2]
source, archive, model = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
from vaezip import api
from vaezip.cli import compress as command
from vaezip.images import write_png
out = {"import_s": lap()}
files = command._inputs((source,))
pictures, sources = command._read(files)
out["read_png_s"] = lap()
data, _ = api.compress(pictures, model=model, sources=sources)
out["api_compress_s"] = lap()
archive.write_bytes(data)
out["write_vz_s"] = lap()
back = api.decompress(archive.read_bytes())
out["api_decompress_s"] = lap()
for picture in back:
    write_png(picture, io.BytesIO())
out["write_png_s"] = lap()
print(json.dumps(out))
"""


def phases(source: Path, work: Path, model: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", _PHASES, str(source), str(work / "phases.vz"), model],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"error: phases: {done.stderr.strip()}")
    return json.loads(done.stdout.splitlines()[-1])


def best(runs: list[dict]) -> dict:
    return {key: min(run[key] for run in runs) for key in runs[0]}


def neg_elbo_bpd(images: np.ndarray, model: str) -> float:
    from vaezip.pipeline.plan import _quick_neg_elbo
    from vaezip.bench import to_pictures
    from vaezip.models import zoo

    nats = [_quick_neg_elbo(zoo.get_info(model), to_pictures(images[k:k + 64])) for k in range(0, len(images), 64)]
    weights = [min(64, len(images) - k) for k in range(0, len(images), 64)]
    return float(np.average(nats, weights=weights)) / np.log(2) / images[0].size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True, help="named splits, comma-separated")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--limit", type=int, help="only the first N images (a quick try)")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    from vaezip.datasets import load

    images = np.concatenate([load(spec) for spec in args.data.split(",")])[:args.limit]
    dims = images.size
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        pictures = write_dir(images, work / "png")
        api_run(pictures[:200], args.model)  # warm-up
        cli, api_ = [], []
        for _ in range(args.repeat):
            cli.append(cli_run(work / "png", work, args.model))
            api_.append(api_run(pictures, args.model))
        steps = phases(work / "png", work, args.model)
    cli, api_ = best(cli), best(api_)
    record = {"command": "python benchmarks/cli_throughput.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "model": args.model, "data": args.data, "images": len(images), "repeat": args.repeat,
              "cli": {**cli, "bpd": cli["file_bytes"] * 8 / dims}, "api": {**api_, "bpd": api_["file_bytes"] * 8 / dims,
              "bpd_without_names": api_["file_bytes_without_names"] * 8 / dims}, "phases": steps,
              "neg_elbo_bpd": neg_elbo_bpd(images, args.model), "cpu_count": os.cpu_count(),
              "load_average_1min": round(os.getloadavg()[0], 2),
              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    print(json.dumps(record, indent=2))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
