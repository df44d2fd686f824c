"""`batch --order input`: handouts in the schedule's own order, each out as soon as its row is
read (the first line of a long export at once), with the same handouts, problems and exit code
as the default time order."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from conftest import run_cli

TODAY = ["--tz", "Europe/London", "--today", "2024-06-01"]
ROWS = (
    "date,time,area,name,patient_id\n"
    "2024-06-11,15:00,face,Ana Silva,P-1\n"
    "2024-06-10,09:00,neck,Bo Chen,P-2\n"
    "2024-06-10,25:00,face,Cy Diaz,P-3\n"  # a bad time: skipped, named
    "2024-06-10,08:00,hands,Di Eze,P-4\n"
)


pytestmark = pytest.mark.usefixtures("no_clinic_env")


run = run_cli


def ids(ndjson: str) -> list[str]:
    return [json.loads(line)["patient"]["id"] for line in ndjson.splitlines()]


def test_input_order_keeps_the_schedules_order_and_the_same_handouts(tmp_path):
    (tmp_path / "day.csv").write_text(ROWS, encoding="utf-8")
    by_time = run("batch", "day.csv", "--format", "ndjson", *TODAY)
    by_input = run("batch", "day.csv", "--format", "ndjson", "--order", "input", *TODAY)
    assert by_time.exit_code == by_input.exit_code == 3  # the bad row is skipped either way
    assert ids(by_time.stdout) == ["P-4", "P-2", "P-1"]
    assert ids(by_input.stdout) == ["P-1", "P-2", "P-4"]
    assert sorted(by_time.stdout.splitlines()) == sorted(
        by_input.stdout.splitlines()
    )  # the same handouts
    assert by_time.stderr == by_input.stderr  # the same summary, naming row 3
    assert "row 4, time" in by_input.stderr and "Cy Diaz" not in by_input.stderr


def test_input_order_json_array_and_folder_give_the_same_files(tmp_path):
    (tmp_path / "day.csv").write_text(ROWS, encoding="utf-8")
    arrays = [
        run("batch", "day.csv", "--format", "json", "--order", order, *TODAY)
        for order in ("time", "input")
    ]
    assert [h["patient"]["id"] for h in json.loads(arrays[1].stdout)] == ["P-1", "P-2", "P-4"]
    for order in ("time", "input"):
        assert (
            run(
                "batch",
                "day.csv",
                "--format",
                "json",
                "--order",
                order,
                "--out",
                f"{order}/",
                *TODAY,
            ).exit_code
            == 3
        )
    names = sorted(p.name for p in (tmp_path / "time").iterdir())
    assert len(names) == 3 and names == sorted(p.name for p in (tmp_path / "input").iterdir())
    assert all(
        (tmp_path / "time" / n).read_bytes() == (tmp_path / "input" / n).read_bytes() for n in names
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["--format", "pdf", "--out", "day.pdf"],
            "--order input is for --format ndjson or json, or --out DIR/",
        ),
        (["--format", "text"], "--order input is for --format ndjson or json, or --out DIR/"),
        (
            ["--format", "ndjson", "--order", "random"],
            "--order 'random' is not an order: use time (the default) or input.",
        ),
    ],
)
def test_input_order_is_refused_where_a_list_is_laid_out_in_time_order(tmp_path, args, words):
    (tmp_path / "day.csv").write_text(ROWS, encoding="utf-8")
    order = [] if "--order" in args else ["--order", "input"]
    r = run("batch", "day.csv", *args, *order, *TODAY)
    assert r.exit_code == 1
    assert r.stderr.strip() == f"mesocare: {words}" or words in r.stderr
    assert not (tmp_path / "day.pdf").exists()


def test_the_first_line_comes_while_the_schedule_is_still_being_written(tmp_path):
    """A booking system still exporting: the first row's handout is out before the rest of the
    file exists (the default order waits for the whole file, to sort it). With the format given,
    nothing is read ahead to recognise it."""
    feeder_code = (
        "import sys, time\n"
        "sys.stdout.write('date,time,area,name,patient_id\\n2024-06-10,10:00,face,Ana,P-1\\n'); "
        "sys.stdout.flush()\n"
        "time.sleep(30)\n"
        "sys.stdout.write('2024-06-10,11:00,neck,Bo,P-2\\n')\n"
    )
    feeder = subprocess.Popen([sys.executable, "-c", feeder_code], stdout=subprocess.PIPE)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mesocare",
            "batch",
            "-",
            "--input-format",
            "csv",
            "--format",
            "ndjson",
            "--order",
            "input",
            *TODAY,
        ],
        stdin=feeder.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    feeder.stdout.close()
    try:
        started = time.monotonic()
        first = json.loads(proc.stdout.readline())
        waited = time.monotonic() - started
        assert first["patient"]["id"] == "P-1"
        assert feeder.poll() is None and waited < 25  # out while the feeder still holds back row 2
    finally:
        feeder.kill()
        proc.kill()
        proc.wait()
        feeder.wait()
