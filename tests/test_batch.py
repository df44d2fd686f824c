"""mesocare batch: a day's list in, handouts out, bad rows named, never dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import REPO
from mesocare.cli import app

EXAMPLES = REPO / "examples"
LONDON = ["--tz", "Europe/London", "--today", "2024-06-01"]
HEADER = "date,time,area,name,patient_id,booked_on\n"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.delenv("MESOCARE_CLINIC", raising=False)
    monkeypatch.chdir(tmp_path)


def run(*args, input=None):
    return CliRunner().invoke(app, ["batch", *args], input=input)


def csv(tmp_path: Path, text: str, name="day.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_example_schedule_as_json_sorted_by_time(tmp_path):
    r = run(str(EXAMPLES / "schedule.csv"), "--format", "json", *LONDON)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    starts = [d["appointment"]["start"] for d in data]
    assert starts == sorted(starts, key=lambda s: __import__("datetime").datetime.fromisoformat(s))
    assert all(d["schema"] == "mesocare.handout/1" for d in data)
    assert "4 handouts." in r.stderr


def test_date_filter_keeps_one_day(tmp_path):
    r = run(str(EXAMPLES / "schedule.csv"), "--format", "ndjson", "--date", "2024-06-10", *LONDON)
    lines = r.stdout.splitlines()
    assert r.exit_code == 0 and len(lines) == 2
    assert {json.loads(x)["appointment"]["date"] for x in lines} == {"2024-06-10"}


def test_tomorrow_list_printed_today_without_booking_dates_calls_nobody(tmp_path):
    path = csv(
        tmp_path, "date,time,area,name\n2024-06-02,10:00,face,Ana\n2024-06-02,11:00,body,Ben\n"
    )
    r = run(path, "--date", "tomorrow", "--format", "text", *LONDON)
    assert r.exit_code == 0
    assert "Late bookings could not be checked: the schedule has no booking dates." in r.stdout
    assert "IMPORTANT: You booked" not in r.stdout
    assert "Late bookings could not be checked" in r.stderr


def test_call_list_names_late_patients_and_items(tmp_path):
    path = csv(
        tmp_path,
        HEADER + "2024-06-10,10:00,face,Ana Late,P1,2024-06-03\n"
        "2024-06-10,11:00,face,Bo OnTime,P2,2024-05-20\n",
    )
    r = run(path, "--format", "text", *LONDON)
    cover = r.stdout.split("\f")[0]
    call = " ".join(cover.split("CALL BEFORE THE APPOINTMENT")[1].split())  # unwrap
    assert "Ana Late" in call and "ginkgo biloba (from Friday 31 May 2024)" in call
    assert "Bo OnTime" not in call
    assert "1 to phone before their appointment" in r.stderr


def test_bad_rows_are_named_and_the_rest_printed(tmp_path):
    path = csv(
        tmp_path,
        HEADER
        + "2024-06-10,10:00,face,Good One,P1,2024-05-01\n"
        + "2024-06-31,10:00,face,Bad Date,P2,2024-05-01\n"
        + "2024-06-10,10:00,elbow,Bad Area,P3,2024-05-01\n"
        + "2024-03-31,01:30,face,Clock Gap,P4,2024-03-01\n"
        + "2024-06-11,09:00,body,Good Two,P5,2024-05-01\n",
    )
    out = tmp_path / "day.json"
    r = run(path, "--out", str(out), "--tz", "Europe/London", "--today", "2024-03-01")
    assert r.exit_code == 3
    assert [d["patient"]["id"] for d in json.loads(out.read_text())] == ["P1", "P5"]
    assert "3 rows skipped" in r.stderr
    assert (
        "row 3, date" in r.stderr
        and "row 4, area" in r.stderr
        and "row 5" in r.stderr
        and "does not exist" in r.stderr
    )
    for name in ("Bad Date", "Bad Area", "Clock Gap"):
        assert name not in r.stderr  # rows are named by number, never by patient


def test_unreadable_schedule_exits_1_with_no_output(tmp_path):
    out = tmp_path / "day.pdf"
    path = csv(tmp_path, "when,who\n2024-06-10,Ana\n")
    r = run(path, "--out", str(out), *LONDON)
    assert r.exit_code == 1 and not out.exists()
    assert r.stderr.startswith("mesocare: ") and "Traceback" not in r.stderr
    r = run(str(tmp_path / "missing.csv"), *LONDON)
    assert r.exit_code == 1 and "does not exist" in r.stderr


def test_stdin_works(tmp_path):
    r = run(
        "-",
        "--format",
        "ndjson",
        "--input-format",
        "csv",
        *LONDON,
        input=HEADER + "2024-06-10,10:00,face,Ana,P1,2024-05-01\n",
    )
    assert r.exit_code == 0 and json.loads(r.stdout)["patient"]["id"] == "P1"


def test_folder_output_one_safe_file_per_patient_without_names(tmp_path):
    path = csv(
        tmp_path,
        "date,time,area,name,patient_id\n2024-06-10,10:00,face,Ana Silva,P/1042\n"
        "2024-06-10,,body,Ben Ode,\n",
    )
    folder = tmp_path / "handouts"
    r = run(path, "--out", f"{folder}/", "--format", "html", *LONDON)
    assert r.exit_code == 0, r.stderr
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["2024-06-10_1000_P-1042.html", "2024-06-10_allday_row-3.html"]
    for n in names:
        assert "Ana" not in n and "Ben" not in n


def test_excel_csv_works(tmp_path):
    r = run(str(EXAMPLES / "schedule-excel.csv"), "--format", "json", *LONDON)
    assert r.exit_code in (0, 3), r.stderr
    assert json.loads(r.stdout)


def test_print_without_cups_keeps_the_pdf(tmp_path, monkeypatch):
    pytest.importorskip("typst")
    monkeypatch.setenv("PATH", str(tmp_path))  # no lp on PATH
    out = tmp_path / "day.pdf"
    r = run(str(EXAMPLES / "schedule.csv"), "--print", "--out", str(out), *LONDON)
    assert r.exit_code == 1
    assert "CUPS is not installed here" in r.stderr and str(out) in r.stderr
    assert out.read_bytes().startswith(b"%PDF")


THREE = HEADER + (
    "2024-06-10,10:00,face,Ana Lopez,P-1,\n"
    "2024-06-10,11:00,face,Bo Chen,P-2,\n"
    "2024-06-10,12:00,face,Cy Dee,P-3,\n"
)
FOLDER_FORMATS = {
    "html": "html",
    "text": "txt",
    "markdown": "md",
    "json": "json",
    "ics": "ics",
    "pdf": "pdf",
}
CLINIC_WITH_TEMPLATES = "name: Harbour\nphone: 020 7946 0000\ntemplates_dir: tpl\n"


@pytest.mark.parametrize(
    "fmt,template",
    [
        ("html", "handout.html.j2"),
        ("text", "handout.txt.j2"),
        ("markdown", "handout.md.j2"),
        ("pdf", "pdf.typ.j2"),
    ],
)
def test_a_broken_clinic_template_makes_no_output_folder(tmp_path, fmt, template):
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / template).write_text("{% if %}broken\n", encoding="utf-8")
    (tmp_path / "clinic.yaml").write_text(CLINIC_WITH_TEMPLATES, encoding="utf-8")
    clinic = str(tmp_path / "clinic.yaml")
    r = run(csv(tmp_path, THREE), "--out", "out/", "--format", fmt, "--clinic", clinic, *LONDON)
    assert r.exit_code == 1, r.stderr
    assert template in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("fmt", sorted(FOLDER_FORMATS))
def test_a_folder_where_one_handouts_file_must_go_the_others_are_written_exit_3(tmp_path, fmt):
    ext = FOLDER_FORMATS[fmt]
    (tmp_path / "out" / f"2024-06-10_1100_P-2.{ext}").mkdir(parents=True)
    r = run(csv(tmp_path, THREE), "--out", "out/", "--format", fmt, *LONDON)
    assert r.exit_code == 3, r.stderr
    assert (tmp_path / "out" / f"2024-06-10_1000_P-1.{ext}").is_file()
    assert (tmp_path / "out" / f"2024-06-10_1200_P-3.{ext}").is_file()
    assert (tmp_path / "out" / f"2024-06-10_1100_P-2.{ext}").is_dir()
    assert "2 handouts." in r.stderr and "row 3: not written" in r.stderr, r.stderr
    assert "Bo Chen" not in r.stderr and "Traceback" not in r.stderr
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")] == []


def test_a_template_failing_for_one_later_handout_names_its_row_and_writes_the_others(tmp_path):
    (tmp_path / "tpl").mkdir()
    # fails only for the 11:00 appointment (a template divides by zero there)
    (tmp_path / "tpl" / "handout.txt.j2").write_text(
        "{{ 1 // (h.start.hour - 11) }} {{ patient }}\n", encoding="utf-8"
    )
    (tmp_path / "clinic.yaml").write_text(CLINIC_WITH_TEMPLATES, encoding="utf-8")
    clinic = str(tmp_path / "clinic.yaml")
    r = run(csv(tmp_path, THREE), "--out", "out/", "--format", "text", "--clinic", clinic, *LONDON)
    assert r.exit_code == 3, r.stderr
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["2024-06-10_1000_P-1.txt", "2024-06-10_1200_P-3.txt"]
    assert "row 3: the handout could not be made" in r.stderr and "divides by zero" in r.stderr
    assert "Bo Chen" not in r.stderr


def test_a_folder_that_cannot_be_made_is_one_error_and_nothing_is_made(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    r = run(csv(tmp_path, THREE), "--out", "file/out/", "--format", "html", *LONDON)
    assert r.exit_code == 1 and "Traceback" not in r.stderr
    assert (tmp_path / "file").read_text() == "not a folder"


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(blocked=st.sets(st.integers(0, 4)), fmt=st.sampled_from(["text", "json", "ics"]))
def test_whichever_files_are_blocked_exactly_those_rows_are_named(tmp_path_factory, blocked, fmt):
    """Folders standing where any of the handouts' files must go: those rows are named (by
    row, never by name), every other handout is written, exit 3 (0 when none is blocked)."""
    folder = tmp_path_factory.mktemp("blocked")
    ext = FOLDER_FORMATS[fmt]
    stems = [f"2024-06-10_{10 + k:02d}00_P-{k}" for k in range(5)]
    lines = "".join(f"2024-06-10,{10 + k:02d}:00,face,Name{k} Surname,P-{k},\n" for k in range(5))
    for k in blocked:
        (folder / "out" / f"{stems[k]}.{ext}").mkdir(parents=True)
    r = run(csv(folder, HEADER + lines), "--out", f"{folder / 'out'}/", "--format", fmt, *LONDON)
    assert r.exit_code == (3 if blocked else 0), r.stderr
    named = {k for k in range(5) if f"row {k + 2}: not written" in r.stderr}
    assert named == blocked
    assert f"{5 - len(blocked)} handout" in r.stderr and "Surname" not in r.stderr
    for k in range(5):
        assert (folder / "out" / f"{stems[k]}.{ext}").is_dir() == (k in blocked)
        assert (folder / "out" / f"{stems[k]}.{ext}").exists()
