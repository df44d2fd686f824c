"""A handout's language is decided once, where the handout is built (the patient's, else the
clinic's), and a batch's cover-sheet language once, where the batch is built (the clinic's).
The decided Language travels on ``Handout.lang`` and ``Batch.lang``: every format, the mail, the
calendar and the clinic's records speak it, and none looks a tag up again."""

from __future__ import annotations

import dataclasses
import pickle
import re
import subprocess
import sys
from datetime import date, time
from pathlib import Path

import pytest

from mesocare import lang
from mesocare.batch import build_batch
from mesocare.handout import build_handout
from mesocare.lang.tags import LANGUAGES, SHIPPED_REGIONS
from mesocare.model import Clinic, Request, Schedule, ScheduleRow
from mesocare.render import render, render_batch

ROOT = Path(__file__).resolve().parent.parent
TAGS = sorted({*(f"{c}-{r}" for c, r in LANGUAGES.items()), *SHIPPED_REGIONS})
DAY = date(2024, 6, 10)
TODAY = date(2024, 6, 1)


def _used(language: lang.Language) -> lang.Language:
    """The language after a handout was written in it: CLDR loaded, catalog read, days memoised."""
    language.day(DAY), language.clock(time(10, 30)), language.gettext("What to expect")
    if not language.is_default:
        language.locale  # noqa: B018 - loads Babel's locale data
    return language


@pytest.mark.parametrize("tag", TAGS)
def test_a_language_pickles_as_its_tag_and_comes_back_as_the_process_one(tag):
    language = _used(lang.get(tag))
    data = pickle.dumps(language, protocol=pickle.HIGHEST_PROTOCOL)
    assert len(data) < 120, "no CLDR data, catalog or memoised days in the pickle"
    assert b"babel" not in data.lower()
    assert pickle.loads(data) is language


