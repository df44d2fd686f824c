"""What the CLI says on its streams: a closed pipe is quiet, stderr points only to what
exists, an empty --print day prints nothing, a clinic without a phone number is warned, and a
Ctrl-C at any point is exit 130 with one line and no half-written file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_cli

TODAY = ["--tz", "Europe/London", "--today", "2024-06-01"]
SAMPLE_CLINIC = REPO / "examples" / "clinic.yaml"
SCHEDULE = REPO / "examples" / "schedule.csv"  # booking dates: some patients to phone


pytestmark = pytest.mark.usefixtures("no_clinic_env")


run = run_cli


@pytest.mark.parametrize(
    "args",
    [
        ["rules", "list"],
        ["rules", "list", "--format", "json"],
        ["prep", "--date", "2024-06-10", "--area", "face", *TODAY, "--clinic", SAMPLE_CLINIC],
        [
            "prep",
            "--date",
            "2024-06-10",
            "--area",
            "face",
            *TODAY,
            "--clinic",
            SAMPLE_CLINIC,
            "--format",
            "json",
        ],
        ["batch", SCHEDULE, "--format", "ndjson", *TODAY, "--clinic", SAMPLE_CLINIC],
        ["plan", "--date", "2024-06-10", "--sessions", "3", "--every", "4w", *TODAY],
        ["schema"],
        ["rules", "show", "showers"],
        ["rules", "check"],
        [
            "prep",
            "--date",
            "2024-06-10",
            "--area",
            "face",
            *TODAY,
            "--clinic",
            SAMPLE_CLINIC,
            "--format",
            "pdf",
        ],
        ["batch", SCHEDULE, *TODAY, "--clinic", SAMPLE_CLINIC],
        ["--version"],
        ["--help"],
        ["prep", "--help"],
    ],
    ids=[
        "rules-list",
        "rules-json",
        "prep-text",
        "prep-json",
        "batch-ndjson",
        "plan",
        "schema",
        "rules-show",
        "rules-check",
        "prep-pdf",
        "batch-text",
        "version",
        "help",
        "prep-help",
    ],
)
def test_a_closed_pipe_exits_quietly_with_0(args):
    """As `mesocare ... | head -1`, with the reader gone before mesocare writes."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mesocare", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert err == "", err  # no message at all: the reader went away, that is all


def test_rules_list_piped_to_head_exits_0_silently():
    r = subprocess.run(
        f"set -o pipefail; {sys.executable} -m mesocare rules list | head -1",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and r.stdout.startswith("Rules") and r.stderr == ""


def test_batch_print_with_no_handouts_prints_nothing_and_exits_0(tmp_path):
    r = run("batch", SCHEDULE, "--date", "2024-07-01", "--print", *TODAY, "--clinic", SAMPLE_CLINIC)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    assert "No handouts to print: nothing was sent to the printer." in r.stderr
    assert "Sent to the printer" not in r.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "extra, cover",
    [
        (["--format", "text"], True),
        (["--out", "day.pdf"], True),
        (["--out", "handouts/"], False),
        (["--out", "handouts/", "--format", "text"], False),
        (["--format", "json"], False),
        (["--format", "ndjson"], False),
        (["--format", "ics"], False),
    ],
)
def test_stderr_points_to_the_cover_sheet_only_when_there_is_one(extra, cover):
    r = run("batch", SCHEDULE, *extra, *TODAY, "--clinic", SAMPLE_CLINIC)
    assert r.exit_code == 0, r.stderr
    phone_line = next(
        line for line in r.stderr.splitlines() if "to phone before their appointment" in line
    )
    assert ("see the cover sheet" in phone_line) is cover


def test_a_clinic_without_a_phone_number_is_one_warning_per_run():
    r = run("batch", SCHEDULE, "--format", "text", *TODAY)
    assert r.exit_code == 0
    warnings = [line for line in r.stderr.splitlines() if "no phone number" in line]
    assert warnings == [
        "mesocare: warning: the clinic has no phone number, "
        'so handouts say only "Call the clinic.":'
        " add one with mesocare init --phone, or phone: in the clinic config."
    ]
    single = run("prep", "--date", "2024-06-10", "--area", "face", *TODAY, "--strict")
    assert single.exit_code == 0 and "mesocare init" in single.stderr
    with_phone = run(
        "prep", "--date", "2024-06-10", "--area", "face", *TODAY, "--clinic", SAMPLE_CLINIC
    )
    assert with_phone.exit_code == 0 and with_phone.stderr == ""
    assert (
        "+44 20 7946 0000" in with_phone.stdout
        and "Harbour Skin Clinic".upper() in with_phone.stdout
    )


