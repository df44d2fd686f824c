"""check_rules: every problem of a rule set at once, each with its file, line and field."""

from __future__ import annotations

import json
import textwrap
from datetime import date
from pathlib import Path

import pytest

from mesocare.checks import Finding, check_rules, reading_grade, summary
from mesocare.resources import instructions_dir
from mesocare.rule_schema import rule_file_json_schema
from mesocare.rules import collect

TODAY = date(2026, 11, 24)
REPO = Path(__file__).resolve().parent.parent


def rule(id_, **fields) -> dict:
    """A valid rule of ours (source: doc.txt), with fields changed."""
    base = {
        "id": id_,
        "name": id_.replace("-", " "),
        "phase": "after",
        "window": {"after": "48h"},
        "text": "Do not swim.",
        "reason": "The guide asks for this.",
        "source": "doc.txt",
        "basis": "clinic-policy",
        "reviewed_on": "2026-01-10",
        "reviewed_by": "Content team",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def write(folder: Path, name: str, data) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=1), encoding="utf-8")
    return path


@pytest.fixture
def ours(tmp_path):
    """A small rule folder of ours, beside a sources/ folder holding doc.txt."""
    write(tmp_path / "sources", "doc.txt", "the source document")
    folder = tmp_path / "instructions"
    write(
        folder,
        "after.yaml",
        {"rules": [rule("showers"), rule("hot-tub", window={"after": "2w"}), rule("sun")]},
    )
    write(
        folder,
        "notes.yaml",
        {
            "notes": [
                {
                    "id": "expect",
                    "section": "expect",
                    "text": "It takes half an hour.",
                    "source": "doc.txt",
                    "reviewed_on": "2026-01-10",
                    "reviewed_by": "Team",
                }
            ]
        },
    )
    return folder


@pytest.fixture
def clinic(tmp_path):
    return tmp_path / "clinic"


def errors(findings):
    return [f for f in findings if f.severity == "error"]


def warnings(findings):
    return [f for f in findings if f.severity == "warning"]


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    """The 1-based line where ``needle`` occurs for the nth time."""
    seen = 0
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in text:
            seen += 1
            if seen == nth:
                return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_a_clean_set_has_no_findings(ours):
    assert check_rules([(ours, "mesocare")], TODAY) == []


def test_our_shipped_rules_have_no_errors_but_reading_grade():
    """Our instructions pass every check; hard texts are test_reading_level's to report."""
    findings = check_rules([(instructions_dir(), "mesocare")], TODAY)
    others = [f for f in errors(findings) if not (f.field or "").startswith("text")]
    assert others == []


def test_our_shipped_sources_are_checked_in_a_checkout():
    """In a checkout sources/ is found beside instructions/, so a wrong name is caught."""
    from mesocare.checks import default_sources_dir

    assert default_sources_dir([(instructions_dir(), "mesocare")]) == REPO / "sources"


def test_every_schema_error_of_every_file_is_reported_at_once(ours, clinic):
    bad_yaml = write(clinic, "a-broken.yaml", "rules:\n  - id: x\n    name: [unclosed\n")
    unknown = write(
        clinic,
        "b-unknown.yaml",
        textwrap.dedent(
            """\
            rules:
              - id: massage
                name: massage
                phase: after
                window: {after: 2d}
                colour: red
                text: Do not massage the area.
                reason: Our protocol.
                source: Our protocol v2
                basis: clinic-policy
              - id: knees
                name: knees
                phase: after
                window: {after: 2d}
                areas: [knees]
                text: Rest.
                reason: Our protocol.
                source: Our protocol v2
                basis: guesswork
            """
        ),
    )
    findings = check_rules([(ours, "mesocare"), (clinic, "clinic")], TODAY)
    got = {(Path(f.file).name, f.line, f.field) for f in errors(findings)}
    assert ("a-broken.yaml", 4, None) in got  # the YAML error, at the line the parser stopped
    assert ("b-unknown.yaml", line_of(unknown, "colour:"), "colour") in got
    assert ("b-unknown.yaml", line_of(unknown, "areas: [knees]"), "areas") in got
    assert ("b-unknown.yaml", line_of(unknown, "basis: guesswork"), "basis") in got
    messages = " | ".join(f.message for f in findings)
    assert (
        "not valid YAML" in messages
        and "unknown key" in messages
        and "'knees' is not allowed" in messages
    )
    assert bad_yaml.exists()


