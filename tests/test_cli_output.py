"""``-o`` naming a directory, the progress bar, and the report's estimates on a subset."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import blobs
from test_cli_coding import write_pngs
from vaezip.cli import main
from vaezip.cli.progress import Bar, wanted
from vaezip.images import read_png


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def one_line_error(result) -> bool:
    return result.exit_code == 1 and result.output.startswith("Error:") and result.output.count("\n") == 1


@pytest.fixture
def one(tiny_zoo, tmp_path) -> Path:
    """A one-image archive ``img00.png.vz`` (its PNG removed)."""
    (png,) = write_pngs(tmp_path / "in", blobs(1))
    assert run("compress", png, "-k", "0").exit_code == 0
    png.unlink()
    return tmp_path / "in" / "img00.png.vz"


@pytest.fixture
def many(tiny_zoo, tmp_path) -> Path:
    write_pngs(tmp_path / "in", blobs(3))
    assert run("compress", tmp_path / "in", "-o", tmp_path / "many.vz", "-k", "0").exit_code == 0
    return tmp_path / "many.vz"


# -o naming a directory: compress
def test_compress_one_image_into_an_existing_directory(tiny_zoo, tmp_path):
    (png,) = write_pngs(tmp_path / "in", blobs(1))
    (tmp_path / "out").mkdir()
    assert run("compress", png, "-o", tmp_path / "out", "-k", "0").exit_code == 0
    assert (tmp_path / "out" / "img00.png.vz").is_file()


def test_compress_into_a_new_directory_ending_in_a_slash(tiny_zoo, tmp_path):
    write_pngs(tmp_path / "scans", blobs(3))
    result = run("compress", tmp_path / "scans", "-o", f"{tmp_path / 'new' / 'deep'}/", "-k", "0")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new" / "deep" / "scans.vz").is_file()
    assert not (tmp_path / "new" / "deep" / "deep").exists()


def test_compress_into_a_directory_never_clobbers_without_force(tiny_zoo, tmp_path):
    (png,) = write_pngs(tmp_path / "in", blobs(1))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "img00.png.vz").write_bytes(b"keep")
    result = run("compress", png, "-o", tmp_path / "out", "-k", "0")
    assert one_line_error(result) and "--force" in result.output
    assert (tmp_path / "out" / "img00.png.vz").read_bytes() == b"keep"
    assert run("compress", png, "-o", tmp_path / "out", "-k", "0", "--force").exit_code == 0
    assert (tmp_path / "out" / "img00.png.vz").read_bytes()[:4] != b"keep"


def test_compress_refuses_a_directory_for_several_inputs_and_a_file_with_a_slash(tiny_zoo, tmp_path):
    first, second = write_pngs(tmp_path / "in", blobs(2))
    result = run("compress", first, second, "-o", f"{tmp_path / 'new'}/", "-k", "0")
    assert one_line_error(result) and "several inputs" in result.output and not (tmp_path / "new").exists()
    (tmp_path / "plain").write_bytes(b"x")
    result = run("compress", first, "-o", f"{tmp_path / 'plain'}/", "-k", "0")
    assert one_line_error(result) and "not a directory" in result.output
    assert (tmp_path / "plain").read_bytes() == b"x"


# -o naming a directory: decompress
@pytest.mark.parametrize("slash", [False, True])
def test_decompress_one_image_into_a_directory(one, tmp_path, slash):
    target = tmp_path / "out"
    if not slash:
        target.mkdir()
    result = run("decompress", one, "-o", f"{target}/" if slash else target)
    assert result.exit_code == 0, result.output
    assert read_png(target / "img00.png").pixels.shape[:2] == (8, 8)


def test_decompress_into_a_directory_with_the_file_already_there(one, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "img00.png").write_bytes(b"keep")
    result = run("decompress", one, "-o", tmp_path / "out")
    assert one_line_error(result) and "--force" in result.output
    assert (tmp_path / "out" / "img00.png").read_bytes() == b"keep"
    assert run("decompress", one, "-o", tmp_path / "out", "--force").exit_code == 0
    assert read_png(tmp_path / "out" / "img00.png").pixels.shape[:2] == (8, 8)
    (tmp_path / "out" / "img00.png").unlink()
    (tmp_path / "out" / "img00.png").mkdir()  # a directory where the file would go: never replaced
    result = run("decompress", one, "-o", tmp_path / "out", "--force")
    assert one_line_error(result) and "is a directory" in result.output


@pytest.mark.parametrize("how", ["existing", "slash", "plain"])
def test_decompress_many_images_into_a_directory(many, tmp_path, how):
    target = tmp_path / "restored"
    if how == "existing":
        target.mkdir()
    result = run("decompress", many, "-o", f"{target}/" if how == "slash" else target)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in target.iterdir()) == ["img00.png", "img01.png", "img02.png"]
    for name in ("img00.png", "img01.png", "img02.png"):
        assert read_png(target / name) == read_png(tmp_path / "in" / name)


def test_decompress_many_images_onto_a_file_is_refused(many, tmp_path):
    (tmp_path / "plain").write_bytes(b"x")
    result = run("decompress", many, "-o", tmp_path / "plain", "--force")
    assert one_line_error(result) and "directory" in result.output
    assert (tmp_path / "plain").read_bytes() == b"x"


def test_decompress_one_image_to_a_file_name_still_writes_that_file(one, tmp_path):
    assert run("decompress", one, "-o", tmp_path / "digit.png").exit_code == 0
    assert (tmp_path / "digit.png").is_file()


# the progress bar
class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_draws_after_its_delay_with_rate_and_time_left():
    stream = Terminal()
    bar = Bar(4, "images", "coding", stream=stream, delay=0.0)
    bar.update(1)
    bar.update(2)
    bar.close()
    text = stream.getvalue()
    assert "coding 1/4 images" in text and text.endswith("\n") and "%" in text
    late = Terminal()
    bar = Bar(4, "images", "coding", stream=late, delay=60.0)
    bar.update(4)
    bar.close()
    assert late.getvalue() == ""  # quick work stays silent


def test_bar_time_left_from_the_rate():
    bar = Bar(10, "images", "coding", stream=Terminal(), delay=0.0)
    bar.update(2)
    bar.update(2)
    first_time = bar.first[0]
    assert "4/10 images" in bar.line(first_time + 1.0)
    assert "2 images/s  0:03 left" in bar.line(first_time + 1.0)


def test_progress_is_wanted_only_on_a_terminal(monkeypatch):
    monkeypatch.delenv("VAEZIP_PROGRESS", raising=False)
    assert wanted(False, False, Terminal()) and not wanted(False, False, io.StringIO())
    assert not wanted(True, False, Terminal()) and not wanted(False, True, Terminal())
    monkeypatch.setenv("VAEZIP_PROGRESS", "never")
    assert not wanted(False, False, Terminal())
    monkeypatch.setenv("VAEZIP_PROGRESS", "always")
    assert wanted(False, False, io.StringIO()) and not wanted(False, True, io.StringIO())


FORCED = {"VAEZIP_PROGRESS": "always", "VAEZIP_PROGRESS_DELAY": "0"}


def test_commands_draw_the_bar_on_stderr_only_when_wanted(tiny_zoo, tmp_path):
    write_pngs(tmp_path / "in", blobs(6))
    shown = run("compress", tmp_path / "in", "-o", tmp_path / "a.vz", "-k", "0", env=FORCED)
    assert shown.exit_code == 0 and "compressing 6/6 images" in shown.stderr and "images" not in shown.stdout[:5]
    as_json = run("compress", tmp_path / "in", "-o", tmp_path / "b.vz", "-k", "0", "--json", env=FORCED)
    assert as_json.stderr == "" and json.loads(as_json.stdout)["file_bytes"] > 0
    quiet = run("compress", tmp_path / "in", "-o", tmp_path / "c.vz", "-k", "0", "-q", env=FORCED)
    assert quiet.exit_code == 0 and quiet.stderr == ""
    plain = run("compress", tmp_path / "in", "-o", tmp_path / "d.vz", "-k", "0", env={"VAEZIP_PROGRESS_DELAY": "0"})
    assert plain.exit_code == 0 and plain.stderr == ""  # CliRunner's stderr is no terminal
    back = run("decompress", tmp_path / "a.vz", "-o", tmp_path / "out", env=FORCED)
    assert back.exit_code == 0 and "decompressing 6/6 images" in back.stderr
    assert run("decompress", tmp_path / "b.vz", "-o", tmp_path / "out2", "-q", env=FORCED).stderr == ""


def _stderr_of(args: list[str], terminal: bool) -> str:
    env = dict(os.environ, VAEZIP_PROGRESS_DELAY="0")
    env.pop("VAEZIP_PROGRESS", None)
    if not terminal:
        done = subprocess.run([sys.executable, "-m", "vaezip", *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stderr
    leader, follower = pty.openpty()
    with subprocess.Popen([sys.executable, "-m", "vaezip", *args], env=env, stdout=subprocess.DEVNULL,
                          stderr=follower) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            chunks.append(chunk)
    os.close(leader)
    assert process.returncode == 0
    return b"".join(chunks).decode()


def test_a_real_terminal_gets_the_bar_and_a_pipe_does_not(tmp_path):
    write_pngs(tmp_path / "in", blobs(3))
    args = ["compress", str(tmp_path / "in"), "-o", str(tmp_path / "a.vz"), "--model", "none"]
    assert "compressing 3/3 images" in _stderr_of(args, terminal=True)
    assert _stderr_of(args + ["--force"], terminal=False) == ""