# ------------------------------------------------------------------ Ctrl-C
# Each interrupt is sent at a point the test knows the run has reached (it has read its input,
# written part of its output, begun importing a given module), never after a guessed delay:
# the run must then end with exit 130, the one line below, and no file half-written.

INTERRUPTED = ["mesocare: interrupted; no file was left half-written."]


def wait_for(ready, proc, what: str, seconds: float = 120) -> None:
    """Poll until ``ready()``; fail if the run ends first or it takes too long."""
    import time

    deadline = time.monotonic() + seconds
    while not ready():
        assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before {what}"
        assert time.monotonic() < deadline, f"no {what} after {seconds} s"
        time.sleep(0.01)


def interrupt(proc) -> tuple[int, list[str]]:
    import signal

    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err.decode().splitlines()


def long_schedule(path: Path, rows: int) -> Path:
    """A schedule long enough that writing its handouts takes far longer than the test's polls."""
    lines = ["date,time,area,patient_id"]
    lines += [
        f"2024-06-{10 + i % 20:02d},{9 + i % 8:02d}:{i % 2 * 30:02d},face,P-{i}"
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def mesocare(*args, cwd: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mesocare", *map(str, args)],
        cwd=cwd,
        stdout=kw.pop("stdout", subprocess.PIPE),
        stderr=subprocess.PIPE,
        **kw,
    )


def test_an_interrupt_while_waiting_for_stdin_is_exit_130_with_one_line(tmp_path):
    slow = tmp_path / "slow.py"
    slow.write_text(
        "import sys, time\n"
        "sys.stdout.write('date,time,area\\n'); sys.stdout.flush(); time.sleep(60)\n"
    )
    feeder = subprocess.Popen([sys.executable, str(slow)], stdout=subprocess.PIPE)
    proc = mesocare(
        "batch",
        "-",
        *TODAY,
        "--clinic",
        SAMPLE_CLINIC,
        "--out",
        "day.pdf",
        cwd=tmp_path,
        stdin=feeder.stdout,
    )
    import fcntl
    import struct
    import termios

    def unread() -> int:  # bytes the feeder wrote that mesocare has not read yet
        waiting = fcntl.ioctl(feeder.stdout.fileno(), termios.FIONREAD, b"\0\0\0\0")
        return struct.unpack("i", waiting)[0]

    # the feeder has written the header, and mesocare has read it: it is running its own code,
    # waiting for the rest of stdin
    wait_for(lambda: unread() > 0 or feeder.poll() is not None, proc, "header from the feeder")
    wait_for(lambda: unread() == 0, proc, "read of stdin")
    code, err = interrupt(proc)
    feeder.kill()
    assert code == 130
    assert err == INTERRUPTED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slow.py"]  # no day.pdf, no .part file


def test_an_interrupt_while_writing_a_file_leaves_no_file_and_no_part(tmp_path):
    """Ctrl-C once the output's temporary file holds part of the handouts: the file asked for is
    not created, the temporary file is removed, exit 130."""
    schedule = long_schedule(tmp_path / "long.csv", 50_000)
    proc = mesocare(
        "batch",
        schedule,
        "--format",
        "ndjson",
        "--order",
        "input",
        "--out",
        "day.ndjson",
        *TODAY,
        "--clinic",
        SAMPLE_CLINIC,
        cwd=tmp_path,
    )

    def part_written() -> bool:
        """A named .part file, or (Linux, O_TMPFILE) an unnamed one the run holds open in
        tmp_path, with something in it."""
        if any(p.name.endswith(".part") and p.stat().st_size > 0 for p in tmp_path.iterdir()):
            return True
        fds = Path(f"/proc/{proc.pid}/fd")
        for fd in fds.iterdir() if fds.is_dir() else ():
            try:
                target = os.readlink(fd)
                if target.startswith(f"{tmp_path}/#") and os.stat(fd).st_size > 0:
                    return True
            except OSError:
                continue
        return False

    wait_for(part_written, proc, "part of the output written")
    code, err = interrupt(proc)
    assert code == 130
    assert err == INTERRUPTED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.csv"]


def test_an_interrupt_while_writing_a_folder_leaves_only_whole_files(tmp_path):
    """Ctrl-C once the first handouts of --out DIR/ are written: every file there is whole
    (each one a complete JSON handout), no temporary file is left, exit 130."""
    import json

    schedule = long_schedule(tmp_path / "long.csv", 20_000)
    out = tmp_path / "handouts"
    proc = mesocare(
        "batch",
        schedule,
        "--format",
        "json",
        "--order",
        "input",
        "--out",
        f"{out}/",
        *TODAY,
        "--clinic",
        SAMPLE_CLINIC,
        cwd=tmp_path,
    )

    def whole_files() -> list[Path]:
        return [p for p in out.iterdir() if not p.name.startswith(".")] if out.is_dir() else []

    wait_for(lambda: len(whole_files()) >= 3, proc, "three handout files")
    code, err = interrupt(proc)
    assert code == 130
    assert err == INTERRUPTED
    files = sorted(out.iterdir())
    assert files and not [p.name for p in files if p.name.startswith(".")]  # no .part file
    for path in files:
        assert json.loads(path.read_text())["patient"]["id"].startswith("P-"), path.name


def test_the_sample_clinic_is_what_the_readme_says():
    text = SAMPLE_CLINIC.read_text()
    assert "timezone: Europe/London" in text and "+44 20 7946 0000" in text
    assert Path(REPO / "README.md").read_text().count("--clinic examples/clinic.yaml") >= 1


# where a run is interrupted: importing the command line, the toolkit, the shared options,
# then the command's own work (the date engine) and its output (the renderers)
START_UP = [
    "mesocare.cli",
    "typer",
    "mesocare.cli.application",
    "mesocare.cli.options",
    "mesocare.dates",
    "mesocare.render",
]
SIGINT_AT_IMPORT = """\
import os, signal, sys

class _InterruptAt:
    \"\"\"Ctrl-C at the instant the run begins to import $MESOCARE_TEST_SIGINT_AT.\"\"\"
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == os.environ.get("MESOCARE_TEST_SIGINT_AT"):
            sys.meta_path.remove(_InterruptAt)
            open(os.environ["MESOCARE_TEST_SIGINT_FIRED"], "w").close()
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, _InterruptAt)
"""


@pytest.mark.parametrize("module", START_UP)
@pytest.mark.parametrize("command", ["installed", "python -m"])
def test_an_interrupt_during_start_up_is_one_line_too(tmp_path, module, command):
    """Ctrl-C while Python is still importing the command line (Typer, the commands), building
    the command, or running it: the same one line and exit 130, never a traceback. Run as the
    installed ``mesocare`` command and as ``python -m mesocare``; the signal is sent by the run
    itself at the instant it begins to import ``module`` (a sitecustomize on PYTHONPATH)."""
    import os

    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SIGINT_AT_IMPORT)
    fired = tmp_path / "fired"
    env = dict(
        os.environ,
        PYTHONPATH=str(hook),
        MESOCARE_TEST_SIGINT_AT=module,
        MESOCARE_TEST_SIGINT_FIRED=str(fired),
    )
    if command == "installed":
        cmd = [str(Path(sys.executable).parent / "mesocare")]
    else:
        cmd = [sys.executable, "-m", "mesocare"]
    args = [
        "prep",
        "--date",
        "2024-06-10",
        "--area",
        "face",
        *TODAY,
        "--format",
        "json",
        "--out",
        "h.json",
    ]
    done = subprocess.run(
        [*cmd, *args],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert fired.exists(), f"the run never imported {module}: update START_UP"
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines() == INTERRUPTED
    assert not (tmp_path / "h.json").exists() and not list(tmp_path.glob(".*.part"))
