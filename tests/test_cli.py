"""The command line as a user meets it: output, exit codes, one-sentence errors, files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import run_cli
from mesocare.cli import app

LONDON = ["--tz", "Europe/London", "--today", "2024-06-01"]
NO_PHONE = (
    'mesocare: warning: the clinic has no phone number, so handouts say only "Call the clinic.":'
    " add one with mesocare init --phone, or phone: in the clinic config."
)


pytestmark = pytest.mark.usefixtures("no_clinic_env")


run = run_cli


def test_design_card_example_prints_a_sensible_handout():
    r = run("prep", "--date", "2024-06-10", "--area", "face", *LONDON)
    assert r.exit_code == 0
    assert "From Friday 31 May 2024" in r.stdout
    assert "Stop taking any supplements that have ginkgo biloba in them." in r.stdout
    assert "Your appointment: Monday 10 June 2024" in r.stdout
    assert r.stderr.splitlines() == [NO_PHONE]  # only the built-in clinic's missing number


def test_issue_example_with_time_and_name():
    r = run(
        "prep",
        "--date",
        "2024-06-10",
        "--time",
        "10:00",
        "--area",
        "face",
        "--name",
        "Ana Silva",
        *LONDON,
    )
    assert r.exit_code == 0
    assert "Instructions for Ana Silva" in r.stdout
    assert "Until 10:30 on Wednesday 12 June 2024" in r.stdout


def test_json_follows_the_contract():
    r = run(
        "prep",
        "--date",
        "2024-06-10",
        "--time",
        "10:00",
        "--area",
        "face",
        "--format",
        "json",
        *LONDON,
    )
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data["schema"] == "mesocare.handout/1"
    assert data["appointment"]["start"] == "2024-06-10T10:00:00+01:00"
    assert data["appointment"]["end"] == "2024-06-10T10:30:00+01:00"
    assert data["appointment"]["timezone"] == "Europe/London"
    ginkgo = next(i for i in data["items"] if i["rule"] == "ginkgo-biloba")
    expected = {
        "rule": "ginkgo-biloba",
        "phase": "before",
        "start": "2024-05-31T00:00:00+01:00",
        "end": "2024-06-10T10:00:00+01:00",
        "status": "started",
        "late": True,
    }
    assert {k: ginkgo[k] for k in expected} == expected
    assert data["warnings"] == []
    assert len(data["rules_version"]) == 64
    # booked today (1 June), after ginkgo's window started (31 May): late, with a banner
    assert data["banners"] and "ginkgo biloba (from Friday 31 May 2024)" in data["banners"][0]


def test_face_and_neck_gets_the_union_of_both_areas():
    r = run(
        "prep",
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--area",
        "neck",
        "--format",
        "json",
        *LONDON,
    )
    data = json.loads(r.stdout)
    assert data["appointment"]["areas"] == ["face", "neck"]
    assert data["appointment"]["area"] == "face+neck"
    ids = {i["rule"] for i in data["items"]}
    assert "antibacterial-soap" in ids and "arnica" not in ids


def test_today_and_tomorrow_are_in_the_clinic_zone():
    r = run(
        "prep",
        "--date",
        "tomorrow",
        "--area",
        "face",
        "--format",
        "json",
        "--tz",
        "Pacific/Kiritimati",
        "--today",
        "2024-12-31",
    )
    assert json.loads(r.stdout)["appointment"]["date"] == "2025-01-01"
    r = run(
        "prep",
        "--date",
        "today",
        "--area",
        "face",
        "--format",
        "json",
        "--tz",
        "UTC",
        "--today",
        "2024-02-29",
    )
    assert json.loads(r.stdout)["appointment"]["date"] == "2024-02-29"


@pytest.mark.parametrize(
    "args, code, message",
    [
        (
            ["--date", "2024-02-30", "--area", "face"],
            1,
            "--date '2024-02-30' is not a real calendar date.",
        ),
        (["--date", "10/06/2024", "--area", "face"], 1, "write it as YYYY-MM-DD"),
        (
            ["--date", "2024-06-10", "--time", "25:61", "--area", "face"],
            1,
            "--time '25:61' is not a real time",
        ),
        (["--date", "2024-06-10", "--area", "elbow"], 1, "--area 'elbow' is not a known area"),
        (
            ["--date", "2024-06-10", "--area", "face", "--technique", "laser"],
            1,
            "is not a known technique",
        ),
        (
            ["--date", "2024-06-10", "--area", "face", "--prescribed", "aspirin"],
            1,
            "is not a medicine mesocare knows",
        ),
        (
            ["--date", "2024-06-10", "--area", "face", "--every", "4w"],
            1,
            "--every needs --sessions",
        ),
        (
            ["--date", "2024-06-10", "--area", "face", "--sessions", "3", "--every", "4x"],
            1,
            "is not an interval",
        ),
        (
            ["--date", "2024-06-10", "--area", "face", "--duration", "0"],
            1,
            "must be between 1 and 1440",
        ),
        (["--date", "2024-05-01", "--area", "face", "--strict"], 1, "is before today"),
        (
            ["--date", "2024-06-10", "--area", "face", "--format", "docx"],
            1,
            "--format 'docx' is not known",
        ),
        (
            ["--date", "2024-06-10", "--area", "face", "--paper", "B5"],
            1,
            "--paper 'B5' is not known: use A4 or Letter.",
        ),
        (
            ["--date", "2024-06-10", "--area", "face", "--clinic", "missing.yaml"],
            1,
            "missing.yaml: the clinic config file does not exist.",
        ),
        (["--date", "2024-06-10"], 2, "Missing option '--area'"),
        (
            ["--date", "2024-06-10", "--area", "face", "--bogus"],
            2,
            "an option that is not known (see --help)",
        ),
    ],
)
def test_user_errors_are_one_sentence_with_the_right_exit_code(args, code, message):
    r = run("prep", *args, *LONDON)
    assert r.exit_code == code
    assert message in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    if code == 1:
        assert r.stderr.startswith("mesocare: ") and r.stderr.count("\n") == 1


def test_paper_option_reaches_the_pdf_in_any_case(tmp_path):
    import pypdf

    sizes = {}
    for paper in ("letter", "A4"):
        out = tmp_path / f"{paper}.pdf"
        r = run(
            "prep",
            "--date",
            "2024-06-10",
            "--area",
            "face",
            "--paper",
            paper,
            "--out",
            str(out),
            *LONDON,
        )
        assert r.exit_code == 0, r.stderr
        box = pypdf.PdfReader(out).pages[0].mediabox
        sizes[paper] = (round(float(box.width)), round(float(box.height)))
    assert sizes == {"letter": (612, 792), "A4": (595, 842)}


def test_unknown_zone():
    r = run("prep", "--date", "2024-06-10", "--area", "face", "--tz", "Mars/Olympus")
    assert r.exit_code == 1 and r.stderr == (
        "mesocare: --tz 'Mars/Olympus' is not a known time zone: "
        "use an IANA name such as Europe/London or America/New_York.\n"
    )


def test_time_skipped_by_the_clocks_is_an_error():
    r = run("prep", "--date", "2024-03-31", "--time", "01:30", "--area", "face", *LONDON)
    assert r.exit_code == 1 and "does not exist on 2024-03-31 in Europe/London" in r.stderr


def test_past_appointment_warns_on_stderr_and_in_json():
    r = run(
        "prep",
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--format",
        "json",
        "--tz",
        "UTC",
        "--today",
        "2026-11-24",
    )
    assert r.exit_code == 0
    assert "warning: the appointment date 2024-06-10 is before today" in r.stderr
    data = json.loads(r.stdout)
    assert data["warnings"] and all(i["status"] == "passed" for i in data["items"] if i["end"])


@pytest.mark.parametrize(
    "suffix, check",
    [
        (".json", "mesocare.handout/1"),
        (".html", "<!DOCTYPE html>"),
        (".txt", "BEFORE YOUR APPOINTMENT"),
        (".md", "## Before your appointment"),
    ],
)
def test_out_takes_the_format_from_the_extension(tmp_path, suffix, check):
    out = tmp_path / f"handout{suffix}"
    r = run("prep", "--date", "2024-06-10", "--area", "face", "--out", str(out), *LONDON)
    assert r.exit_code == 0 and r.stdout == ""
    assert check in out.read_text()
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left


def test_an_error_leaves_no_output_file(tmp_path):
    out = tmp_path / "handout.html"
    r = run("prep", "--date", "2024-02-30", "--area", "face", "--out", str(out), *LONDON)
    assert r.exit_code == 1 and not out.exists()
    r = run(
        "prep",
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--out",
        str(tmp_path / "nope" / "h.html"),
        *LONDON,
    )
    assert r.exit_code == 1 and "does not exist" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_error_keeps_an_existing_output_file(tmp_path):
    out = tmp_path / "handout.txt"
    out.write_text("yesterday's handout")
    run("prep", "--date", "2024-06-10", "--area", "elbow", "--out", str(out), *LONDON)
    assert out.read_text() == "yesterday's handout"


def test_unknown_extension_needs_format(tmp_path):
    r = run(
        "prep", "--date", "2024-06-10", "--area", "face", "--out", str(tmp_path / "h.docx"), *LONDON
    )
    assert r.exit_code == 1 and "add --format" in r.stderr


def test_clinic_config_from_env_and_cwd(tmp_path, monkeypatch):
    cfg = tmp_path / "mesocare.yaml"
    cfg.write_text("name: Harbour Skin Clinic\nphone: 020 7946 0000\ntimezone: Asia/Kolkata\n")
    r = run(
        "prep",
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--format",
        "json",
        "--today",
        "2024-06-01",
    )
    data = json.loads(r.stdout)
    assert (
        data["clinic"]["name"] == "Harbour Skin Clinic"
        and data["appointment"]["timezone"] == "Asia/Kolkata"
    )
    other = tmp_path / "other.yaml"
    other.write_text("name: Other Clinic\ntimezone: UTC\n")
    monkeypatch.setenv("MESOCARE_CLINIC", str(other))
    assert (
        json.loads(
            run(
                "prep",
                "--date",
                "2024-06-10",
                "--area",
                "face",
                "--format",
                "json",
                "--today",
                "2024-06-01",
            ).stdout
        )["clinic"]["name"]
        == "Other Clinic"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("name: [oops\n", "not valid YAML"),
        ("name: X\ncolour: blue\n", "line 2, field 'colour': unknown key"),
        ("name: X\ntimezone: Nowhere/City\n", "line 2, field 'timezone'"),
        ("name: X\npaper: A5\n", "line 2, field 'paper'"),
        ("- a\n", "must be a mapping"),
    ],
)
def test_bad_clinic_config_is_one_sentence(tmp_path, text, message):
    cfg = tmp_path / "clinic.yaml"
    cfg.write_text(text)
    r = run(
        "prep",
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--clinic",
        str(cfg),
        "--today",
        "2024-06-01",
    )
    assert (
        r.exit_code == 1
        and message in r.stderr
        and "clinic.yaml" in r.stderr
        and "Traceback" not in r.stderr
    )


def test_broken_clinic_rule_file_is_named(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "ours.yaml").write_text("rules:\n  - id: x\n    phase: soon\n")
    cfg = tmp_path / "clinic.yaml"
    cfg.write_text("name: X\ntimezone: UTC\nrules_dir: rules\n")
    r = run(
        "prep",
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--clinic",
        str(cfg),
        "--today",
        "2024-06-01",
    )
    assert r.exit_code == 1
    assert "ours.yaml, line" in r.stderr and "field" in r.stderr


def test_patient_name_never_reaches_stderr():
    r = run("prep", "--date", "2023-01-01", "--area", "elbow", "--name", "Secret Person", *LONDON)
    assert "Secret Person" not in r.stderr
    r = run("prep", "--date", "2023-01-01", "--area", "face", "--name", "Secret Person", *LONDON)
    assert "Secret Person" not in r.stderr and "warning" in r.stderr


def test_every_command_and_option_has_help():
    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        assert command.help, f"command {name} has no help"
        for param in command.params:
            if param.name not in ("help",) and getattr(param, "help", None) is not None:
                assert param.help.strip(), f"{name} {param.name} has no help"
            elif hasattr(param, "help"):
                assert param.help, f"{name} {param.name} has no help"


def test_version_prints_version_and_rules_hash():
    r = run("--version")
    assert r.exit_code == 0 and r.stdout.startswith("mesocare 0.1.0 (rule set ")


def test_schema_command_prints_the_shipped_schema():
    r = run("schema")
    assert json.loads(r.stdout)["title"].startswith("mesocare handout")
    assert "properties" in json.loads(run("schema", "--rules").stdout)


def test_terminal_format_renders_at_80_columns():
    from datetime import date, time

    from mesocare.handout import build_handout
    from mesocare.model import Clinic, Request
    from mesocare.render.terminal import render
    from mesocare.resources import instructions_dir
    from mesocare.rules import load_ruleset

    h = build_handout(
        Request(
            date=date(2024, 6, 10),
            time=time(10, 0),
            areas=("face",),
            name="[red]Ana[/red]",
            booked=date(2024, 6, 3),
        ),
        load_ruleset([(instructions_dir(), "mesocare")]),
        Clinic(name="Harbour", phone="020", timezone="Europe/London"),
        date(2024, 6, 1),
    )
    text = render(h, width=80, color=False)
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "[red]Ana[/red]" in text  # markup in a name is printed as typed
    assert "ginkgo biloba" in text and "Important" in text


def test_python_dash_m_and_real_process_exit_codes(tmp_path):
    env = dict(os.environ, MESOCARE_CLINIC="")
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "mesocare",
            "prep",
            "--date",
            "2024-06-10",
            "--area",
            "face",
            *LONDON,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert ok.returncode == 0 and "BEFORE YOUR APPOINTMENT" in ok.stdout  # not a terminal: text
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "mesocare",
            "prep",
            "--date",
            "2024-13-01",
            "--area",
            "face",
            *LONDON,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    debug = subprocess.run(
        [
            sys.executable,
            "-m",
            "mesocare",
            "prep",
            "--date",
            "2024-13-01",
            "--area",
            "face",
            "--debug",
            *LONDON,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert "Traceback" in debug.stderr