def test_the_valid_rules_of_a_broken_file_are_checked_too(ours, clinic):
    """A schema error does not hide the other problems of the same file."""
    path = write(
        clinic,
        "a.yaml",
        {
            "rules": [
                rule("bad", source="Ours", areas=["elbow"]),
                rule("old", source="Ours", reviewed_on="2020-01-01"),
                rule("hard", source="Ours", text=HARD),
            ]
        },
    )
    findings = check_rules([(ours, "mesocare"), (clinic, "clinic")], TODAY)
    assert [(f.severity, f.field, f.line) for f in findings] == [
        ("error", "areas", line_of(path, '"elbow"')),
        ("warning", "reviewed_on", line_of(path, '"2020-01-01"')),
        ("error", "text", line_of(path, HARD)),
    ]


def test_unknown_technique_is_an_error(ours, clinic):
    path = write(
        clinic, "t.yaml", {"rules": [rule("lasers", techniques=["laser"], source="Our protocol")]}
    )
    findings = check_rules([(ours, "mesocare"), (clinic, "clinic")], TODAY)
    assert [(f.field, f.line) for f in errors(findings)] == [
        ("techniques", line_of(path, '"laser"'))
    ]
    assert "'laser' is not allowed" in errors(findings)[0].message
    assert path.name in errors(findings)[0].file


def test_cross_file_errors_come_with_the_schema_errors(ours, clinic):
    write(clinic, "a.yaml", {"rules": [rule("massage", source="Ours")]})
    write(
        clinic,
        "b.yaml",
        {
            "rules": [
                rule("massage", source="Ours"),
                rule("after-x", window={"after_rule": "nope", "until": "2w"}, source="Ours"),
            ],
            "disable": ["nothing-here"],
        },
    )
    write(clinic, "c.yaml", "rules: [1, 2")
    findings = errors(check_rules([(ours, "mesocare"), (clinic, "clinic")], TODAY))
    text = [str(f) for f in findings]
    assert any("b.yaml" in t and "duplicate id 'massage'" in t and "field 'id'" in t for t in text)
    assert any(
        "b.yaml" in t and "'nope', which does not exist" in t and "window.after_rule" in t
        for t in text
    )
    assert any("b.yaml" in t and "'nothing-here'" in t and "field 'disable'" in t for t in text)
    assert any("c.yaml" in t and "not valid YAML" in t for t in text)


def test_a_rule_after_one_that_never_ends_is_an_error(ours, clinic):
    write(
        clinic,
        "a.yaml",
        {
            "rules": [
                rule("forever", window={"after": "open"}, source="Ours"),
                rule("then", window={"after_rule": "forever", "until": "2w"}, source="Ours"),
                rule("loop-a", window={"after_rule": "loop-b", "until": "2w"}, source="Ours"),
                rule("loop-b", window={"after_rule": "loop-a", "until": "2w"}, source="Ours"),
            ]
        },
    )
    messages = [
        f.message for f in errors(check_rules([(ours, "mesocare"), (clinic, "clinic")], TODAY))
    ]
    assert any("'then' starts after 'forever', which has no fixed end" in m for m in messages)
    assert any("loop" in m for m in messages)


def test_a_window_that_is_always_empty_is_an_error(ours, clinic):
    path = write(
        clinic,
        "a.yaml",
        textwrap.dedent(
            """\
        rules:
          - id: then-short
            name: sunscreen
            phase: after
            window: {after_rule: hot-tub, until: 1w}
            text: Use sunscreen.
            reason: Our protocol.
            source: Ours
            basis: clinic-policy
            reviewed_on: 2026-11-01
            reviewed_by: Dr A
        """
        ),
    )
    [finding] = check_rules([(ours, "mesocare"), (clinic, "clinic")], TODAY)
    assert finding.severity == "error"
    assert (finding.field, finding.line) == ("window.until", line_of(path, "window:"))
    assert "never show" in finding.message and "'hot-tub'" in finding.message


def test_a_window_after_another_that_ends_sooner_is_fine(ours, clinic):
    write(
        clinic,
        "a.yaml",
        {
            "rules": [
                rule("then-long", window={"after_rule": "showers", "until": "2w"}, source="Ours")
            ]
        },
    )
    assert check_rules([(ours, "mesocare"), (clinic, "clinic")], TODAY) == []


