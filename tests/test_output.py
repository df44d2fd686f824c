"""Writing output (mesocare.output): whole files or nothing, streams and devices straight
through, per-patient names that stay in their folder; and the same through a real process:
a batch killed part way leaves only whole files, two batches at once do not collide."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mesocare import output
from mesocare.errors import OutputError

TODAY = ["--tz", "Europe/London", "--today", "2024-06-01"]


def mesocare(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mesocare", *map(str, args)], capture_output=True, **kwargs
    )


# ------------------------------------------------------------------ the module


def test_a_regular_file_is_replaced_whole_and_no_temporary_file_stays(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    output.write("new text\n", target)
    assert target.read_text() == "new text\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_missing_folder_is_one_error(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        output.write("x", tmp_path / "nowhere" / "out.txt")


def test_a_folder_as_out_file_is_one_error(tmp_path):
    with pytest.raises(OutputError, match="is a folder"):
        output.write("x", tmp_path)


def test_a_symlink_is_followed_and_its_target_replaced_atomically(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    output.write("new", link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"
    # a link to a file not there yet: the file is made where the link points
    dangling = tmp_path / "later.txt"
    dangling.symlink_to(tmp_path / "made.txt")
    output.write("made", dangling)
    assert dangling.is_symlink() and (tmp_path / "made.txt").read_text() == "made"


def test_a_fifo_is_written_straight_through_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    output.write("through the pipe\n", fifo)
    reader.join(10)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_dash_is_stdout():
    import io

    buffer = io.BytesIO()
    output.write("to stdout", "-", buffer)
    assert buffer.getvalue() == b"to stdout"


def test_clashing_names_get_2_then_3():
    assert output.unique_names(["a", "a", "b", "a"], "text") == [
        "a.txt",
        "a-2.txt",
        "b.txt",
        "a-3.txt",
    ]
    assert output.unique_names(["a", "a-2", "a"], "pdf") == ["a.pdf", "a-2.pdf", "a-3.pdf"]


@pytest.mark.parametrize(
    "patient_id", ["../../etc/x", "/etc/passwd", "..", ".hidden", "a/../../b", "\x00\n", "C:\\x"]
)
def test_names_from_ids_never_leave_the_folder(tmp_path, patient_id):
    stem = output.file_stem("2024-06-10_1000", patient_id, "row 3")
    assert "/" not in stem and "\\" not in stem and not stem.startswith(".") and stem
    folder = tmp_path / "out"
    folder.mkdir()
    written = output.write_in_folder(folder, f"{stem}.txt", "x")
    assert written.parent == folder and written.read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("name", ["../x.txt", "a/b.txt", "..", ".x.txt", ""])
def test_write_in_folder_refuses_a_name_that_could_escape(tmp_path, name):
    with pytest.raises(OutputError):
        output.write_in_folder(tmp_path, name, "x")


def test_a_link_in_the_folder_is_replaced_not_followed(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.txt").symlink_to(outside)
    output.write_in_folder(folder, "a.txt", "handout")
    assert outside.read_text() == "keep me"
    assert not (folder / "a.txt").is_symlink() and (folder / "a.txt").read_text() == "handout"


def test_temporary_files_of_killed_runs_are_swept_and_live_ones_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".a.txt.{dead.pid}.part"
    live = tmp_path / f".b.txt.{os.getppid()}.part"
    stale.write_text("half")
    live.write_text("in progress")
    output.open_folder(tmp_path)
    assert not stale.exists() and live.exists()


# ------------------------------------------------------------------ through the CLI


def test_out_dev_stdout_prints_and_leaves_the_link_alone():
    before = os.lstat("/dev/stdout")
    r = mesocare(
        "prep",
        "--date",
        "2024-06-10",
        "--area",
        "face",
        *TODAY,
        "--format",
        "text",
        "--out",
        "/dev/stdout",
    )
    assert r.returncode == 0, r.stderr
    assert b"Your appointment: Monday 10 June 2024" in r.stdout
    after = os.lstat("/dev/stdout")
    assert stat.S_ISLNK(after.st_mode) and (after.st_ino, after.st_mode) == (
        before.st_ino,
        before.st_mode,
    )


def test_out_dash_is_stdout(tmp_path):
    r = mesocare(
        "prep",
        "--date",
        "2024-06-10",
        "--area",
        "face",
        *TODAY,
        "--format",
        "json",
        "--out",
        "-",
        cwd=tmp_path,
    )
    assert r.returncode == 0 and r.stdout.startswith(b"{")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_a_write_error_on_a_device_is_exit_1_with_one_line_and_the_device_stays():
    r = mesocare(
        "prep",
        "--date",
        "2024-06-10",
        "--area",
        "face",
        *TODAY,
        "--format",
        "text",
        "--out",
        "/dev/full",
    )
    assert r.returncode == 1
    lines = r.stderr.decode().splitlines()
    assert lines[0] == "mesocare: /dev/full: cannot be written (No space left on device)."
    assert all("warning" in line for line in lines[1:]) and "Traceback" not in r.stderr.decode()
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def _schedule(path: Path, rows: int) -> Path:
    lines = ["date,time,area,patient_id,booked_on"]
    for i in range(rows):
        lines.append(
            f"2024-06-{10 + i % 20:02d},{9 + i % 8:02d}:{(i * 5) % 60:02d},"
            f"face,P-{i:05d},2024-05-01"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_batch_killed_part_way_leaves_only_whole_files_and_a_rerun_finishes_the_same(tmp_path):
    schedule = _schedule(tmp_path / "day.csv", 250)
    clean = tmp_path / "clean"
    assert (
        mesocare("batch", schedule, "--out", f"{clean}/", "--format", "text", *TODAY).returncode
        == 0
    )
    expected = _files(clean)
    assert len(expected) == 250

    folder = tmp_path / "killed"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mesocare",
            "batch",
            str(schedule),
            "--out",
            f"{folder}/",
            "--format",
            "text",
            *TODAY,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
        not folder.is_dir() or len([n for n in os.listdir(folder) if n[0] != "."]) < 20
    ):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = {name: data for name, data in _files(folder).items() if not name.startswith(".")}
    assert 20 <= len(left) < 250, "the run was not stopped part way"
    # and a temporary file, if one was caught, is hidden and swept by the next run
    for name, data in left.items():
        assert data == expected[name], f"{name} is not whole"

    again = mesocare("batch", schedule, "--out", f"{folder}/", "--format", "text", *TODAY)
    assert again.returncode == 0, again.stderr
    assert _files(folder) == expected  # every file, the same bytes, no temporary file left


def test_two_batches_into_one_folder_at_once_do_not_corrupt_each_other(tmp_path):
    schedule = _schedule(tmp_path / "day.csv", 80)
    folder = tmp_path / "shared"
    args = [
        sys.executable,
        "-m",
        "mesocare",
        "batch",
        str(schedule),
        "--out",
        f"{folder}/",
        "--format",
        "text",
        *TODAY,
    ]
    procs = [
        subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    clean = tmp_path / "clean"
    assert (
        mesocare("batch", schedule, "--out", f"{clean}/", "--format", "text", *TODAY).returncode
        == 0
    )
    assert _files(folder) == _files(clean)


def test_a_file_being_written_has_no_name_until_it_is_whole(tmp_path):
    """A run killed while it writes leaves nothing: the temporary file has no name (O_TMPFILE)
    until its last byte is synced, and is renamed over the target at once."""
    if not hasattr(os, "O_TMPFILE"):
        pytest.skip("no O_TMPFILE here")
    seen: list[list[str]] = []

    def pieces():
        for k in range(3):
            seen.append(sorted(os.listdir(tmp_path)))
            yield f"part {k}, Ana Lopez\n"

    output.write(pieces(), str(tmp_path / "day.txt"))
    assert seen == [[], [], []]
    assert sorted(os.listdir(tmp_path)) == ["day.txt"]
    assert (tmp_path / "day.txt").read_text() == "".join(f"part {k}, Ana Lopez\n" for k in range(3))
    assert stat.S_IMODE((tmp_path / "day.txt").stat().st_mode) == 0o644


def test_prep_out_a_folder_says_to_give_a_file_name(tmp_path):
    from conftest import run_cli

    (tmp_path / "out").mkdir()
    r = run_cli(
        "prep",
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--out",
        f"{tmp_path / 'out'}/",
        "--format",
        "html",
        "--today",
        "2024-06-01",
    )
    assert r.exit_code == 1
    assert "give a file name" in r.stderr and "end it with /" not in r.stderr
    assert list((tmp_path / "out").iterdir()) == []


def test_a_killed_runs_temporary_file_beside_a_single_output_is_cleared_by_the_next_write(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".day.pdf.{dead.pid}.part"
    live = tmp_path / f".day.pdf.{os.getppid()}.part"
    other = tmp_path / f".other.pdf.{dead.pid}.part"
    for path in (stale, live, other):
        path.write_text("Ana Lopez, half written")
    output.write(b"%PDF-", str(tmp_path / "day.pdf"))
    assert not stale.exists() and live.exists() and other.exists()
    assert (tmp_path / "day.pdf").read_bytes() == b"%PDF-"
