"""Rule files: the contract's ids, real sources, and one clear sentence for every broken file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import GOOD_RULE, REPO
from mesocare.errors import RuleFileError
from mesocare.resources import instructions_dir
from mesocare.rules import collect, load_ruleset

CONTRACT_IDS = {
    "ginkgo-biloba",
    "willow-bark",
    "vitamin-e",
    "aspirin",
    "nsaids",
    "caffeine",
    "stimulants",
    "medrol",
    "antibacterial-soap",
    "no-topicals-before",
    "arnica",
    "protein-meal",
    "showers",
    "water-treatment-day",
    "water-daily",
    "hot-tub-sauna",
    "intense-exercise",
    "topicals-after",
    "loose-clothing",
    "no-sunbathing",
    "spf30",
    "lasix",
}
SOURCES = REPO / "sources"


def test_every_contract_rule_exists(ruleset):
    assert {r.id for r in ruleset.rules} == CONTRACT_IDS


def test_every_source_is_a_real_seed_file(ruleset):
    seeds = {p.name for p in SOURCES.glob("*.txt")}
    assert len(seeds) == 5
    for r in (*ruleset.rules, *ruleset.notes):
        assert r.source in seeds, f"{r.id} cites {r.source}, which is not in sources/"


def test_sources_match_the_shared_seeds_when_present():
    shared = REPO.parent / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    for seed in shared.glob("*.txt"):
        assert (SOURCES / seed.name).read_bytes() == seed.read_bytes()


def test_every_rule_is_clinic_policy_with_a_reason(ruleset):
    for r in ruleset.rules:
        assert r.basis == "clinic-policy"
        assert r.reason.strip() and r.text.strip() and r.name.strip()


@pytest.mark.parametrize(
    "areas, prescribed, present, absent",
    [
        (("face",), (), {"antibacterial-soap"}, {"arnica", "medrol", "lasix"}),
        (("face",), ("medrol",), {"medrol", "antibacterial-soap"}, {"arnica"}),
        (("body",), ("medrol",), {"arnica"}, {"medrol", "antibacterial-soap"}),
        (("body",), ("lasix",), {"lasix", "arnica"}, {"medrol"}),
        (("face", "neck"), (), {"antibacterial-soap"}, {"arnica"}),  # face excludes arnica
        (("neck",), (), {"arnica"}, {"antibacterial-soap"}),
    ],
)
def test_area_and_prescription_limits(build, areas, prescribed, present, absent):
    from datetime import date, time

    ids = {
        i.rule
        for i in build(date(2024, 6, 10), time(10, 0), areas=areas, prescribed=prescribed).items
    }
    assert present <= ids
    assert not (absent & ids)


def test_units_change_water_text(ruleset):
    from datetime import date

    from conftest import item, make
    from mesocare.model import Clinic

    metric = item(make(ruleset, Clinic(timezone="UTC"), date(2024, 6, 10)), "water-treatment-day")
    us = item(
        make(ruleset, Clinic(timezone="UTC", units="us"), date(2024, 6, 10)), "water-treatment-day"
    )
    assert "litres" in metric.text and "gallon" in us.text


def test_version_is_a_stable_hash(ruleset):
    again = load_ruleset([(instructions_dir(), "mesocare")])
    assert again.version == ruleset.version and len(ruleset.version) == 64


def test_shipped_rule_schema_is_valid_json_schema():
    import jsonschema

    from mesocare.yamlload import load_yaml_with_lines

    schema = json.loads((instructions_dir() / "rules.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for f in instructions_dir().glob("*.yaml"):
        data, _ = load_yaml_with_lines(
            f.read_text(encoding="utf-8"), f.name
        )  # as mesocare reads it
        jsonschema.validate(data, schema)


# --------------------------------------------------------------------------- broken files


def broken(tmp_path: Path, text: str, name: str = "clinic.yaml") -> RuleFileError:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    ruleset, errors = collect([(instructions_dir(), "mesocare"), (folder, "clinic")])
    assert ruleset is None and errors
    return errors[0]


@pytest.mark.parametrize(
    "text, line, field, words",
    [
        ("rules:\n  - id: x\n    name: [unclosed\n", 4, None, "not valid YAML"),
        (
            GOOD_RULE.replace(
                "    basis: clinic-policy", "    basis: clinic-policy\n    colour: blue"
            ),
            10,
            "colour",
            "unknown key",
        ),
        (
            GOOD_RULE.replace("window: {before: 3d}", "window: {before: 3x}"),
            5,
            "window.before",
            "not a duration",
        ),
        (
            GOOD_RULE.replace("window: {before: 3d}", "window: {before: 3d, after: 2d}"),
            5,
            "window",
            "exactly one of",
        ),
        (
            GOOD_RULE.replace(
                "    basis: clinic-policy", "    basis: clinic-policy\n    areas: [elbow]"
            ),
            10,
            "areas",
            "'elbow' is not allowed",
        ),
        (GOOD_RULE.replace("phase: before", "phase: later"), 4, "phase", "'later' is not allowed"),
        (GOOD_RULE.replace("    text: Stop my thing.\n", ""), 2, "text", "is missing"),
        (GOOD_RULE.replace("text: Stop my thing.", "text: [1, 2]"), 6, "text", ""),
        (
            GOOD_RULE.replace(
                "window: {before: 3d}", "window: {after_rule: no-such-rule, until: 2w}"
            ),
            2,
            "window.after_rule",
            "does not exist",
        ),
        (
            GOOD_RULE.replace("window: {before: 3d}", "window: {after_rule: lasix, until: 2w}"),
            2,
            "window.after_rule",
            "no fixed end",
        ),
        (GOOD_RULE + GOOD_RULE.replace("rules:\n", ""), 10, "id", "duplicate id 'my-rule'"),
        ("- just a list\n", 1, None, "must be a mapping"),
        ("disable: [no-such-id]\n", 1, "disable", "no rule or note has the id"),
    ],
)
def test_broken_rule_file_names_file_line_and_field(tmp_path, text, line, field, words):
    err = broken(tmp_path, text)
    assert err.file.endswith("clinic.yaml")
    assert err.line == line, str(err)
    assert err.field == field, str(err)
    assert words in str(err)
    assert str(err).startswith(f"{err.file}, line {line}")


def test_loop_of_after_rules_is_reported(tmp_path):
    text = GOOD_RULE.replace(
        "window: {before: 3d}", "window: {after_rule: other, until: 2w}"
    ).replace("phase: before", "phase: after")
    text += """\
  - id: other
    name: other
    phase: after
    window: {after_rule: my-rule, until: 2w}
    text: Other.
    reason: Other.
    source: our protocol
    basis: clinic-policy
