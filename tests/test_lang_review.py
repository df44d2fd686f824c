"""Each language read as its speakers read it: every variant of the handout, in every language
and format a patient gets (text, HTML, JSON, calendar, the email), uses its glossary's terms,
never one it avoids, and has no English left in it; its prose reads at that language's plain
level; a clinic's own corrections (``rules/lang/``) go through the same checks in
``mesocare rules check``."""

from __future__ import annotations

import html as html_lib
import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path

import pytest
import yaml

from conftest import run_cli
from mesocare.handout import build_handout
from mesocare.lang.review import (
    ENGLISH_WORDS,
    FORMULAS,
    GLOSSARY_DIR,
    avoided,
    english_left,
    glossary,
    readability,
)
from mesocare.model import Clinic, Course, Request
from mesocare.render import render
from mesocare.resources import instructions_dir
from mesocare.rules import load_ruleset

RULES = load_ruleset([(instructions_dir(), "mesocare")])
TAGS = ["en-GB", "en-US", "fr-FR", "fr-CA", "es-ES", "es-MX", "it-IT", "pt-PT", "pt-BR", "de-DE"]
# a clinic name and phone that are words of no language (names are not translated)
CLINIC = Clinic(name="Zorvex", phone="020 7946 0000", timezone="Europe/London")
COURSE = Course(sessions=(date(2024, 6, 10), date(2024, 7, 10)), end=date(2024, 7, 10))

# Every variant a patient can get: each area, technique and prescription, with and without a
# course, timed and untimed, booked late, in metric and US units. Together they show every
# rule and note of ours (checked below).
VARIANTS = [
    {"areas": ("face",), "technique": "needle", "prescribed": ("medrol",), "course": COURSE},
    {"areas": ("neck",), "technique": "needleless", "prescribed": (), "booked": date(2024, 6, 8)},
    {
        "areas": ("body", "hands"),
        "technique": "needle",
        "prescribed": ("lasix",),
        "units": "us",
        "course": COURSE,
    },
    {"areas": ("scalp",), "technique": "microneedling", "prescribed": (), "at": None},
    {
        "areas": ("face", "neck"),
        "technique": "microneedling",
        "prescribed": ("medrol", "lasix"),
        "units": "us",
    },
    {
        "areas": ("hands",),
        "technique": "needleless",
        "prescribed": ("lasix",),
        "course": COURSE,
        "booked": date(2024, 6, 9),
    },
]


def _handout(tag: str, variant: dict):
    v = dict(variant)
    units = v.pop("units", "metric")
    at = v.pop("at", time(10, 0))
    booked = v.pop("booked", date(2024, 5, 20))
    request = Request(
        date=date(2024, 6, 10), time=at, name="Zoë Ångström", booked=booked, language=tag, **v
    )
    return build_handout(request, RULES, replace(CLINIC, units=units), date(2024, 5, 20))


def _strip_html(text: str) -> str:
    text = re.sub(r"(?is)<(style|script)\b.*?</\1>", " ", text)
    text = re.sub(r"(?s)<!--.*?-->", " ", text)
    return html_lib.unescape(re.sub(r"(?s)<[^>]+>", " ", text))


def _json_words(value, key: str = "") -> list[str]:
    """The strings of a JSON handout a person reads (not its keys, ids, codes or dates)."""
    if isinstance(value, dict):
        return [w for k, v in value.items() for w in _json_words(v, k)]
    if isinstance(value, list):
        return [w for v in value for w in _json_words(v, key)]
    if isinstance(value, str) and key in {
        "name",
        "text",
        "when",
        "title",
        "banner",
        "banners",
        "notes",
        "call",
        "footer",
        "note",
    }:
        return [value]
    return []


def _ics_words(text: str) -> str:
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    keep = [
        line.split(":", 1)[1]
        for line in unfolded.splitlines()
        if line.split(":", 1)[0].split(";")[0]
        in {"SUMMARY", "DESCRIPTION", "LOCATION", "X-WR-CALNAME", "X-WR-CALDESC"}
    ]
    return " ".join(keep).replace("\\n", " ").replace("\\,", ",").replace("\\;", ";")


def _email(h) -> str:
    from mesocare.mail import letters
    from mesocare.mail.messages import HANDOUT

    letter = letters.Letter(
        handout=h,
        kind=HANDOUT,
        to="ana@example.com",
        sender="desk@clinic.test",
        date=datetime(2024, 6, 1, 8, 0, tzinfo=UTC),
        message_id="<x@clinic.test>",
        language=h.language,
        attachments=(
            ("i.pdf", "application", "pdf", b"", ()),
            ("a.ics", "text", "calendar", b"", ()),
        ),
    )
    subject, text, html = letters.texts(letter)
    return " ".join((subject, text, _strip_html(html)))


