"""Temporary folders (mesocare.scratch): gone with their run, or cleared by the next one, and
never another live run's, another user's, or what a link points to."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mesocare import scratch

pytestmark = pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners and locks")

HOLD = """
import sys, time
from mesocare import scratch
with scratch.folder("pdf", sys.argv[1]) as f:
    (f / "part-000001.pdf").write_bytes(b"Ana Lopez")
    print(f, flush=True)
    time.sleep(60)
"""


def hold(base: Path) -> tuple[subprocess.Popen, Path]:
    """A run that holds its temporary folder (with a piece in it) until killed."""
    cmd = [sys.executable, "-c", HOLD, str(base)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    assert line, "the holding run did not start"
    return proc, Path(line)


def test_the_folder_is_private_named_with_the_pid_and_gone_after_the_block(tmp_path):
    with scratch.folder("pdf", str(tmp_path)) as folder:
        assert folder.parent == tmp_path and folder.name.startswith(f"mesocare-pdf-{os.getpid()}-")
        assert folder.stat().st_mode & 0o777 == 0o700
        (folder / "part-000001.pdf").write_bytes(b"x")
    assert list(tmp_path.iterdir()) == []


def test_a_killed_runs_folder_is_cleared_and_a_live_runs_kept(tmp_path):
    live, live_folder = hold(tmp_path)
    dead, dead_folder = hold(tmp_path)
    try:
        dead.kill()
        dead.wait(10)
        assert dead_folder.exists()  # SIGKILL: the run could not clear it
        with scratch.folder("pdf", str(tmp_path)) as mine:
            assert not dead_folder.exists()
            assert (live_folder / "part-000001.pdf").read_bytes() == b"Ana Lopez"
            assert scratch.sweep(str(tmp_path)) == []  # neither this run's nor the live one's
            assert mine.exists()
    finally:
        live.kill()
        live.wait(10)
    assert scratch.sweep(str(tmp_path)) == [live_folder.name]
    assert list(tmp_path.iterdir()) == []


def test_the_sweep_follows_no_link_and_leaves_other_users_and_other_names(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("keep")
    base = tmp_path / "tmp"
    base.mkdir()
    (base / "mesocare-pdf-1-abcdefgh").symlink_to(target, target_is_directory=True)
    (base / "mesocare-test-cache-abcd1234").mkdir()  # not ours to clear
    (base / "mesocare-rules.yaml").write_text("a file")
    others = base / "mesocare-pdf-2-ijklmnop"
    others.mkdir()
    (others / "part-000001.pdf").write_bytes(b"x")
    if os.getuid() == 0:
        os.chown(others, 54321, 54321)
    assert scratch.sweep(str(base)) == ([] if os.getuid() == 0 else [others.name])
    assert (target / "keep.txt").read_text() == "keep"
    assert (base / "mesocare-pdf-1-abcdefgh").is_symlink()
    assert (base / "mesocare-test-cache-abcd1234").is_dir()
    assert (base / "mesocare-rules.yaml").exists()


def test_an_earlier_versions_folder_is_cleared_once_nothing_changed_in_it_for_an_hour(tmp_path):
    old = tmp_path / "mesocare-pdf-ab_cd123"
    old.mkdir()
    (old / "part-000001.pdf").write_bytes(b"Ana Lopez")
    assert scratch.sweep(str(tmp_path)) == []  # it may belong to a run of that version
    assert scratch.sweep(str(tmp_path), now=time.time() + scratch.OLD_AGE + 1) == [old.name]
    assert not old.exists()


def test_an_empty_folder_left_before_its_lock_is_cleared_after_a_minute(tmp_path):
    new = tmp_path / ".mesocare-new-abcd1234"
    new.mkdir()
    assert scratch.sweep(str(tmp_path)) == []
    assert scratch.sweep(str(tmp_path), now=time.time() + scratch.NEW_AGE + 1) == [new.name]
