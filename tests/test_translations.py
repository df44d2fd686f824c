"""Every shipped language has every text, with the same facts and numbers as the English, at a
plain reading level; a missing text fails here (it never falls back to English at run time)."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
INSTRUCTIONS = ROOT / "instructions"
LOCALES = ROOT / "mesocare" / "locales"
LANGUAGES = ["fr", "es", "it", "pt", "de"]  # every shipped language besides English
REGIONAL = {"pt-BR": "pt", "fr-CA": "fr", "es-MX": "es"}  # regional files: only what differs
ENGLISH_REGIONAL = ["en-US"]  # an English region's words where it says them its own way
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
# a translation may word this one around the "from ..." phrase instead of the English moment
ALTERNATE_PLACEHOLDERS = {"This aftercare step is over from %(moment)s.": {"from"}}


def english() -> dict[tuple[str, str], dict]:
    """(kind, id) -> {name, text, text_us, reason} from our English rule files."""
    out = {}
    for path in sorted(INSTRUCTIONS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for kind in ("rules", "notes"):
            for item in data.get(kind) or []:
                out[(kind, item["id"])] = _fields(item)
    return out


def _fields(item: dict) -> dict:
    text = item.get("text")
    fields = {"name": item.get("name"), "reason": item.get("reason")}
    if isinstance(text, dict):
        fields |= {"text": text.get("metric"), "text_us": text.get("us")}
    else:
        fields |= {"text": text, "text_us": None}
    return {k: " ".join(v.split()) for k, v in fields.items() if v}


@cache
def translation(tag: str) -> dict:
    return yaml.safe_load((INSTRUCTIONS / "lang" / f"{tag}.yaml").read_text(encoding="utf-8"))


@cache
def translated(tag: str) -> dict[tuple[str, str], dict]:
    data = translation(tag)
    return {
        (kind, k): _fields(v)
        for kind in ("rules", "notes")
        for k, v in (data.get(kind) or {}).items()
    }


EN = english()


# ----------------------------------------------------------------------------- rule and note texts
@pytest.mark.parametrize("code", LANGUAGES)
def test_every_rule_and_note_has_every_text(code):
    tr = translated(code)
    missing = [
        f"{kind[:-1]} {item}: {field}"
        for (kind, item), fields in EN.items()
        for field in fields
        if not tr.get((kind, item), {}).get(field)
    ]
    assert not missing, f"{code}: missing translations: {missing}"
    unknown = sorted(set(tr) - set(EN))
    assert not unknown, f"{code}: translations of ids that do not exist: {unknown}"


@pytest.mark.parametrize("tag, base", [*REGIONAL.items(), ("en-US", "en")])
def test_regional_files_only_override_known_ids(tag, base):
    tr = translated(tag)
    assert set(tr) <= set(EN)
    for key, fields in tr.items():
        assert set(fields) <= set(EN[key])


@pytest.mark.parametrize("tag", LANGUAGES + list(REGIONAL))
def test_each_language_records_its_translator_date_and_review(tag):
    record = translation(tag)["translation"]
    assert record["by"] == "machine-assisted translation by the mesocare team"
    assert str(record["date"]) == "2026-12-01"
    assert record["review"].startswith("needs review by a clinician who reads ")


def numbers(text: str) -> Counter:
    """The numbers a text says: 10, 48, 30, 2.4 (a decimal comma read as a point)."""
    return Counter(re.sub(r"(\d),(\d)", r"\1.\2", n) for n in re.findall(r"\d+(?:[.,]\d+)?", text))


@pytest.mark.parametrize("tag", LANGUAGES + list(REGIONAL) + ENGLISH_REGIONAL)
def test_numbers_match_the_english(tag):
    """10 days, 48 hours, 30 g, SPF 30, 2.4 litres: the same numbers in every language."""
    wrong = [
        f"{item}.{field}: {text!r}"
        for (kind, item), fields in translated(tag).items()
        for field, text in fields.items()
        if numbers(text) != numbers(EN[(kind, item)][field])
    ]
    assert not wrong, f"{tag}: numbers differ from the English: {wrong}"


def test_the_number_check_can_fail():
    assert numbers("Buvez 2,4 litres (10 verres).") == numbers("Drink 2.4 litres (10 glasses).")
    assert numbers("Buvez 2,5 litres (10 verres).") != numbers("Drink 2.4 litres (10 glasses).")
    assert numbers("SPF 50") != numbers("SPF 30")


# ----------------------------------------------------------------------------- template strings
@cache
def read_catalog(code: str):
    from babel.messages.pofile import read_po

    with (LOCALES / code / "LC_MESSAGES" / "mesocare.po").open("rb") as f:
        return read_po(f)


def template():
    from babel.messages.pofile import read_po

    with (LOCALES / "mesocare.pot").open("rb") as f:
        return read_po(f)


def msgids(catalog) -> set:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def test_the_template_lists_every_string_in_the_code_and_templates():
    """mesocare.pot is what Babel extracts today (regenerate it with the command in babel.cfg)."""
    from babel.messages.extract import extract_from_dir

    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map=[("mesocare/**.py", "python"), ("templates/**.j2", "jinja2")],
        options_map={"templates/**.j2": {"trim_blocks": "true", "lstrip_blocks": "true"}},
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "n_": (1, 2)},
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    found.discard("")
    assert found == msgids(template())


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_template_string_is_translated(code):
    cat = read_catalog(code)
    missing = []
    for m in template():
        if not m.id:
            continue
        got = cat.get(m.id)
        strings = got.string if got else None
        if isinstance(strings, tuple):
            ok = all(strings)
        else:
            ok = bool(strings)
        if got is None or not ok or got.fuzzy:
            missing.append(m.id)
    assert not missing, f"{code}: untranslated template strings: {missing}"


@pytest.mark.parametrize("code", [*LANGUAGES, "pt_BR", "fr_CA", "es_MX", "en_US"])
def test_template_strings_keep_placeholders_markup_and_numbers(code):
    wrong = []
    for m in read_catalog(code):
        if not m.id:
            continue
        sources = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        english_names = set(PLACEHOLDER.findall(" ".join(sources)))
        key = sources[0]
        for s in strings:
            names = set(PLACEHOLDER.findall(s))
            if key in ALTERNATE_PLACEHOLDERS:
                ok = names <= english_names | ALTERNATE_PLACEHOLDERS[key] and names
            else:
                ok = names == english_names
            ok = ok and re.findall(r"</?\w+>", s) == re.findall(r"</?\w+>", key)
            ok = ok and numbers(PLACEHOLDER.sub("", s)) == numbers(PLACEHOLDER.sub("", key))
            if not ok:
                wrong.append(f"{key!r} -> {s!r}")
    assert not wrong, f"{code}: {wrong}"


def test_the_catalogs_compile_and_load():
    from mesocare import lang

    for code in LANGUAGES:
        L = lang.get(code)
        assert L.gettext("What to expect") != "What to expect"


# ----------------------------------------------------------------------------- reading level
def _metric(code: str, text: str) -> float:
    """textstat's formula for the language: Kandel-Moles Flesch (fr), Fernández Huerta (es),
    Gulpease (it), Amstad's Flesch (de), and for Portuguese the Flesch ease with Martins et al.'s
    adaptation (+42), which textstat does not ship; syllables from pyphen's dictionaries."""
    import textstat

    textstat.set_lang(code)
    if code == "es":
        return textstat.fernandez_huerta(text)
    if code == "it":
        return textstat.gulpease_index(text)
    if code == "pt":
        textstat.set_lang("pt")
        from textstat.backend.metrics._syllables_per_word import syllables_per_word
        from textstat.backend.metrics._words_per_sentence import words_per_sentence

        return (
            206.835 - 1.015 * words_per_sentence(text) - 84.6 * syllables_per_word(text, "pt") + 42
        )
    return textstat.flesch_reading_ease(text)