@cache
def rendered(tag: str) -> tuple[tuple[str, str], ...]:
    """(where, text) of every variant in every format, with names of no language taken out."""
    out = []
    for i, variant in enumerate(VARIANTS):
        h = _handout(tag, variant)
        texts = {
            "text": render(h, "text"),
            "html": _strip_html(render(h, "html")),
            "json": "\n".join(_json_words(json.loads(render(h, "json")))),
            "ics": _ics_words(render(h, "ics")),
            "email": _email(h),
        }
        for fmt, text in texts.items():
            for private in (
                "Zorvex",
                "Zoë Ångström",
                "020 7946 0000",
                "mesocare",
                "Lasix",
                "Medrol",
            ):
                text = text.replace(private, " ")
            out.append(
                (
                    (
                        f"variant {i + 1} ({', '.join(variant['areas'])}, "
                        f"{variant['technique']}), {fmt}"
                    ),
                    text,
                )
            )
    return tuple(out)


def test_the_variants_show_every_rule_and_note_of_ours():
    shown = set()
    for variant in VARIANTS:
        h = _handout("en-GB", variant)
        shown |= {i.rule for i in h.items}
    ids = {r.id for r in RULES.rules}
    assert ids <= shown, f"no variant shows {sorted(ids - shown)}"


@pytest.mark.parametrize("tag", TAGS)
def test_no_avoided_term_in_any_variant_or_format(tag):
    found = sorted(
        {f"{where}: {hit}" for where, text in rendered(tag) for hit in avoided(text, tag)}
    )
    assert not found, f"{tag}: " + "\n".join(found)


@pytest.mark.parametrize("tag", [t for t in TAGS if not t.startswith("en")])
def test_no_english_left_in_any_variant_or_format(tag):
    found = sorted(
        {
            f"{where}: {', '.join(english_left(text))}"
            for where, text in rendered(tag)
            if english_left(text)
        }
    )
    assert not found, f"{tag}: " + "\n".join(found)


@pytest.mark.parametrize("tag", [t for t in TAGS if not t.startswith("en")])
def test_the_handout_prose_reads_at_the_language_s_plain_level(tag):
    """Each variant's prose (the rule and note texts and the banners, as printed), on the
    language's own formula, at its target for a whole text. Headings, date lines and the
    footer are left out: a list of dates is not prose, and would score as hard or as easy as
    its month names are long."""
    code = tag.split("-")[0]
    for i, variant in enumerate(VARIANTS):
        h = _handout(tag, variant)
        texts = [item.text for item in h.items] + [n.text for n in h.notes] + list(h.banners)
        prose = " ".join(texts)
        reading = readability(prose, code, whole=True)
        assert reading.ok, f"{tag} variant {i + 1}: {reading.score:.0f} on {reading.formula}"


@pytest.mark.parametrize("name", ["fr-CA", "es-MX", "pt-BR"])
def test_each_regional_text_of_ours_reads_at_the_language_s_plain_level(name):
    """Our regional files' texts, one by one, at the floor every single text must reach."""
    data = yaml.safe_load((instructions_dir() / "lang" / f"{name}.yaml").read_text("utf-8"))
    code = name.split("-")[0]
    hard = {}
    for kind in ("rules", "notes"):
        for item_id, value in (data.get(kind) or {}).items():
            text = value.get("text")
            for t in text.values() if isinstance(text, dict) else [text] if text else []:
                reading = readability(t, code)
                if not reading.ok:
                    hard[item_id] = round(reading.score)
    assert not hard, f"{name}: texts below the floor: {hard}"


# ----------------------------------------------------------------------------- the checks can fail
@pytest.mark.parametrize(
    "tag, text, term",
    [
        ("pt-BR", "Ligue-nos antes de tratar a zona.", "zona"),
        ("pt-BR", "Abra o ficheiro de calendário.", "ficheiro"),
        ("pt-PT", "Abra o arquivo do calendário.", "arquivo"),
        ("fr-CA", "Nous vous enverrons un e-mail avant le week-end.", "week-end"),
        ("es-MX", "No use la piscina ni la ducha.", "piscina"),
        ("it-IT", "Lo prenda come le ha detto il suo medico curante.", "medico curante"),
        ("en-US", "Drink 2.4 litres. Call us on 555 0100.", "Call us on"),
        ("de-DE", "Nehmen Sie Sonnencreme mit SPF 30.", "SPF"),
    ],
)
def test_the_glossary_check_finds_an_avoided_term(tag, text, term):
    assert term in [h.term for h in avoided(text, tag)]


