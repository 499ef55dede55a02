"""Compiled kernels are cached in the user's cache directory when the installed package is read-only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from vaezip.rans import cache_dir

ROOT = Path(__file__).resolve().parents[1]

# one kernel compiled (or loaded) and run: the rANS push of a few intervals
_PUSH = """
import numpy as np
from vaezip.rans import Message, push_intervals
msg = Message()
push_intervals(msg, np.array([0, 5, 9], dtype=np.uint32), np.array([5, 4, 7], dtype=np.uint32), 4)
print(msg.num_bits())
"""


def _run(package_root: Path, cache_home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "PYTHONPATH")}
    env.update(PYTHONPATH=str(package_root), XDG_CACHE_HOME=str(cache_home), NUMBA_DEBUG_CACHE="1")
    done = subprocess.run([sys.executable, "-c", _PUSH], capture_output=True, text=True, env=env, timeout=300,
                          cwd=package_root)
    assert done.returncode == 0, done.stderr
    return done


def test_a_read_only_install_caches_kernels_in_the_user_cache_dir(tmp_path):
    package_root = tmp_path / "site"
    shutil.copytree(ROOT / "vaezip", package_root / "vaezip", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(["chmod", "-R", "a-w", str(package_root)], check=True)
    try:
        first = _run(package_root, tmp_path / "cache")
        second = _run(package_root, tmp_path / "cache")
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(package_root)], check=True)
    user_dir = tmp_path / "cache" / "vaezip" / "numba"
    assert "data saved" in first.stdout and str(user_dir) in first.stdout
    assert "data loaded" in second.stdout and "data saved" not in second.stdout
    assert first.stdout.splitlines()[-1] == second.stdout.splitlines()[-1]
    assert list(user_dir.rglob("*.nbi")) and not list(package_root.rglob("*.nbi"))


def test_the_cache_stays_beside_a_writable_package_and_a_users_choice_is_kept(tmp_path, monkeypatch):
    assert cache_dir.package_writable(tmp_path)
    tmp_path.chmod(0o555)
    try:
        assert not cache_dir.package_writable(tmp_path)
    finally:
        tmp_path.chmod(0o755)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir.configure() == str(tmp_path / "mine")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir.user_cache_dir() == tmp_path / "xdg" / "vaezip" / "numba"
