"""What the CLI says on its streams: a closed pipe is quiet, stderr points only to what
exists, an empty --print day prints nothing, a clinic without a phone number is warned."""

from __future__ import annotations

import re
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
        ["prep", "--date", "2024-06-10", "--area", "face", *TODAY, "--clinic", SAMPLE_CLINIC, "--format", "json"],
        ["batch", SCHEDULE, "--format", "ndjson", *TODAY, "--clinic", SAMPLE_CLINIC],
        ["plan", "--date", "2024-06-10", "--sessions", "3", "--every", "4w", *TODAY],
        ["schema"],
        ["rules", "show", "showers"],
        ["rules", "check"],
        ["prep", "--date", "2024-06-10", "--area", "face", *TODAY, "--clinic", SAMPLE_CLINIC, "--format", "pdf"],
        ["batch", SCHEDULE, *TODAY, "--clinic", SAMPLE_CLINIC],
        ["--version"],
        ["--help"],
        ["prep", "--help"],
    ],
    ids=["rules-list", "rules-json", "prep-text", "prep-json", "batch-ndjson", "plan", "schema", "rules-show",
         "rules-check", "prep-pdf", "batch-text", "version", "help", "prep-help"],
)
def test_a_closed_pipe_exits_quietly_with_0(args):
    """As `mesocare ... | head -1`, with the reader gone before mesocare writes."""
    proc = subprocess.Popen([sys.executable, "-m", "mesocare", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert err == "", err  # no message at all: the reader went away, that is all


def test_rules_list_piped_to_head_exits_0_silently():
    r = subprocess.run(f"set -o pipefail; {sys.executable} -m mesocare rules list | head -1", shell=True,
                       executable="/bin/bash", capture_output=True, text=True)
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
    phone_line = next(line for line in r.stderr.splitlines() if "to phone before their appointment" in line)
    assert ("see the cover sheet" in phone_line) is cover


def test_a_clinic_without_a_phone_number_is_one_warning_per_run():
    r = run("batch", SCHEDULE, "--format", "text", *TODAY)
    assert r.exit_code == 0
    warnings = [line for line in r.stderr.splitlines() if "no phone number" in line]
    assert warnings == [
        'mesocare: warning: the clinic has no phone number, so handouts say only "Call the clinic.":'
        " add one with mesocare init --phone, or phone: in the clinic config."
    ]
    single = run("prep", "--date", "2024-06-10", "--area", "face", *TODAY, "--strict")
    assert single.exit_code == 0 and "mesocare init" in single.stderr
    with_phone = run("prep", "--date", "2024-06-10", "--area", "face", *TODAY, "--clinic", SAMPLE_CLINIC)
    assert with_phone.exit_code == 0 and with_phone.stderr == ""
    assert "+44 20 7946 0000" in with_phone.stdout and "Harbour Skin Clinic".upper() in with_phone.stdout


def test_an_interrupt_is_exit_130_with_one_line(tmp_path):
    import signal
    import time

    slow = tmp_path / "slow.py"
    slow.write_text("import sys, time\nsys.stdout.write('date,time,area\\n'); sys.stdout.flush(); time.sleep(30)\n")
    feeder = subprocess.Popen([sys.executable, str(slow)], stdout=subprocess.PIPE)
    proc = subprocess.Popen([sys.executable, "-m", "mesocare", "batch", "-", *TODAY], stdin=feeder.stdout,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # started and waiting for the rest of stdin once it has read the header from the pipe
    # (a fixed sleep is not enough on a loaded machine, where start-up can take seconds)
    import fcntl
    import struct
    import termios

    def waiting() -> int:  # bytes written by the feeder and not yet read by mesocare
        return struct.unpack("i", fcntl.ioctl(feeder.stdout.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]

    deadline = time.monotonic() + 60
    while waiting() == 0 and feeder.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # the feeder has not written the header yet
    while waiting() > 0 and time.monotonic() < deadline:
        time.sleep(0.02)  # mesocare is still starting
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    feeder.kill()
    assert proc.returncode == 130
    assert err.decode().splitlines() == ["mesocare: interrupted; no file was left half-written."]


def test_the_sample_clinic_is_what_the_readme_says():
    text = SAMPLE_CLINIC.read_text()
    assert "timezone: Europe/London" in text and "+44 20 7946 0000" in text
    assert Path(REPO / "README.md").read_text().count("--clinic examples/clinic.yaml") >= 1


@pytest.mark.parametrize("delay", [0.06, 0.1, 0.15, 0.2, 0.25, 0.3])
def test_an_interrupt_during_start_up_is_one_line_too(delay):
    """Ctrl-C while Python is still importing the command line (Typer, the commands) or Typer is
    parsing the options: the same one line and exit 130, never a traceback. Run as the installed
    ``mesocare`` command and as ``python -m mesocare``. The first 30 ms or so are Python's own
    start (site, .pth files, runpy), before any of our code runs: the shortest delay is past them."""
    import signal
    import time

    for cmd in ([str(Path(sys.executable).parent / "mesocare")], [sys.executable, "-m", "mesocare"]):
        proc = subprocess.Popen([*cmd, "prep", "--date", "2024-06-10", "--area", "face", *TODAY, "--format", "json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
        text = err.decode()
        if "Traceback" in text:
            # only when the signal came before mesocare's entry point ran at all (Python's own
            # start, on a loaded machine): never from Typer, click or the command line
            assert not re.search(r"typer|click|mesocare/cli/|entry\.py\", line \d+, in main", text), text
            continue
        # 130 once Python handles the signal; killed by it (-2) if it came before Python set up
        # its handler; 0 if the run had already finished
        assert proc.returncode in (130, -signal.SIGINT, 0), (proc.returncode, text)
        if proc.returncode == 130:
            assert text.splitlines() == ["mesocare: interrupted; no file was left half-written."]
