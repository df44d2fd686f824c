"""End to end: a clinic runs init, changes rules, sees rules check catch its mistakes, and
prints a handout that shows its own rules and the rule-set version.

Independent of the machine's zone and clock: init writes --tz, every run passes --today.
"""

from __future__ import annotations

import json
import re
import textwrap
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mesocare.checks import check_rules
from mesocare.cli import app
from mesocare.resources import instructions_dir
from mesocare.rules import collect

TODAY = "2026-11-24"
REPO = Path(__file__).resolve().parent.parent

PROTOCOL = textwrap.dedent(
    """\
    # Harbour Skin Clinic protocol, signed off by the medical director
    rules:
      - id: harbour-serum
        name: aftercare serum
        phase: after
        window: {after: 1w}
        areas: [face]
        text: Put the serum we gave you on your face each night.
        reason: Our face protocol.
        source: Harbour face protocol, version 3
        basis: product-label
        reviewed_on: 2026-11-01
        reviewed_by: Dr A. Lee, medical director

      - id: showers
        name: hot showers
        phase: after
        window: {after: 24h}
        text: Take only cool or warm showers for one day.
        reason: Our protocol lets you shower sooner.
        source: Harbour aftercare protocol, version 3
        basis: clinic-policy
        reviewed_on: 2026-11-01
        reviewed_by: Dr A. Lee, medical director

    disable: [hot-tub-sauna]
    """
)

runner = CliRunner()


def run(*args):
    """Invoke the CLI with no $MESOCARE_CLINIC and no ./mesocare.yaml influence."""
    return runner.invoke(
        app, [str(a) for a in args], env={"MESOCARE_CLINIC": None, "COLUMNS": "200"}
    )


@pytest.fixture
def clinic(tmp_path):
    """A clinic folder made by init, with one rule file: add, replace, disable."""
    folder = tmp_path / "harbour"
    result = run(
        "init",
        folder,
        "--tz",
        "Europe/London",
        "--name",
        "Harbour Skin Clinic",
        "--phone",
        "020 7946 0000",
    )
    assert result.exit_code == 0, result.output
    (folder / "rules" / "protocol.yaml").write_text(PROTOCOL, encoding="utf-8")
    return folder


def our_errors() -> list:
    return [
        f
        for f in check_rules([(instructions_dir(), "mesocare")], date.fromisoformat(TODAY))
        if f.severity == "error"
    ]


def finding_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("error: ", "warning: "))]


def line_of(path: Path, needle: str) -> int:
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in text:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


# ----------------------------------------------------------------------------- init


def test_init_reports_what_it_wrote_and_never_overwrites(tmp_path):
    folder = tmp_path / "new"
    first = run("init", folder, "--tz", "Europe/London")
    assert first.exit_code == 0, first.output
    assert f"created  {folder / 'mesocare.yaml'}" in first.output
    assert f"created  {folder / 'rules'}" in first.output
    assert "mesocare rules check --clinic" in first.output
    (folder / "mesocare.yaml").write_text(
        "name: Changed by hand\ntimezone: Europe/London\n", encoding="utf-8"
    )
    second = run("init", folder, "--tz", "Europe/London")
    assert second.exit_code == 0
    assert "created" not in second.output
    assert f"skipped  {folder / 'mesocare.yaml'} (already there, left as it was)" in second.output
    assert (
        (folder / "mesocare.yaml").read_text(encoding="utf-8").startswith("name: Changed by hand")
    )


def test_init_rejects_a_bad_zone(tmp_path):
    result = run("init", tmp_path / "x", "--tz", "Mars/Olympus")
    assert result.exit_code == 1
    assert "not a known time zone" in result.output
    assert not (tmp_path / "x").exists()


# ----------------------------------------------------------------------------- check


def test_the_clinics_rules_pass_the_check(clinic):
    result = run("rules", "check", "--clinic", clinic / "mesocare.yaml", "--today", TODAY)
    clinic_findings = [line for line in finding_lines(result.output) if str(clinic) in line]
    assert clinic_findings == []
    # our own shipped texts are test_reading_level's concern; the clinic adds no error
    assert result.exit_code == (1 if our_errors() else 0), result.output
    if not our_errors():
        ruleset, _ = collect([(instructions_dir(), "mesocare"), (clinic / "rules", "clinic")])
        assert "OK: " in result.output and "(2 of the clinic's)" in result.output
        assert (
            f"Rule set {ruleset.version[:12]}, dated 2026-11-24; not yet reviewed by a clinician."
            in result.output
        )