def test_a_regional_word_is_fine_in_its_region():
    assert not avoided("Nous vous enverrons un courriel avant la fin de semaine.", "fr-CA")
    assert not avoided("Não tome duche.", "pt-PT")
    assert [h.term for h in avoided("Não tome duche.", "pt-BR")] == ["duche"]


def test_the_english_check_finds_english_and_spares_the_languages():
    assert english_left("Arrêtez the aspirine before your appointment.") == [
        "appointment",
        "before",
        "the",
        "your",
    ]
    # words that are English too but also words of these languages are not on the list
    for word in (
        "on",
        "do",
        "as",
        "no",
        "die",
        "a",
        "me",
        "son",
        "pan",
        "in",
        "sauna",
        "questions",
        "doctor",
    ):
        assert word not in ENGLISH_WORDS


def test_the_reading_check_fails_a_hard_text():
    hard = (
        "Die unverzügliche Unterbrechung sämtlicher entzündungshemmender "
        "Arzneimittelbehandlungen "
        "einschließlich nichtsteroidaler Antirheumatika ist unabdingbar erforderlich."
    )
    assert not readability(hard, "de").ok
    assert readability("Nehmen Sie kein Aspirin.", "de").ok


@pytest.mark.parametrize("code", sorted({t.split("-")[0] for t in TAGS}))
def test_every_language_ships_a_glossary_with_a_term_to_use_for_each_concept(code):
    files = sorted(GLOSSARY_DIR.glob(f"{code}*.yaml"))
    assert files
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["language"] == path.stem
        for concept, value in data["terms"].items():
            assert value["use"], (path.name, concept)
            assert set(value) <= {"use", "avoid", "why"}, (path.name, concept)
    if code != "en":
        assert FORMULAS[code]
        assert glossary(code)


# ----------------------------------------------------------------------------- a clinic's overlay
def _clinic(tmp_path: Path, lang_files: dict[str, str]) -> Path:
    folder = tmp_path / "clinic"
    (folder / "rules" / "lang").mkdir(parents=True)
    (folder / "mesocare.yaml").write_text(
        "name: Zorvex\nphone: 020 7946 0000\ntimezone: Europe/London\nlanguage: pt-BR\n"
        "languages: [pt-BR, fr-CA]\nrules_dir: rules\n",
        encoding="utf-8",
    )
    for name, text in lang_files.items():
        (folder / "rules" / "lang" / name).write_text(text, encoding="utf-8")
    return folder


def test_rules_check_runs_the_glossary_english_and_reading_checks_on_a_clinic_s_overlay(tmp_path):
    folder = _clinic(
        tmp_path,
        {
            "pt-BR.yaml": (
                "rules:\n"
                "  showers:\n"
                "    text: Não tome duche na zona tratada.\n"
                "notes:\n"
                "  return-to-work:\n"
                "    text: Please volte ao trabalho after the treatment.\n"
            ),
            "fr-CA.yaml": (
                "rules:\n"
                "  caffeine:\n"
                "    text: >-\n"
                "      Conformément aux recommandations institutionnelles précédemment\n"
                "      communiquées, l'administration concomitante de substances caféinées\n"
                "      demeure formellement déconseillée antérieurement à l'intervention\n"
                "      thérapeutique programmée.\n"
            ),
        },
    )
    result = run_cli("rules", "check", str(folder))
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert re.search(
        r"rules/lang/pt-BR\.yaml, line 3, field 'showers\.text': the pt-BR glossary avoids 'duche'",
        out,
    ), out
    assert "'zona': write 'área'" in out
    assert re.search(
        r"pt-BR\.yaml, line 6, field 'return-to-work\.text': "
        r"English left in the pt-BR text: after, please, the",
        out,
    ), out
    assert re.search(
        r"fr-CA\.yaml, line 3, field 'caffeine\.text': "
        r"the text scores -?\d+ on Flesch reading ease",
        out,
    ), out
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_rules_check_passes_a_clinic_s_good_overlay(tmp_path):
    folder = _clinic(
        tmp_path,
        {
            "pt-BR.yaml": (
                "rules:\n  showers:\n    text: Não tome banho de chuveiro na área tratada.\n"
            ),
            "fr-CA.yaml": "rules:\n  hot-tub-sauna:\n    text: N'allez pas dans un spa.\n",
        },
    )
    result = run_cli("rules", "check", str(folder))
    assert result.exit_code == 0, result.output
    assert "glossary" not in result.stdout
