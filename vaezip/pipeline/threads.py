"""Streams are coded on a thread pool, each worker with one torch thread, so that what is coded
never depends on the machine's core count."""

from __future__ import annotations

import contextlib
import os
import sys
from concurrent.futures import ThreadPoolExecutor


def in_parallel(work, items) -> list:
    """``[work(item) for item in items]`` on a thread pool, torch pinned to one thread everywhere."""

    def job(item):
        one_torch_thread()
        return work(item)

    with torch_threads(1), ThreadPoolExecutor(workers(len(items))) as pool:
        return list(pool.map(job, items))


def torch_threads(n: int):
    """Context: torch intra-op threads set to ``n`` (restored after), if torch is loaded."""

    @contextlib.contextmanager
    def manager():
        torch = sys.modules.get("torch")
        if torch is None:
            yield
            return
        previous = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(previous)

    return manager()


def one_torch_thread() -> None:
    """Pin torch to one intra-op thread *in the calling thread*.

    OpenMP keeps its thread count per thread: a pool thread does not
    inherit what the main thread set, and some float32 kernels give
    different last bits with 2 threads than with 1. Every worker calls this
    first, so coding never depends on the machine's core count.
    """
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def workers(jobs: int) -> int:
    return max(1, min(jobs, os.cpu_count() or 1))
