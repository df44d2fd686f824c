"""scaffold: a commented clinic config and empty rule/template folders; never overwrites."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mesocare.checks import check_rules
from mesocare.config.clinic import load_clinic
from mesocare.errors import OutputError
from mesocare.resources import init_templates_dir, instructions_dir, templates_dir
from mesocare.rules import collect
from mesocare.scaffold import config_text, scaffold

TODAY = date(2026, 11, 24)


def test_init_writes_config_rules_and_templates(tmp_path):
    folder = tmp_path / "clinic"
    result = scaffold(
        folder, TODAY, name="Harbour Skin Clinic", phone="020 7946 0000", timezone="Europe/London"
    )
    assert result.skipped == []
    assert result.created == [
        folder,
        folder / "mesocare.yaml",
        folder / "rules",
        folder / "rules" / "README.md",
        folder / "templates",
        folder / "templates" / "README.md",
    ]
    assert result.config == folder / "mesocare.yaml"
    clinic = load_clinic(folder / "mesocare.yaml", default_zone="UTC")
    assert (clinic.name, clinic.phone, clinic.timezone) == (
        "Harbour Skin Clinic",
        "020 7946 0000",
        "Europe/London",
    )
    assert (clinic.duration_minutes, clinic.paper, clinic.units) == (30, "A4", "metric")
    assert Path(clinic.rules_dir) == (folder / "rules").resolve()
    assert Path(clinic.templates_dir) == (folder / "templates").resolve()
    assert (
        clinic.closed_weekdays == () and clinic.holidays_country is None and clinic.services == {}
    )


def test_every_setting_is_in_the_config_with_a_comment():
    from mesocare.config.schema import ClinicSpec

    text = config_text()
    for key in ClinicSpec.model_fields:
        assert re.search(rf"^#?{key}:", text, re.M), key
    # each setting has a comment line above it (or above its group)
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^#?[a-z_]+:", line):
            above = lines[:i]
            assert any(text.startswith("# ") for text in above[-4:]), line


def test_without_values_the_config_loads_with_the_defaults(tmp_path):
    scaffold(tmp_path, TODAY)
    clinic = load_clinic(tmp_path / "mesocare.yaml", default_zone="Asia/Tokyo")
    assert clinic.name == "Your mesotherapy clinic"
    assert clinic.phone is None
    assert clinic.timezone == "Asia/Tokyo"  # the machine's zone when none is written


def test_the_optional_settings_work_once_uncommented(tmp_path):
    scaffold(tmp_path, TODAY, timezone="Europe/London")
    path = tmp_path / "mesocare.yaml"
    # "#key: value" and "#  CODE: ..." lines are settings; "# " lines are prose
    text = re.sub(r"^#(?=[a-z_]+:|  \S)", "", path.read_text(encoding="utf-8"), flags=re.M)
    path.write_text(text, encoding="utf-8")
    clinic = load_clinic(path, default_zone="UTC")
    assert clinic.closed_weekdays == (5, 6)
    assert (clinic.holidays_country, clinic.holidays_subdiv) == ("GB", "ENG")
    assert clinic.phone == "020 7946 0000"
    assert clinic.services["NECK-MN"] == {"area": "neck", "technique": "microneedling"}
    assert clinic.services["FACE-NECK"]["area"] == "face+neck"


def test_names_with_quotes_and_colons_are_written_safely(tmp_path):
    name = 'Dr "O\'Brien": Skin & Laser # 1'
    scaffold(tmp_path, TODAY, name=name, phone="+44 (0)20: 7946")
    clinic = load_clinic(tmp_path / "mesocare.yaml", default_zone="UTC")
    assert (clinic.name, clinic.phone) == (name, "+44 (0)20: 7946")


def test_it_never_overwrites(tmp_path):
    (tmp_path / "mesocare.yaml").write_text("name: Mine\n", encoding="utf-8")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "README.md").write_text("my notes\n", encoding="utf-8")
    result = scaffold(tmp_path, TODAY, name="Other")
    assert result.skipped == [tmp_path / "mesocare.yaml", tmp_path / "rules" / "README.md"]
    assert result.created == [tmp_path / "templates", tmp_path / "templates" / "README.md"]
    assert (tmp_path / "mesocare.yaml").read_text(encoding="utf-8") == "name: Mine\n"
    assert (tmp_path / "rules" / "README.md").read_text(encoding="utf-8") == "my notes\n"
    again = scaffold(tmp_path, TODAY)
    assert again.created == [] and len(again.skipped) == 3


def test_a_file_in_the_way_is_an_error(tmp_path):
    (tmp_path / "clinic").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="not a folder"):
        scaffold(tmp_path / "clinic", TODAY)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "rules").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="not a folder"):
        scaffold(tmp_path / "other", TODAY)


def test_the_empty_rule_folder_changes_nothing(tmp_path):
    scaffold(tmp_path, TODAY)
    ours, errors = collect([(instructions_dir(), "mesocare")])
    both, errors2 = collect([(instructions_dir(), "mesocare"), (tmp_path / "rules", "clinic")])
    assert errors == errors2 == []
    assert both.version == ours.version and both.clinic_rules == ()
    # and it adds no finding of its own to a check
    findings = check_rules(
        [(instructions_dir(), "mesocare"), (tmp_path / "rules", "clinic")], TODAY
    )
    assert not [f for f in findings if "rules" in Path(f.file).parts[-2:-1]]


def _example(readme: Path) -> str:
    m = re.search(r"```yaml\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
    assert m, "the README has a yaml example"
    return m.group(1)


def test_the_readme_example_adds_replaces_and_disables(tmp_path):
    scaffold(tmp_path, TODAY)
    rules = tmp_path / "rules"
    (rules / "our-protocol.yaml").write_text(_example(rules / "README.md"), encoding="utf-8")
    folders = [(instructions_dir(), "mesocare"), (rules, "clinic")]
    findings = check_rules(folders, TODAY)
    assert [f for f in findings if f.file.endswith("our-protocol.yaml")] == []
    ruleset, errors = collect(folders)
    assert errors == []
    assert set(ruleset.clinic_rules) == {"aftercare-serum", "intense-exercise"}
    assert ruleset.rule("showers") is None and "showers" in ruleset.disabled
    assert ruleset.rule("intense-exercise").window.after == "24h"


def test_the_templates_readme_names_every_template_of_ours(tmp_path):
    scaffold(tmp_path, TODAY)
    readme = (tmp_path / "templates" / "README.md").read_text(encoding="utf-8")
    names = [p.name for p in templates_dir().iterdir() if p.suffix == ".j2"]
    assert names and all(f"`{n}`" in readme for n in names)
    assert "handout.txt.j2" in readme


def test_the_scaffolded_readme_does_not_load_as_a_template_or_rule(tmp_path):
    from mesocare.rules import rule_files

    scaffold(tmp_path, TODAY)
    assert rule_files(tmp_path / "rules") == []


# ----------------------------------------------------------------- what init writes is templates


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1), st.text(min_size=1))
def test_any_name_and_phone_load_back_as_typed(name, phone):
    """Whatever a clinic types (":", '"', "#", a line separator, a control character) is
    written as a YAML string that loads back as it was typed."""
    import yaml

    data = yaml.safe_load(config_text(name=name, phone=phone, timezone="Europe/London"))
    assert (data["name"], data["phone"], data["timezone"]) == (name, phone, "Europe/London")


@pytest.mark.usefixtures("no_clinic_env")
def test_init_through_the_cli_keeps_a_name_with_quotes_colons_and_a_line_separator(tmp_path):
    from conftest import run_cli

    name = 'Dr "Ana": Skin\u2028& Laser\x85 # 2'
    made = run_cli(
        "init", tmp_path, "--tz", "Europe/London", "--name", name, "--phone", "020: 7946"
    )
    assert made.exit_code == 0, made.output
    clinic = load_clinic(tmp_path / "mesocare.yaml", default_zone="UTC")
    assert (clinic.name, clinic.phone) == (name, "020: 7946")


@pytest.mark.usefixtures("no_clinic_env")
def test_init_templates_are_not_templates_a_clinic_can_replace(tmp_path):
    """Ours of what init writes live in templates/init/: rules check tells a clinic that a file
    of that name in its own folder replaces nothing."""
    from conftest import run_cli

    scaffold(tmp_path, TODAY)
    assert (init_templates_dir() / "mesocare.yaml.j2").is_file()
    (tmp_path / "templates" / "init").mkdir()
    (tmp_path / "templates" / "init" / "mesocare.yaml.j2").write_text("name: x\n", encoding="utf-8")
    result = run_cli("rules", "check", tmp_path, "--today", TODAY.isoformat())
    assert "init/mesocare.yaml.j2: replaces none of our templates" in result.output, result.output
    assert "replaces ours" not in result.output