def test_a_language_unpickled_in_another_process_is_that_process_own(tmp_path):
    """Handouts cross to worker processes (mesocare.workers): there the tag is looked up again."""
    data = pickle.dumps([lang.get("fr-CA"), lang.get("fr-CA"), lang.get("pt-BR")])
    code = (
        "import pickle, sys\n"
        "from datetime import date\n"
        "from mesocare import lang\n"
        "a, b, c = pickle.loads(sys.stdin.buffer.read())\n"
        "print(a.tag, c.tag, a is b is lang.get('fr_ca'), c.day(date(2024, 6, 10)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, check=True)
    assert out.stdout.decode().split(" ", 3) == [
        "fr-CA",
        "pt-BR",
        "True",
        "segunda-feira, 10 de junho de 2024\n",
    ]


def test_a_handout_carries_the_language_decided_where_it_was_built(ruleset):
    clinic = Clinic(timezone="America/Toronto", language="fr-CA")
    patient = build_handout(
        Request(date=DAY, areas=("face",), language="pt_br"), ruleset, clinic, TODAY
    )
    assert patient.lang is lang.get("pt-BR") and patient.language == "pt-BR"
    default = build_handout(Request(date=DAY, areas=("face",)), ruleset, clinic, TODAY)
    assert default.lang is lang.get("fr-CA") and default.language == "fr-CA"
    late = build_handout(
        Request(date=DAY, areas=("face",), language="de", booked=DAY), ruleset, clinic, TODAY
    )
    assert late.lang is lang.get("de") and late.late_items, "booked() keeps the decided language"
    assert lang.get("de").day(DAY) in late.banner_parts[0].lead  # "Sie haben am ... gebucht"


def test_a_handout_pickles_without_its_language_data(ruleset):
    h = build_handout(
        Request(date=DAY, time=time(10, 0), areas=("face",), language="fr"),
        ruleset,
        Clinic(timezone="Europe/Paris"),
        TODAY,
    )
    _used(h.lang)
    data = pickle.dumps(h, protocol=pickle.HIGHEST_PROTOCOL)
    assert (
        b"babel" not in data.lower()
        and pickle.loads(data) == h
        and pickle.loads(data).lang is h.lang
    )


def test_a_batch_carries_its_cover_sheet_language_and_each_handout_its_own(ruleset):
    clinic = Clinic(timezone="Europe/Paris", language="fr")
    rows = tuple(
        ScheduleRow(f"row {n}", Request(date=DAY, time=time(9 + n), areas=("face",), language=tag))
        for n, tag in enumerate(["de", None, "es-MX"], start=2)
    )
    batch = build_batch(Schedule(rows), ruleset, clinic, TODAY)
    assert batch.lang is lang.get("fr-FR")
    assert [h.lang for h in batch.handouts] == [lang.get("de"), lang.get("fr"), lang.get("es-MX")]
    made = dataclasses.replace(batch, lang=None)  # a Batch made without one: the clinic's
    assert made.lang is lang.get("fr")


# --------------------------------------------------------------------------------- every format
HANDOUT_FORMATS = ["text", "markdown", "html", "ics", "pdf-source", "json", "fhir", "hl7"]


def _output(h, fmt: str) -> str:
    if fmt == "pdf-source":
        from mesocare.render import typst_doc

        return typst_doc.typst_source([h], h.clinic)
    out = render(h, fmt)
    return out.decode("utf-8", "replace") if isinstance(out, bytes) else out


@pytest.mark.parametrize("fmt", HANDOUT_FORMATS)
def test_every_format_speaks_the_language_the_handout_carries(ruleset, fmt):
    """A handout built in English, then given German: every format writes German, so none of
    them reads a language from anywhere but ``h.lang`` (the clinic's here is en-GB)."""
    english = build_handout(
        Request(date=DAY, areas=("face",), patient_id="P-1", appointment_id="A-1"),
        ruleset,
        Clinic(timezone="Europe/London"),
        TODAY,
    )
    text = _output(dataclasses.replace(english, lang=lang.get("de")), fmt)
    if fmt in ("json", "fhir"):  # JSON and the FHIR records carry the tag
        assert "de-DE" in text and "en-GB" not in text
        return
    # the appointment's day, written out in German (an iCalendar line folded at 75 octets is
    # unfolded first; the steps' dates were written when the handout was built, in English)
    assert "10. Juni 2024" in re.sub(r"\r?\n[ \t]", "", text)


BATCH_FORMATS = ["text", "markdown", "html", "ics", "pdf-source"]


@pytest.mark.parametrize("fmt", BATCH_FORMATS)
def test_every_cover_sheet_speaks_the_language_the_batch_carries(ruleset, fmt):
    """An English clinic's batch given French as its cover-sheet language: the cover sheet (and
    the clinic's calendar) is French; no format looks the clinic's language up again."""
    clinic = Clinic(timezone="Europe/London", phone="020 7946 0000")
    rows = (ScheduleRow("row 2", Request(date=DAY, time=time(10, 0), areas=("face",), name="Ana")),)
    batch = dataclasses.replace(
        build_batch(Schedule(rows), ruleset, clinic, TODAY, DAY), lang=lang.get("fr")
    )
    french = lang.get("fr")
    if fmt == "pdf-source":
        from mesocare.render import typst_doc

        text = typst_doc.typst_source(batch.handouts, clinic, batch=batch)
        assert f'"{french.gettext("Cover sheet for the nurse")}"' in text
        assert 'lang: "fr"' in text
        return
    text = render_batch(batch, fmt)
    text = text.decode("utf-8") if isinstance(text, bytes) else text
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    if fmt == "ics":  # the clinic's calendar is named in its language
        assert (
            f"X-WR-CALNAME:{french._('Mesotherapy care plans for %(day)s', day=french.day(DAY))}"
            in unfolded
        )
    else:
        assert french._("Appointments on %(day)s", day=french.day(DAY)) in unfolded


# --------------------------------------------------------------------------------- one place
# Where a tag (a string) may still become a Language: reading it, or the one decision.
ALLOWED = {
    "mesocare/lang/__init__.py": "get(), and the two decisions: handout_language, clinic_language",
    "mesocare/lang/language.py": "unpickling: the tag looked up again in this process",
    "mesocare/lang/localize.py": "a translation file named by its tag; rules check per listed tag",
    "mesocare/lang/tags.py": "the one tag parser",
    "mesocare/config/clinic.py": "the config's language: read and checked once",
    "mesocare/cli/context.py": "--lang: read and checked once",
    "mesocare/cli/rules.py": "rules check: every language the config lists",
    "mesocare/model.py": "a Handout made without a language: en-GB, as before",
    "mesocare/words.py": "the en-GB helpers for code with no handout at hand",
    "mesocare/render/templating.py": "a template rendered with no language: en-GB",
}
LOOKUP = re.compile(
    r"\b(?:languages|lang)\.get\(|(?<![\w.])get\((?:None|[\w.]*language)\)|\bclinic\.language\b"
)


def test_no_module_works_the_language_out_again_from_a_tag():
    found = []
    for path in sorted((ROOT / "mesocare").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name in ALLOWED:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if LOOKUP.search(line):
                found.append(f"{name}:{n}: {line.strip()}")
    assert not found, "use h.lang, batch.lang or lang.clinic_language(clinic):\n" + "\n".join(found)


def test_the_lookup_pattern_finds_what_it_is_meant_to_find():
    for line in (
        "languages.get(h.language)",
        "lang.get(clinic.language).tag",
        "x = get(None)",
        "doc = get(batch.clinic.language)",
        "if clinic.language != 'en-GB':",
    ):
        assert LOOKUP.search(line), line
    for line in (
        "h.lang.day(d)",
        "batch.lang",
        "names.get(i.rule, i.name)",
        "record.get('by', '')",
    ):
        assert not LOOKUP.search(line), line


def test_ui_holds_only_the_shared_sentences():
    ui = (ROOT / "mesocare/lang/ui.py").read_text(encoding="utf-8")
    assert len(ui.splitlines()) < 400
    for name in (
        "PDF_WORDS",
        "ICS_WORDS",
        "pdf_handout_words",
        "pdf_cover_words",
        "plan_lines",
        "cover_title",
    ):
        assert name not in ui, name
