"""Worker processes: how many (MESOCARE_PDF_WORKERS), and that none outlives its run.

The runs here are real processes: ``mesocare batch`` and ``mesocare send`` are started in a
session of their own, killed with SIGKILL part way, and every process of that session must be
gone within a few seconds; the next run clears what the killed one left in the temporary folder.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailserver import PASSWORD, MailServer
from mesocare import workers
from mesocare.errors import ExitCode, UsageError

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

CSV_HEADER = "date,time,area,name,patient_id,appointment_id,email\n"


def rows(n: int) -> str:
    return CSV_HEADER + "".join(
        f"2024-06-10,{8 + (i // 12) % 10:02d}:{(i * 5) % 60:02d},face,"
        f"Patient {i},P-{i},A-{i},p{i}@example.com\n"
        for i in range(n)
    )


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a run: a temporary folder of its own (so its leftovers are seen)."""
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    left_out = ("MESOCARE_CLINIC", "MESOCARE_PDF_WORKERS")
    base = {k: v for k, v in os.environ.items() if k not in left_out}
    return {**base, "TMPDIR": str(scratch), **extra}


DAY = ("--today", "2024-06-01", "--tz", "Europe/London")


def mesocare(*args: str) -> list[str]:
    return [sys.executable, "-m", "mesocare", *args, *DAY]


def finish(cmd: list[str], cwd: Path, environ: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd, cwd=cwd, env=environ, capture_output=True, text=True, timeout=120, check=False
    )


