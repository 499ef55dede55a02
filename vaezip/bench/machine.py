"""The machine a record was made on: CPU, vector flags, load, and the versions of what ran."""

from __future__ import annotations

import os
import platform
import sys


def environment() -> tuple[dict, dict]:
    import numpy
    import PIL

    import vaezip

    machine = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": cpu_name(),
        "vector_flags": vector_flags(),
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    versions = {"vaezip": vaezip.__version__, "python": platform.python_version(), "numpy": numpy.__version__,
                "Pillow": PIL.__version__}
    for module in ("torch", "numba"):
        if module in sys.modules:
            versions[module] = sys.modules[module].__version__
    return machine, versions


def vector_flags() -> list[str]:
    """The CPU's AVX/FMA/AMX flags from /proc/cpuinfo (torch picks its float32 kernels by them)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("flags"):
                    return sorted(f for f in line.split(":", 1)[1].split() if f.startswith(("avx", "fma", "amx")))
    except OSError:
        pass
    return []


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