@pytest.mark.parametrize("how", ["rules-folder", "clinic-folder", "config"])
def test_check_finds_the_clinic_rules_three_ways(clinic, how):
    (clinic / "rules" / "hard.yaml").write_text("disable: [no-such-rule]\n", encoding="utf-8")
    args = {
        "rules-folder": [clinic / "rules"],
        "clinic-folder": [clinic],
        "config": ["--clinic", clinic / "mesocare.yaml"],
    }[how]
    result = run("rules", "check", *args, "--today", TODAY, "--tz", "Europe/London")
    assert result.exit_code == 1
    assert re.search(
        r"hard\.yaml, line 1, field 'disable': no rule or note has the id 'no-such-rule'",
        result.output,
    )


def test_every_mistake_is_reported_at_once_with_file_line_and_field(clinic):
    rules = clinic / "rules"
    broken = rules / "broken.yaml"
    broken.write_text(
        "rules:\n  - id: oops\n    name: x\n   phase: after\n", encoding="utf-8"
    )  # line 4
    refs = rules / "refs.yaml"
    refs.write_text(
        textwrap.dedent(
            """\
            rules:
              - id: harbour-serum
                name: serum again
                phase: after
                window: {after: 1w}
                text: Use the serum.
                reason: Our protocol.
                source: Harbour protocol
                basis: product-label
                reviewed_on: 2026-11-01
                reviewed_by: Dr A. Lee
              - id: cold-pack
                name: cold pack
                phase: after
                window: {after_rule: ice-first, until: 2w}
                text: Put a cold pack on the area.
                reason: Our protocol.
                source: Harbour protocol
                basis: clinic-policy
                reviewed_on: 2026-11-01
                reviewed_by: Dr A. Lee
              - id: supplements
                name: supplements
                phase: before
                window: {before: 1w}
                text: Discontinue administration of anticoagulant nutraceutical supplementation
                  preoperatively.
                reason: Our protocol.
                source: Harbour protocol
                basis: clinic-policy
                reviewed_on: 2023-05-01
                reviewed_by: Dr B. Former
            """
        ),
        encoding="utf-8",
    )
    schema = rules / "schema.yaml"
    schema.write_text(
        textwrap.dedent(
            """\
            rules:
              - id: knee-rest
                name: rest
                phase: after
                window: {after: 2d}
                areas: [knees]
                text: Rest your knees.
                reason: Our protocol.
                basis: clinic-policy
              - id: massage
                name: massage
                phase: after
                window: {after: 2d}
                colour: blue
                text: Do not massage the area.
                reason: Our protocol.
                source: Harbour protocol
                basis: clinic-policy
            """
        ),
        encoding="utf-8",
    )
    result = run("rules", "check", "--clinic", clinic / "mesocare.yaml", "--today", TODAY)
    assert result.exit_code == 1
    out = result.output
    expected = [
        (broken, 4, None, "not valid YAML"),
        (refs, line_of(refs, "- id: harbour-serum"), "id", "duplicate id 'harbour-serum'"),
        (
            refs,
            line_of(refs, "- id: cold-pack"),
            "window.after_rule",
            "'ice-first', which does not exist",
        ),
        (refs, line_of(refs, "Discontinue"), "text", "grade"),
        (refs, line_of(refs, "reviewed_on: 2023-05-01"), "reviewed_on", "more than 24 months ago"),
        (schema, line_of(schema, "areas: [knees]"), "areas", "'knees' is not allowed"),
        (schema, line_of(schema, "- id: knee-rest"), "source", "is missing"),
        (schema, line_of(schema, "colour: blue"), "colour", "unknown key"),
    ]
    for path, line, field, words in expected:
        what = f", field '{field}'" if field else ""
        pattern = re.escape(f"{path.name}, line {line}{what}: ") + r".*" + re.escape(words)
        assert re.search(pattern, out), (pattern, out)
    # the old review is a warning; the others are errors
    assert any(line.startswith("warning: ") and "2023-05-01" in line for line in finding_lines(out))
    assert re.search(r"\d+ errors, \d+ warnings? in ", out)