@pytest.mark.parametrize(
    "phase, window",
    [
        ("after", {"before": "10d"}),
        ("before", {"after": "2d"}),
        ("day", {"after_rule": "showers", "until": "2w"}),
        ("after", {"on": "treatment-day", "until": "appointment"}),
    ],
)
def test_a_phase_that_contradicts_the_window_is_an_error(ours, clinic, phase, window):
    path = write(
        clinic, "a.yaml", {"rules": [rule("odd", phase=phase, window=window, source="Ours")]}
    )
    [finding] = check_rules([(ours, "mesocare"), (clinic, "clinic")], TODAY)
    assert (finding.severity, finding.field, finding.line) == (
        "error",
        "phase",
        line_of(path, '"phase"'),
    )
    assert f"phase '{phase}' contradicts" in finding.message


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"areas": ["face"], "exclude_areas": ["face"]}, "exclude_areas"),
        ({"areas": []}, "areas"),
        ({"techniques": []}, "techniques"),
    ],
)
def test_a_rule_that_can_never_apply_is_an_error(ours, clinic, fields, field):
    write(clinic, "a.yaml", {"rules": [rule("never", source="Ours", **fields)]})
    [finding] = check_rules([(ours, "mesocare"), (clinic, "clinic")], TODAY)
    assert (finding.severity, finding.field) == ("error", field)


def test_our_source_must_be_a_file_in_sources(ours, tmp_path):
    path = write(
        ours,
        "more.yaml",
        {"rules": [rule("typo", source="doc.tx"), rule("path", source="../sources/doc.txt")]},
    )
    findings = check_rules([(ours, "mesocare")], TODAY)
    assert [(f.severity, f.field, f.line) for f in findings] == [
        ("error", "source", line_of(path, '"source": "doc.tx"')),
        ("error", "source", line_of(path, '"source": "../sources/doc.txt"')),
    ]
    assert "is not a file in sources/" in findings[0].message


def test_the_source_check_is_skipped_without_a_sources_folder(tmp_path):
    folder = tmp_path / "installed" / "instructions"
    write(folder, "a.yaml", {"rules": [rule("x", source="anything.txt")]})
    assert check_rules([(folder, "mesocare")], TODAY) == []
    # and a given sources_dir is used
    write(tmp_path / "docs", "anything.txt", "x")
    assert check_rules([(folder, "mesocare")], TODAY, sources_dir=tmp_path / "docs") == []
    assert errors(check_rules([(folder, "mesocare")], TODAY, sources_dir=tmp_path / "empty"))


def test_a_clinic_source_is_free_text_but_not_empty(ours, clinic):
    write(clinic, "a.yaml", {"rules": [rule("free", source="Dr Lee's protocol, 2026 edition")]})
    assert check_rules([(ours, "mesocare"), (clinic, "clinic")], TODAY) == []
    write(
        clinic,
        "b.yaml",
        {
            "rules": [rule("blank", source="   ")],
            "notes": [{"id": "n", "section": "after", "text": "Rest."}],
        },
    )
    findings = errors(check_rules([(ours, "mesocare"), (clinic, "clinic")], TODAY))
    assert {(Path(f.file).name, f.field) for f in findings} == {("b.yaml", "source")}
    assert len(findings) == 2  # the rule's empty source and the note's missing one


HARD = "Discontinue administration of anticoagulant nutraceutical supplementation preoperatively."


def test_text_above_grade_8_is_an_error_for_ours_and_the_clinics(ours, clinic):
    assert reading_grade(HARD) > 8
    path = write(ours, "hard.yaml", {"rules": [rule("hard", text=HARD)]})
    cpath = write(
        clinic,
        "hard.yaml",
        {
            "rules": [
                rule("clinic-hard", source="Ours", text={"metric": "Drink 2 litres.", "us": HARD})
            ]
        },
    )
    findings = check_rules([(ours, "mesocare"), (clinic, "clinic")], TODAY)
    assert [(f.severity, Path(f.file).parent.name, f.field, f.line) for f in findings] == [
        ("error", "instructions", "text", line_of(path, '"text"')),
        ("error", "clinic", "text.us", line_of(cpath, '"us"')),
    ]
    assert "grade" in findings[0].message and "Flesch-Kincaid" in findings[0].message


def test_a_replaced_or_disabled_rule_of_ours_is_not_checked(ours, clinic):
    write(
        ours,
        "hard.yaml",
        {"rules": [rule("hard", text=HARD), rule("old", reviewed_on="2020-01-01")]},
    )
    assert len(check_rules([(ours, "mesocare")], TODAY)) == 2
    write(
        clinic, "a.yaml", {"rules": [rule("hard", source="Ours", text="Rest.")], "disable": ["old"]}
    )
    assert check_rules([(ours, "mesocare"), (clinic, "clinic")], TODAY) == []