# (whole set at least, every single text at least): higher is easier on every scale used here.
# 60-70 reads as "plain" on the Flesch-type scales and Gulpease 60 as easy for a reader with
# middle-school education; our English texts are held to Flesch-Kincaid grade 8.
THRESHOLDS = {"fr": (70, 40), "es": (70, 40), "it": (60, 50), "pt": (60, 40), "de": (60, 30)}


@pytest.mark.parametrize("code", LANGUAGES)
def test_reading_level(code):
    texts = {k: v["text"] for k, v in translated(code).items()}
    overall, floor = THRESHOLDS[code]
    whole = _metric(code, " ".join(texts.values()))
    assert whole >= overall, f"{code}: {whole:.0f} is below {overall}"
    hard = {k: round(_metric(code, t)) for k, t in texts.items() if _metric(code, t) < floor}
    assert not hard, f"{code}: texts too hard to read: {hard}"


def test_german_is_at_most_school_grade_8_by_the_wiener_sachtextformel():
    import textstat

    textstat.set_lang("de")
    text = " ".join(v["text"] for v in translated("de").values())
    assert textstat.wiener_sachtextformel(text, 1) <= 8


def test_the_reading_check_can_fail():
    hard = (
        "Die unverzügliche Unterbrechung sämtlicher entzündungshemmender Arzneimittelbehandlungen "
        "einschließlich nichtsteroidaler Antirheumatika ist unabdingbar erforderlich."
    )
    assert _metric("de", hard) < THRESHOLDS["de"][1]


@pytest.mark.parametrize("code", ["pt_BR", "fr_CA", "es_MX", "en_US"])
def test_regional_catalogs_hold_only_strings_of_the_template(code):
    """A region's catalog words what the code says: a string the code no longer has is stale."""
    stale = msgids(read_catalog(code)) - msgids(template())
    assert not stale, f"{code}: strings no longer in mesocare.pot: {stale}"