"""
    err = broken(tmp_path, text)
    assert "loop" in str(err)


def test_clinic_overlay_adds_replaces_and_disables(tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "ours.yaml").write_text(
        GOOD_RULE
        + GOOD_RULE.replace("rules:\n", "")
        .replace("id: my-rule", "id: showers")
        .replace("phase: before", "phase: after")
        .replace("{before: 3d}", "{after: 24h}")
        + "disable: [hot-tub-sauna]\n"
    )
    ruleset, errors = collect([(instructions_dir(), "mesocare"), (folder, "clinic")])
    assert not errors
    ids = {r.id: r for r in ruleset.rules}
    assert ids["my-rule"].origin == "clinic"
    assert ids["showers"].origin == "clinic" and ids["showers"].window.after == "24h"
    assert "hot-tub-sauna" not in ids
    assert ruleset.version != load_ruleset([(instructions_dir(), "mesocare")]).version


def test_yes_no_on_off_stay_strings(tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "c.yaml").write_text(GOOD_RULE.replace("text: Stop my thing.", "text: no"))
    ruleset, errors = collect([(folder, "clinic")])
    assert not errors and ruleset.rules[0].text == "no"


# -------------------------------------------------------------------- medicines a doctor prescribed

# A text is about a medicine the patient may have from a doctor when it names one and tells
# the patient to stop, avoid, skip or not take it. A rule with `prescription:` is the
# clinician's own prescription (take it as told), not a medicine to stop.
_MEDICINE = re.compile(
    r"prescri|medicine|aspirin|painkiller|stimulant|ibuprofen|naproxen|anti-inflammatory", re.I
)
_STOP = re.compile(r"\b(?:stop|avoid|skip|do not take|don't take)", re.I)
_ASK_THAT_DOCTOR = re.compile(r"\bask(?:ing)? that doctor first\b", re.I)


def _medicine_texts():
    ruleset = load_ruleset([(instructions_dir(), "mesocare")])
    for item in (*ruleset.rules, *ruleset.notes):
        if getattr(item, "prescription", None) is not None:
            continue
        for text in filter(None, (item.text, item.text_us)):
            if _MEDICINE.search(text) and _STOP.search(text):
                yield pytest.param(text, id=item.id)


MEDICINE_TEXTS = list(_medicine_texts())


def test_the_medicine_rules_are_found():
    ids = {p.id for p in MEDICINE_TEXTS}
    assert {"stimulants", "aspirin", "nsaids", "prescription-caution"} <= ids, ids


@pytest.mark.parametrize("text", MEDICINE_TEXTS)
def test_every_rule_about_a_prescribed_medicine_defers_to_that_doctor(text):
    """The handout never tells a patient to stop a medicine a doctor prescribed on our word:
    each such text sends them to that doctor first (issue 12: the stimulants rule did not)."""
    assert _ASK_THAT_DOCTOR.search(" ".join(text.split())), text


def test_the_old_stimulants_text_would_fail():
    old = (
        "Do not take prescription stimulants on the day of your treatment. "
        "If you are not sure whether a medicine is a stimulant, ask us."
    )
    assert _MEDICINE.search(old) and _STOP.search(old) and not _ASK_THAT_DOCTOR.search(old)


# The same deferral in every language we ship: each translation of those texts sends the
# patient to that doctor first (a translation says exactly what the English says).
_ASK_THAT_DOCTOR_IN = {
    "fr": r"d'abord à ce médecin|demandez-lui d'abord",
    "es": r"antes a ese médico|pregúntele antes",
    "it": r"prima a quel medico",
    "pt": r"primeiro a esse médico",
    "pt-BR": r"(primeiro|antes) (a|para) esse médico",
    "fr-CA": r"d'abord à ce médecin|demandez-lui d'abord",
    "es-MX": r"antes a ese médico|pregúntele antes",
    "de": r"zuerst diesen Arzt|fragen Sie ihn zuerst",
}


@pytest.mark.parametrize("tag", sorted(_ASK_THAT_DOCTOR_IN))
def test_every_translation_about_a_prescribed_medicine_defers_to_that_doctor(tag):
    from mesocare import lang
    from mesocare.lang.texts import load_texts

    texts = load_texts(lang.get(tag), [(instructions_dir(), "mesocare")])
    ruleset = load_ruleset([(instructions_dir(), "mesocare")])
    kinds = {r.id: "rule" for r in ruleset.rules} | {n.id: "note" for n in ruleset.notes}
    pattern = re.compile(_ASK_THAT_DOCTOR_IN[tag], re.I)
    ids = {p.id for p in MEDICINE_TEXTS}
    assert ids
    for item_id in sorted(ids):
        entry = texts.entry(kinds[item_id], item_id, "mesocare")
        assert entry is not None, f"{item_id} has no {tag} text"
        for units in ("metric", "us"):
            text = " ".join((entry.text_for(units) or "").split())
            assert pattern.search(text), f"{tag} {item_id}: {text}"