@pytest.mark.parametrize(
    "reviewed_on, reviewed_by, expected",
    [
        ("2024-11-24", "Dr A", []),  # exactly 24 months: still fine
        ("2024-11-23", "Dr A", [("reviewed_on", "more than 24 months ago")]),
        ("2026-12-01", "Dr A", [("reviewed_on", "after today")]),
        (None, None, [("reviewed_on", "no review date")]),
        ("2026-11-01", None, [("reviewed_by", "not by whom")]),
    ],
)
def test_reviews_missing_or_older_than_24_months_are_warnings(
    ours, clinic, reviewed_on, reviewed_by, expected
):
    path = write(
        clinic,
        "a.yaml",
        {"rules": [rule("r", source="Ours", reviewed_on=reviewed_on, reviewed_by=reviewed_by)]},
    )
    findings = check_rules([(ours, "mesocare"), (clinic, "clinic")], TODAY)
    assert all(f.severity == "warning" for f in findings)
    assert [(f.field, next(m for _, m in expected if m in f.message)) for f in findings] == expected
    if reviewed_on:
        assert all(f.line == line_of(path, '"reviewed_on"') for f in findings)


def test_warnings_and_errors_are_counted_and_ordered_ours_first(ours, clinic):
    write(ours, "z.yaml", {"rules": [rule("late-review", reviewed_on="2001-01-01")]})
    write(clinic, "a.yaml", {"rules": [rule("bad", source="Ours", areas=["elbow"])]})
    findings = check_rules([(ours, "mesocare"), (clinic, "clinic")], TODAY)
    assert summary(findings) == (1, 1)
    assert [Path(f.file).parent.name for f in findings] == ["instructions", "clinic"]


def test_a_missing_clinic_folder_is_an_error_not_a_crash(ours, tmp_path):
    findings = check_rules([(ours, "mesocare"), (tmp_path / "nope", "clinic")], TODAY)
    assert [(f.severity, f.message) for f in findings] == [
        ("error", "is not a folder of rule files")
    ]


def test_finding_reads_like_the_other_errors():
    f = Finding("error", "rules/a.yaml", 7, "window.until", "it is wrong")
    assert str(f) == "error: rules/a.yaml, line 7, field 'window.until': it is wrong"
    assert str(Finding("warning", "rules", None, None, "x")) == "warning: rules: x"
    assert f.as_dict() == {
        "severity": "error",
        "file": "rules/a.yaml",
        "line": 7,
        "field": "window.until",
        "message": "it is wrong",
    }


def test_check_is_pure_in_today(ours, clinic):
    write(clinic, "a.yaml", {"rules": [rule("r", source="Ours", reviewed_on="2025-01-01")]})
    folders = [(ours, "mesocare"), (clinic, "clinic")]
    assert check_rules(folders, date(2026, 6, 1)) == check_rules(folders, date(2026, 6, 1))
    assert [Path(f.file).parent.name for f in check_rules(folders, date(2027, 6, 1))] == ["clinic"]
    assert len(check_rules(folders, date(2028, 6, 1))) == 5  # our 3 rules and 1 note too
    assert check_rules(folders, date(2026, 6, 1)) == []


def test_the_reading_grade_needs_no_download(monkeypatch):
    """textstat would fetch NLTK's CMU dictionary; the en-US locale uses pyphen's instead."""
    import nltk

    def no_network(*args, **kwargs):
        raise AssertionError("reading_grade tried to download data")

    monkeypatch.setattr(nltk, "download", no_network)
    assert reading_grade("Do not take showers or hot baths.") < 4
    assert reading_grade(HARD) > 12


def test_the_shipped_rule_file_schema_is_up_to_date():
    """instructions/rules.schema.json is `mesocare rules schema`; regenerate it when this fails:
    mesocare rules schema > instructions/rules.schema.json"""
    shipped = json.loads((REPO / "instructions" / "rules.schema.json").read_text(encoding="utf-8"))
    assert shipped == rule_file_json_schema()


def test_the_schema_file_is_not_read_as_a_rule_file():
    ruleset, errs = collect([(instructions_dir(), "mesocare")])
    assert errs == [] and not any(f.endswith(".json") for f in ruleset.files)