def test_check_json_for_scripts(clinic):
    (clinic / "rules" / "bad.yaml").write_text(
        "rules:\n  - id: x\n    phase: later\n", encoding="utf-8"
    )
    result = run(
        "rules", "check", "--clinic", clinic / "mesocare.yaml", "--today", TODAY, "--format", "json"
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["rules_version"] is None
    mine = [f for f in data["findings"] if f["file"].endswith("bad.yaml")]
    assert {f["field"] for f in mine} >= {"phase", "name", "window", "text"}
    assert all(set(f) == {"severity", "file", "line", "field", "message"} for f in data["findings"])


def test_check_of_a_missing_folder_is_an_error(tmp_path):
    result = run("rules", "check", tmp_path / "nope", "--today", TODAY, "--tz", "UTC")
    assert result.exit_code == 1
    assert f"error: {tmp_path / 'nope'}: is not a folder of rule files" in result.output


# ----------------------------------------------------------------------------- handouts


def prep(clinic: Path, *extra):
    return run(
        "prep",
        "--clinic",
        clinic / "mesocare.yaml",
        "--date",
        "2026-12-10",
        "--time",
        "10:00",
        "--area",
        "face",
        "--today",
        TODAY,
        *extra,
    )


def test_the_handout_json_shows_the_clinics_rules_and_its_version(clinic):
    result = prep(clinic, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    items = {i["rule"]: i for i in data["items"]}
    assert items["harbour-serum"]["origin"] == "clinic"
    assert items["showers"]["origin"] == "clinic"
    assert items["showers"]["text"] == "Take only cool or warm showers for one day."
    assert items["intense-exercise"]["origin"] == "mesocare"
    assert "hot-tub-sauna" not in items
    assert sorted(data["clinic_rules"]) == ["harbour-serum", "showers"]
    ours, _ = collect([(instructions_dir(), "mesocare")])
    theirs, _ = collect([(instructions_dir(), "mesocare"), (clinic / "rules", "clinic")])
    assert data["rules_version"] == theirs.version != ours.version
    assert data["appointment"]["start"] == "2026-12-10T10:00:00+00:00"  # the config's zone


def test_without_the_clinic_rules_the_handout_is_ours(clinic, tmp_path):
    plain = tmp_path / "plain.yaml"
    plain.write_text("name: Plain\ntimezone: Europe/London\n", encoding="utf-8")
    result = run(
        "prep",
        "--clinic",
        plain,
        "--date",
        "2026-12-10",
        "--area",
        "face",
        "--today",
        TODAY,
        "--format",
        "json",
    )
    data = json.loads(result.stdout)
    ours, _ = collect([(instructions_dir(), "mesocare")])
    assert data["rules_version"] == ours.version and data["clinic_rules"] == []
    assert {"hot-tub-sauna", "showers"} <= {i["rule"] for i in data["items"]}


def test_the_text_handout_marks_clinic_rules_and_shows_the_version(clinic):
    result = prep(clinic, "--format", "text")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "Take only cool or warm showers for one day. (clinic rule)" in text
    assert "Put the serum we gave you on your face each night. (clinic rule)" in text
    assert "Do not do hard exercise. (clinic rule)" not in text
    theirs, _ = collect([(instructions_dir(), "mesocare"), (clinic / "rules", "clinic")])
    assert (
        f"Rule set {theirs.version[:12]}, dated Tuesday 24 November 2026; "
        "not yet reviewed by a clinician." in text
    )
    assert "Includes the clinic's own rules." in text
    assert "hot tubs" not in text


# ----------------------------------------------------------------------------- list, show, schema


def test_rules_list_shows_ours_and_the_clinics(clinic):
    result = run("rules", "list", "--clinic", clinic / "mesocare.yaml")
    assert result.exit_code == 0, result.output
    rows = _table_rows(
        result.stdout,
        run("rules", "list", "--clinic", clinic / "mesocare.yaml", "--format", "json").stdout,
    )
    assert (
        "clinic" in rows["harbour-serum"]
        and "product-label" in rows["harbour-serum"]
        and "1 week after" in rows["harbour-serum"]
    )
    assert "24 hours after" in rows["showers"] and "clinic" in rows["showers"]
    assert "ours" in rows["ginkgo-biloba"] and "10 days before" in rows["ginkgo-biloba"]
    assert "hot-tub-sauna" not in rows
    assert "Disabled by the clinic: hot-tub-sauna." in result.output


def _table_rows(text: str, listing_json: str) -> dict[str, str]:
    """Each rule's or note's lines of the `rules list` tables, joined, keyed by id."""
    data = json.loads(listing_json)
    ids = {r["id"] for r in data["rules"]} | {n["id"] for n in data["notes"]}
    rows: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        first = line.split()[0] if line.split() else ""
        if first in ids and not line.startswith(" "):
            current = first
            rows[current] = line
        elif current and first:
            rows[current] += "\n" + line
        else:
            current = None
    return rows


def test_rules_list_fits_80_columns_and_keeps_every_column(clinic):
    def listed(columns):
        return runner.invoke(
            app,
            ["rules", "list", "--clinic", str(clinic / "mesocare.yaml")],
            env={"MESOCARE_CLINIC": None, "COLUMNS": columns},
        )

    result = listed(None)  # a pipe: 80 columns
    listing = run("rules", "list", "--clinic", clinic / "mesocare.yaml", "--format", "json").stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80, result.stdout
    rows = _table_rows(result.stdout, listing)
    data = json.loads(listing)
    for rule in data["rules"]:
        row = rows[rule["id"]]
        ours = rule["origin"] != "clinic"
        for value in (
            rule["basis"],
            rule["phase"],
            rule["reviewed_on"] or "-",
            "ours" if ours else "clinic",
            *([rule["source"]] if ours else rule["source"].split()),
        ):  # a clinic's free text wraps
            assert value in row, (rule["id"], value)  # whole, never cropped
    for note in data["notes"]:
        assert note["source"] in rows[note["id"]] and note["section"] in rows[note["id"]]
    # a wider $COLUMNS is honoured in a pipe, still with every column
    wide = listed("120")
    assert 80 < max(len(line) for line in wide.stdout.splitlines()) <= 120
    assert _table_rows(wide.stdout, listing).keys() == rows.keys()


def test_rules_list_json(clinic):
    result = run("rules", "list", "--clinic", clinic / "mesocare.yaml", "--format", "json")
    data = json.loads(result.stdout)
    rules = {r["id"]: r for r in data["rules"]}
    assert rules["showers"]["origin"] == "clinic" and rules["showers"]["window"] == {"after": "24h"}
    assert data["disabled"] == ["hot-tub-sauna"]
    assert {n["id"] for n in data["notes"]} >= {"expect-session"}


def test_rules_show(clinic):
    result = run("rules", "show", "showers", "--clinic", clinic / "mesocare.yaml")
    assert result.exit_code == 0, result.output
    assert "text: Take only cool or warm showers for one day." in result.output
    assert "window: 24 hours after" in result.output
    assert "from: clinic" in result.output
    assert "reviewed by: Dr A. Lee, medical director" in result.output
    assert re.search(r"file: .*protocol\.yaml, line 15", result.output)
    ours = run(
        "rules", "show", "water-daily", "--clinic", clinic / "mesocare.yaml", "--format", "json"
    )
    data = json.loads(ours.stdout)
    assert data["origin"] == "mesocare" and data["text_us"].startswith(
        "Drink about 80 fluid ounces"
    )
    note = run("rules", "show", "expect-session", "--clinic", clinic / "mesocare.yaml")
    assert note.exit_code == 0 and "section: expect" in note.output


def test_rules_show_unknown_or_disabled_ids(clinic):
    gone = run("rules", "show", "hot-tub-sauna", "--clinic", clinic / "mesocare.yaml")
    assert gone.exit_code == 1 and "disabled by the clinic's rules" in gone.output
    typo = run("rules", "show", "shower", "--clinic", clinic / "mesocare.yaml")
    assert typo.exit_code == 1 and "Did you mean showers?" in typo.output
    usage = run("rules", "show")
    assert usage.exit_code == 2


def test_rules_schema_is_the_shipped_file():
    result = run("rules", "schema")
    assert result.exit_code == 0
    assert result.stdout == (REPO / "instructions" / "rules.schema.json").read_text(
        encoding="utf-8"
    )


def test_bad_format_is_bad_input(clinic):
    result = run("rules", "list", "--clinic", clinic / "mesocare.yaml", "--format", "xml")
    assert result.exit_code == 1 and "--format 'xml' is not known" in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["init"],
        ["plan"],
        ["rules"],
        ["rules", "check"],
        ["rules", "list"],
        ["rules", "show"],
        ["rules", "schema"],
    ],
)
def test_every_command_and_option_has_help(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output
    # every option line carries a description
    options = [line for line in result.output.splitlines() if line.strip().startswith("--")]
    assert all(len(line.split()) > 2 for line in options), options
