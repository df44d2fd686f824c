"""A clinic's overlays (translation files, templates), used the way a clinic uses them: a
clinic folder made by ``mesocare init``, a file in its ``rules/lang/`` or ``templates/``, and
the CLI given ``--clinic``; ``rules check`` says what it loads."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conftest import run_cli

pytestmark = pytest.mark.usefixtures("no_clinic_env")

TODAY = "2026-12-01"
CORRECTED = "No se duche ni se bañe con agua caliente."
OUR_SPANISH = "No se duche ni tome baños calientes."


@pytest.fixture
def clinic(tmp_path) -> Path:
    folder = tmp_path / "clinic"
    made = run_cli(
        "init", folder, "--tz", "Europe/London", "--name", "Harbour", "--phone", "020 7946 0000"
    )
    assert made.exit_code == 0, made.output
    (folder / "rules" / "lang").mkdir(exist_ok=True)
    return folder


def lang_file(clinic: Path, name: str, text: str) -> Path:
    path = clinic / "rules" / "lang" / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def items(clinic: Path, *extra) -> dict:
    result = run_cli(
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
        "--format",
        "json",
        *extra,
    )
    assert result.exit_code == 0, result.output
    return {i["rule"]: i["text"] for i in json.loads(result.stdout)["items"]}


def test_the_readmes_correction_of_our_spanish_is_printed(clinic):
    """README, "A clinic adds or corrects a translation": only what the file names changes."""
    lang_file(
        clinic,
        "es.yaml",
        f"""\
        rules:
          showers:
            text: {CORRECTED}
    """,
    )
    spanish = items(clinic, "--lang", "es")
    assert spanish["showers"] == CORRECTED
    # other languages, and the other Spanish texts, are ours
    assert items(clinic, "--lang", "fr")["showers"] == "Ne prenez pas de douche ni de bain chaud."
    text = run_cli(
        "prep",
        "--clinic",
        clinic / "mesocare.yaml",
        "--date",
        "2026-12-10",
        "--area",
        "face",
        "--today",
        TODAY,
        "--lang",
        "es",
        "--format",
        "text",
    )
    assert CORRECTED in text.stdout and OUR_SPANISH not in text.stdout


def test_a_regional_correction_keeps_the_languages_own(clinic):
    lang_file(clinic, "es.yaml", f"rules:\n  showers:\n    text: {CORRECTED}\n")
    lang_file(clinic, "es-MX.yaml", "rules:\n  showers:\n    reason: Lo pide la clínica.\n")
    assert items(clinic, "--lang", "es-MX")["showers"] == CORRECTED
    assert items(clinic, "--lang", "es")["showers"] == CORRECTED


def test_a_correction_in_a_batch_and_in_rules_list(clinic, tmp_path):
    lang_file(
        clinic, "es.yaml", f"rules:\n  showers:\n    text: {CORRECTED}\n    name: las duchas\n"
    )
    schedule = tmp_path / "day.csv"
    schedule.write_text("date,time,area,language\n2026-12-10,10:00,face,es\n", encoding="utf-8")
    result = run_cli(
        "batch",
        schedule,
        "--clinic",
        clinic / "mesocare.yaml",
        "--today",
        TODAY,
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    [handout] = json.loads(result.stdout)
    assert {i["rule"]: i["text"] for i in handout["items"]}["showers"] == CORRECTED
    listed = run_cli(
        "rules", "list", "--clinic", clinic / "mesocare.yaml", "--lang", "es", "--format", "json"
    )
    assert listed.exit_code == 0, listed.output
    assert CORRECTED in listed.stdout and "las duchas" in listed.stdout


def test_rules_check_reports_the_clinics_translation_files(clinic):
    lang_file(
        clinic, "es.yaml", f"rules:\n  showers:\n    text: {CORRECTED}\n  shwoers:\n    text: x\n"
    )
    result = run_cli("rules", "check", clinic, "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert (
        "Clinic translation " in result.output
        and "es.yaml: Spanish (es-ES), texts for 2 rules" in result.output
    )
    assert (
        "field 'rules.shwoers': 'shwoers' is not a rule in force, so this text is never used"
        in result.output
    )
    data = json.loads(
        run_cli("rules", "check", clinic, "--today", TODAY, "--format", "json").stdout
    )
    assert any("es.yaml" in line for line in data["clinic_translations"])


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("es.yaml", "rules:\n  showers: {txt: x}\n", "unknown key"),
        ("es.yaml", "rules: {showers: {text: 'x'\n", "not valid YAML"),
        ("xx.yaml", "rules:\n  showers: {text: x}\n", "not a language"),
    ],
)
def test_rules_check_finds_a_broken_clinic_translation_in_any_language(
    clinic, name, content, problem
):
    """The config lists no languages: a Spanish file is still read and checked."""
    lang_file(clinic, name, content)
    result = run_cli("rules", "check", clinic, "--today", TODAY)
    assert result.exit_code == 1, result.output
    assert problem in result.output and name in result.output
    assert "Traceback" not in result.output


def test_a_clinic_template_is_used_and_rules_check_names_it(clinic):
    (clinic / "templates" / "handout.txt.j2").write_text(
        "Harbour layout: {{ clinic.name }}\n", encoding="utf-8"
    )
    (clinic / "templates" / "handuot.txt.j2").write_text("never\n", encoding="utf-8")
    text = run_cli(
        "prep",
        "--clinic",
        clinic / "mesocare.yaml",
        "--date",
        "2026-12-10",
        "--area",
        "face",
        "--today",
        TODAY,
        "--format",
        "text",
    )
    assert text.exit_code == 0 and text.stdout == "Harbour layout: Harbour\n"
    result = run_cli("rules", "check", clinic, "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert "templates/handout.txt.j2 replaces ours." in result.output
    assert (
        "warning: " in result.output
        and "handuot.txt.j2: replaces none of our templates" in result.output
    )
    data = json.loads(
        run_cli("rules", "check", clinic, "--today", TODAY, "--format", "json").stdout
    )
    assert [line.endswith("handout.txt.j2 replaces ours") for line in data["clinic_templates"]] == [
        True
    ]
