"""Rule and note texts per language: ours, a clinic's corrections, and clinic rules that lack a
translation (an error naming the rule, the file and the language; never English instead)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mesocare import lang
from mesocare.lang.localize import Localizer, MissingRuleText
from mesocare.resources import instructions_dir
from mesocare.rules import load_ruleset

OURS = (str(instructions_dir()), "mesocare")


def clinic_folder(tmp_path: Path, rules: str = "", **lang_files: str) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    if rules:
        (folder / "clinic.yaml").write_text(textwrap.dedent(rules), encoding="utf-8")
    if lang_files:
        (folder / "lang").mkdir()
        for name, text in lang_files.items():
            (folder / "lang" / f"{name.replace('_', '-')}.yaml").write_text(
                textwrap.dedent(text), encoding="utf-8"
            )
    return folder


def setup(folder: Path | None, tag: str):
    folders = [(instructions_dir(), "mesocare")] + ([(folder, "clinic")] if folder else [])
    ruleset = load_ruleset(folders, use_cache=False)
    return ruleset, Localizer(lang.get(tag), tuple((str(f), o) for f, o in folders))


CLINIC_RULE = """\
    rules:
      - id: no-alcohol
        name: alcohol
        phase: before
        window: {before: 24h}
        text: Do not drink alcohol.
        reason: Alcohol can make bruising worse.
        source: Harbour Skin Clinic protocol 3
        basis: clinic-policy
"""


def test_our_texts_in_french():
    ruleset, loc = setup(None, "fr")
    words = loc.rule(ruleset.rule("spf30"), "metric")
    assert (
        words.text == "Mettez une crème solaire SPF 30 ou plus chaque fois que vous êtes au soleil."
    )
    assert loc.rule(ruleset.rule("water-daily"), "us").text.startswith("Buvez environ 80 onces")
    assert loc.problems(ruleset) == []


def test_a_clinic_rule_without_french_is_an_error_naming_rule_file_and_language(tmp_path):
    ruleset, loc = setup(clinic_folder(tmp_path, CLINIC_RULE), "fr")
    with pytest.raises(MissingRuleText) as e:
        loc.rule(ruleset.rule("no-alcohol"), "metric")
    msg = str(e.value)
    assert "clinic.yaml" in msg and "'no-alcohol'" in msg and "French" in msg and "fr-FR" in msg
    assert "lang/fr.yaml" in msg and e.value.exit_code == 1
    assert [p.field for p in loc.problems(ruleset)] == ["name", "text", "reason"]


def test_a_clinic_rule_with_its_own_translation(tmp_path):
    folder = clinic_folder(
        tmp_path,
        CLINIC_RULE,
        fr="""\
        translation: {by: Dr A. Example, date: 2026-11-30, review: reviewed by Dr A. Example}
        rules:
          no-alcohol:
            name: l'alcool
            text: Ne buvez pas d'alcool.
            reason: L'alcool peut aggraver les bleus.
    """,
    )
    ruleset, loc = setup(folder, "fr")
    assert loc.rule(ruleset.rule("no-alcohol"), "metric").text == "Ne buvez pas d'alcool."
    assert loc.problems(ruleset) == []
    # other languages still lack it
    ruleset, de = setup(folder, "de")
    assert [p.field for p in de.problems(ruleset)] == ["name", "text", "reason"]


def test_a_clinic_that_replaces_one_of_our_rules_must_translate_it(tmp_path):
    """Our French says what our English says: it cannot stand for the clinic's own wording."""
    replaced = CLINIC_RULE.replace("no-alcohol", "showers").replace(
        "Do not drink alcohol.", "You may shower at once."
    )
    ruleset, loc = setup(clinic_folder(tmp_path, replaced), "fr")
    with pytest.raises(MissingRuleText, match="'showers'"):
        loc.rule(ruleset.rule("showers"), "metric")


def test_a_clinic_corrects_one_text_in_one_language(tmp_path):
    folder = clinic_folder(
        tmp_path,
        es="""\
        rules:
          showers:
            text: No se duche ni se bañe con agua caliente.
    """,
    )
    ruleset, loc = setup(folder, "es")  # the clinic's folder as the clinic's, after ours
    # its text wins for our rule, our name and reason stay (tests/test_clinic_translations.py
    # does the same through the CLI, with --clinic)
    words = loc.rule(ruleset.rule("showers"), "metric")
    assert words.text == "No se duche ni se bañe con agua caliente."
    assert words.name == "las duchas y los baños calientes"
    assert loc.problems(ruleset) == []
    # French is untouched
    ruleset, fr = setup(folder, "fr")
    assert (
        fr.rule(ruleset.rule("showers"), "metric").text
        == "Ne prenez pas de douche ni de bain chaud."
    )


def test_regional_texts_over_the_language():
    ruleset, br = setup(None, "pt-BR")
    ruleset, pt = setup(None, "pt-PT")
    assert (
        br.rule(ruleset.rule("showers"), "metric").text
        == "Não tome banho de chuveiro nem banhos quentes."
    )
    assert pt.rule(ruleset.rule("showers"), "metric").text == "Não tome duche nem banhos quentes."
    assert br.rule(ruleset.rule("protein-meal"), "metric") == pt.rule(
        ruleset.rule("protein-meal"), "metric"
    )


def test_french_rule_texts_get_french_typography(tmp_path):
    folder = clinic_folder(
        tmp_path,
        CLINIC_RULE,
        fr="""\
        rules:
          no-alcohol: {name: l'alcool, text: "Attention : pas d'alcool !", reason: « Bleus ».}
    """,
    )
    ruleset, loc = setup(folder, "fr")
    assert (
        loc.rule(ruleset.rule("no-alcohol"), "metric").text
        == "Attention\u00a0: pas d'alcool\u00a0!"
    )


@pytest.mark.parametrize(
    "content, problem",
    [
        ("rules: [1, 2]", "must be a mapping from ids to texts"),
        ("rules:\n  showers: just text\n", "must be a mapping of name, text, reason"),
        ("rules:\n  showers: {txt: x}\n", "unknown key"),
        ("colour: blue\n", "unknown key"),
        ("rules:\n  showers: {text: [a, b]}\n", "must be a text"),
        ("rules: {showers: {text: 'x'\n", "not valid YAML"),
    ],
)
def test_broken_translation_files_name_file_and_line(tmp_path, content, problem):
    folder = tmp_path / "rules"
    (folder / "lang").mkdir(parents=True)
    (folder / "lang" / "fr.yaml").write_text(content, encoding="utf-8")
    from mesocare.errors import MesocareError
    from mesocare.lang.texts import load_texts

    with pytest.raises(MesocareError) as e:
        load_texts(lang.get("fr"), [(folder, "clinic")])
    assert problem in str(e.value) and "fr.yaml" in str(e.value)