def start(cmd: list[str], cwd: Path, environ: dict) -> subprocess.Popen:
    """A run in a session (and process group) of its own."""
    return subprocess.Popen(
        cmd,
        cwd=cwd,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


# ----------------------------------------------------------------------------- how many


BAD_COUNTS = ["²", "٣", "0", "000", "-1", "+2", "two", "1.5", "1e3", "2 2", "3\x00"]


@pytest.mark.parametrize("value", BAD_COUNTS)
def test_a_worker_count_that_is_not_a_whole_number_is_one_sentence_and_exit_2(tmp_path, value):
    (tmp_path / "day.csv").write_text(rows(3), encoding="utf-8")
    for args in (["batch", "day.csv", "--out", "day.pdf"], ["send", "day.csv", "--dry-run", "eml"]):
        if "\x00" in value:  # an environment cannot hold NUL: checked in-process below
            continue
        done = finish(mesocare(*args), tmp_path, env(tmp_path, MESOCARE_PDF_WORKERS=value))
        assert done.returncode == ExitCode.USAGE, done.stderr
        assert "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "MESOCARE_PDF_WORKERS" in lines[0], done.stderr
        assert not (tmp_path / "day.pdf").exists() and not (tmp_path / "eml").exists()
    with pytest.raises(UsageError):
        workers.wanted({workers.ENV: value})


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_any_value_is_a_bounded_count_or_a_usage_error(value):
    try:
        n = workers.wanted({workers.ENV: value})
    except UsageError as e:
        assert workers.ENV in str(e) and "\n" not in str(e)
        text = value.strip()
        assert not (text.isascii() and text.isdigit() and int(text) > 0)
        return
    assert 1 <= n <= workers.limit() <= workers.MAX_WORKERS
    text = value.strip()
    if text:
        assert text.isascii() and text.isdigit() and n == min(int(text), workers.limit())


def test_a_huge_count_is_lowered_to_the_cores():
    assert workers.wanted({workers.ENV: "1000"}) == workers.limit()
    assert workers.wanted({workers.ENV: "9" * 5000}) == workers.limit()
    assert workers.wanted({}) == min(workers.cores(), workers.DEFAULT_CAP)


def _square(x: int) -> int:
    return x * x


def test_the_pool_gives_results_in_order_in_this_process_and_in_workers():
    for n in (1, 2):
        with workers.Pool(n) as pool:
            out = list(pool.ordered(_square, (((k,), k) for k in range(40))))
        assert out == [(k * k, k) for k in range(40)]


def test_what_the_caller_does_while_waiting_runs_once_before_the_first_result():
    # a batch loads its join's library then, while the workers typeset the first pieces
    done: list[str] = []
    submitted: list[int] = []

    def jobs():
        for k in range(6):
            submitted.append(k)
            yield (k,), k

    with workers.Pool(2) as pool:
        results = pool.ordered(_square, jobs(), waiting=lambda: done.append(f"{len(submitted)}"))
        assert next(results) == (0, 0)
        assert done == [f"{workers.AHEAD * 2}"]  # after the first jobs were handed out
        assert list(results) == [(k * k, k) for k in range(1, 6)]
    assert done == [f"{workers.AHEAD * 2}"]  # once


# ----------------------------------------------------------------------------- lifetime


def group(pgid: int) -> dict[int, str]:
    """The live processes (pid -> state) of a process group, zombies left out."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat_ = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat_[stat_.rindex(")") + 2 :].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state not in ("Z", "X"):
            found[int(entry)] = state
    return found


def wait_for(condition, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def kill_part_way(cmd: list[str], cwd: Path, environ: dict, ready, timeout: float = 90) -> int:
    """Start ``cmd`` in a session of its own, wait for ``ready(pgid)``, SIGKILL the run, and
    return the most processes its session had; assert none of them survives."""
    proc = start(cmd, cwd, environ)
    most = 0
    try:
        end = time.monotonic() + timeout
        while time.monotonic() < end and proc.poll() is None:
            most = max(most, len(group(proc.pid)))
            if ready(proc.pid):
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be killed part way"
        most = max(most, len(group(proc.pid)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        gone = wait_for(lambda: not group(proc.pid), 10)
        assert gone, f"processes outlived their killed run: {group(proc.pid)}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in group(proc.pid):  # never leave one behind, even when the test fails
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return most


def pieces(scratch: Path) -> list[Path]:
    return list(scratch.glob("mesocare-*/*.pdf"))


def leftovers(tmp_path: Path) -> list[Path]:
    """Every file a run left in its temporary folder, or as a temporary file beside its output."""
    scratch = tmp_path / "scratch"
    return [p for p in scratch.rglob("*") if not p.is_dir()] + list(tmp_path.glob(".*.part"))


def test_a_killed_batch_leaves_no_worker_and_the_next_run_clears_its_pieces(tmp_path):
    (tmp_path / "day.csv").write_text(rows(400), encoding="utf-8")
    environ = env(tmp_path, MESOCARE_PDF_WORKERS="1000")
    cmd = mesocare("batch", "day.csv", "--out", "day.pdf")
    scratch = tmp_path / "scratch"

    def mid_render(pgid: int) -> bool:
        return len(pieces(scratch)) >= 2 and len(group(pgid)) >= 3

    most = kill_part_way(cmd, tmp_path, environ, mid_render)
    # this run, its workers (at most one per core) and multiprocessing's resource tracker
    assert most <= 1 + workers.limit() + 1
    assert pieces(scratch), "the killed run left its pieces (this is what the next run clears)"
    assert not (tmp_path / "day.pdf").exists()
    (tmp_path / "one.csv").write_text(rows(2), encoding="utf-8")
    done = finish(mesocare("batch", "one.csv", "--out", "one.pdf"), tmp_path, environ)
    assert done.returncode == 0, done.stderr
    assert leftovers(tmp_path) == []


@pytest.fixture
def mail_server(tmp_path):
    server = MailServer(tmp_path).start()
    yield server
    server.stop()


def test_a_killed_send_leaves_no_worker(tmp_path, mail_server):
    (tmp_path / "mesocare.yaml").write_text(mail_server.config(), encoding="utf-8")
    (tmp_path / "day.csv").write_text(rows(80), encoding="utf-8")
    environ = env(
        tmp_path,
        MESOCARE_PDF_WORKERS="2",
        MESOCARE_SMTP_PASSWORD=PASSWORD,
        MESOCARE_CLINIC=str(tmp_path / "mesocare.yaml"),
    )
    cmd = mesocare("send", "day.csv")
    most = kill_part_way(cmd, tmp_path, environ, lambda pgid: len(group(pgid)) >= 3)
    assert most >= 3  # the run and its two workers (a tracker maybe): it was killed mid-render


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_batch_killed_at_a_random_point_leaves_nothing_after_the_next_run(tmp_path, seed):
    (tmp_path / "day.csv").write_text(rows(160), encoding="utf-8")
    environ = env(tmp_path, MESOCARE_PDF_WORKERS="2")
    delay = random.Random(seed).uniform(0.2, 4.0)
    proc = start(mesocare("batch", "day.csv", "--out", "day.pdf"), tmp_path, environ)
    time.sleep(delay)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)  # the run only: its workers must follow by themselves
    proc.wait(10)
    assert wait_for(lambda: not group(proc.pid), 10)
    (tmp_path / "one.csv").write_text(rows(1), encoding="utf-8")
    done = finish(mesocare("batch", "one.csv", "--out", "day.pdf"), tmp_path, environ)
    assert done.returncode == 0, done.stderr
    assert leftovers(tmp_path) == [], f"killed after {delay:.2f} s"


def test_a_batch_stopped_with_sigterm_cleans_up_after_itself(tmp_path):
    """SIGTERM (kill, a service manager, timeout) ends a run as Ctrl-C does: exit 130, one
    line, its workers stopped, its temporary folder removed by itself, no output file."""
    (tmp_path / "day.csv").write_text(rows(400), encoding="utf-8")
    environ = env(tmp_path, MESOCARE_PDF_WORKERS="2")
    proc = subprocess.Popen(
        mesocare("batch", "day.csv", "--out", "day.pdf"),
        cwd=tmp_path,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert wait_for(lambda: len(pieces(tmp_path / "scratch")) >= 2, 90)
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert err.strip().splitlines()[-1] == "mesocare: interrupted; no file was left half-written."
    assert "Traceback" not in err
    assert wait_for(lambda: not group(proc.pid), 10)
    assert leftovers(tmp_path) == [] and not (tmp_path / "day.pdf").exists()
