"""Handouts in every language, as a patient gets them: PDF pages (looked at as pictures), calendar
files read by icalendar and vobject, batches that mix languages, and the cover sheet."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, time

import pytest

from mesocare.batch import build_batch
from mesocare.handout import build_handout
from mesocare.lang import LanguageError
from mesocare.model import Clinic, Course, Request, Schedule, ScheduleRow
from mesocare.render import render, render_batch
from mesocare.resources import instructions_dir
from mesocare.rules import load_ruleset

RULES = load_ruleset([(instructions_dir(), "mesocare")])
CLINIC = Clinic(name="Harbour Skin Clinic", phone="020 7946 0000", timezone="Europe/London")
TAGS = ["en-GB", "en-US", "fr-FR", "fr-CA", "es-ES", "es-MX", "it-IT", "pt-PT", "pt-BR", "de-DE"]
NO_PDFTOPPM = pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not on PATH"
)
# words each language's handout must show, with its accents (and French « » spacing below)
SAMPLES = {
    "fr-FR": [
        "Votre rendez-vous",
        "À partir du vendredi 31 mai 2024",
        "Arrêtez",
        "crème",
        "Page 1 sur",
    ],
    "fr-CA": ["10 h 00", "À partir du vendredi 31 mai 2024"],
    "es-ES": ["A partir del viernes, 31 de mayo de 2024", "Deje de tomar", "Página 1 de"],
    "es-MX": ["a.m.", "Su cita"],
    "it-IT": ["Da venerdì 31 maggio 2024", "Smetta di prendere", "Pagina 1 di"],
    "pt-PT": ["A partir de sexta-feira, 31 de maio de 2024", "Não tome duche", "Página 1 de"],
    "pt-BR": ["banho de chuveiro", "Até o fim de"],
    "de-DE": [
        "Ab Freitag, 31. Mai 2024",
        "Nahrungsergänzungsmittel",
        "entzündungshemmenden",
        "Seite 1 von",
    ],
    "en-US": ["Friday, May 31, 2024", "10:00\u202fAM"],
    "en-GB": ["From Friday 31 May 2024", "Page 1 of"],
}

PDF_SAMPLES = {
    "fr-FR": [
        "À partir du vendredi 31 mai 2024",
        "Arrêtez",
        "crème",
        "Page 1 sur 5",
        "Signature du patient",
    ],
    "es-ES": ["A partir del viernes, 31 de mayo de 2024", "Deje de tomar", "Página 1 de"],
    "it-IT": [
        "Da venerdì 31 maggio 2024",
        "Smetta di prendere",
        "Pagina 1 di",
        "Firma del paziente",
    ],
    "pt-BR": ["A partir de sexta-feira, 31 de maio de 2024", "banho de chuveiro", "Página 1 de"],
    "de-DE": [
        "Ab Freitag, 31. Mai 2024",
        "Nahrungsergänzungsmittel",
        "entzündungshemmenden",
        "Seite 1 von",
        "Unterschrift Patient/in",
    ],
    "en-US": ["From Friday, May 31, 2024", "Page 1 of"],
}


def handout(tag: str, **kw):
    request = Request(
        date=date(2024, 6, 10),
        time=time(10, 0),
        areas=("face", "neck"),
        prescribed=("medrol",),
        name="Zoë Ångström-Müller",
        booked=date(2024, 6, 3),
        language=tag,
        course=Course(sessions=(date(2024, 6, 10), date(2024, 7, 10)), end=date(2024, 7, 10)),
        **kw,
    )
    return build_handout(request, RULES, CLINIC, date(2024, 6, 3))


def flat(text: str) -> str:
    """Text without spaces or hyphens, to compare across line breaks and hyphenation."""
    return re.sub(r"[\s\-\u00ad\u2010\u200b]+", "", text)


@pytest.mark.parametrize("tag", TAGS)
def test_every_format_speaks_the_language(tag):
    h = handout(tag)
    assert h.language == tag
    text = render(h, "text")
    for word in SAMPLES[tag]:
        if word.startswith(("Page", "Página", "Pagina", "Seite")):
            continue
        assert word in text or word in render(h, "markdown"), (tag, word)
    html = render(h, "html")
    assert f'<html lang="{"en" if tag == "en-GB" else tag}">' in html
    import json

    data = json.loads(render(h, "json"))
    assert data["language"] == tag


def test_french_typography_in_every_format():
    h = handout("fr-FR")
    for fmt in ("text", "markdown", "html"):
        out = render(h, fmt)
        assert "Téléphone\u00a0:" in out, fmt
        assert not re.search(r"\w [:;!?](\s|$)", out.replace("\u00a0", "_")), (
            fmt
        )  # never a breaking space there


@NO_PDFTOPPM
@pytest.mark.parametrize("tag", ["fr-FR", "es-ES", "it-IT", "pt-BR", "de-DE", "en-US"])
def test_pdf_per_language_looked_at_as_a_picture(tag, tmp_path):
    import pypdf

    h = handout(tag)
    data = render(h, "pdf")
    source = tmp_path / f"{tag}.pdf"
    source.write_bytes(data)
    doc = pypdf.PdfReader(source)
    assert doc.trailer["/Root"]["/Lang"] == tag  # the PDF's language is the handout's
    text = "\n".join(p.extract_text() for p in doc.pages)
    for word in PDF_SAMPLES[tag]:
        assert flat(word) in flat(text), (tag, word)
    for item in h.items:  # every instruction is there in full, nothing cut off
        assert flat(item.text) in flat(text), (tag, item.rule)
    # every word inside the page, by poppler's own bounding boxes
    html = tmp_path / "boxes.html"
    subprocess.run(["pdftotext", "-bbox", str(source), str(html)], check=True)
    boxes = html.read_text(encoding="utf-8")
    pages = re.findall(r'<page width="([\d.]+)" height="([\d.]+)">', boxes)
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">', boxes
    )
    width, height = float(pages[0][0]), float(pages[0][1])
    assert words and all(float(x1) >= 20 and float(x2) <= width - 20 for x1, _, x2, _ in words)
    assert all(float(y2) <= height - 5 for _, _, _, y2 in words)
    # the first page as a picture (kept in tmp_path; looked at by hand when this was written)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "50",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(source),
            str(tmp_path / "page1"),
        ],
        check=True,
    )
    assert (tmp_path / "page1.png").read_bytes().startswith(b"\x89PNG")


@NO_PDFTOPPM
@pytest.mark.parametrize("tag", ["de-DE", "fr-FR", "pt-BR"])
def test_running_text_is_never_hyphenated_only_the_date_column(tag, tmp_path):
    """Words of running text stay whole at a line's end (plain-language guidance); only the
    timeline's narrow first column breaks a long word, in the handout's language. Large print,
    where lines are shortest."""
    from dataclasses import replace

    request = Request(
        date=date(2024, 6, 10),
        time=time(10, 30),
        areas=("face", "scalp"),
        name="Maria",
        booked=date(2024, 6, 1),
        language=tag,
    )
    h = build_handout(request, RULES, replace(CLINIC, large_print=True), date(2024, 6, 1))
    source = tmp_path / "large.pdf"
    source.write_bytes(render(h, "pdf"))
    boxes = tmp_path / "boxes.html"
    subprocess.run(["pdftotext", "-bbox", str(source), str(boxes)], check=True)
    found = re.findall(
        r'<page width="([\d.]+)"|<word xMin="([\d.]+)" yMin="[\d.]+" xMax="[\d.]+" '
        r'yMax="[\d.]+">([^<]*)<',
        boxes.read_text(encoding="utf-8"),
    )
    width = float(next(w for w, _, _ in found if w))
    margin = 18 / 25.4 * 72
    column = margin + 0.4 * (
        width - 2 * margin
    )  # the timeline's first column: 40% of the text width
    written = " ".join(
        [i.text for i in h.items] + [n.text for n in h.notes] + [i.when for i in h.items]
    )
    # a word broken by Typst ends in a soft hyphen (a hard one: a hyphen the text has there)
    broken = [
        (float(x), word)
        for _, x, word in found
        if word.endswith(("\u00ad", "-", "\u2010"))
        and len(word) > 2
        and word[:-1] + "-" not in written
    ]
    assert all(x < column for x, _ in broken), broken  # no word of running text is split
    shown = [word for _, _, word in found if word]
    for item in h.items:
        for word in re.findall(
            r"\w{12,}", item.text
        ):  # the long words of each step, whole on a line
            assert any(word in box for box in shown), word
    if tag == "de-DE":
        assert (
            broken
        )  # German dates in large print need the break ("vor Ihrem Ter-min um 10:30 Uhr")


def test_french_guillemets_in_the_pdf(tmp_path):
    """« » keep their inner no-break spaces through Typst (a clinic text may quote a product)."""
    import textwrap

    import pypdf

    folder = tmp_path / "rules"
    (folder / "lang").mkdir(parents=True)
    (folder / "clinic.yaml").write_text(
        textwrap.dedent("""\
        rules:
          - id: cream-brand
            name: the cream
            phase: after
            window: {after: 2d}
            text: Use the "Calm" cream.
            reason: Clinic protocol.
            source: clinic protocol
            basis: clinic-policy
    """),
        encoding="utf-8",
    )
    (folder / "lang" / "fr.yaml").write_text(
        "rules:\n  cream-brand: {name: la crème, text: Mettez la crème «Calme».,"
        " reason: Protocole de la clinique.}\n",
        encoding="utf-8",
    )
    ruleset = load_ruleset([(instructions_dir(), "mesocare"), (folder, "clinic")], use_cache=False)
    clinic = Clinic(name="Clinique", timezone="Europe/Paris", rules_dir=str(folder))
    h = build_handout(
        Request(date=date(2024, 6, 10), areas=("face",), language="fr"),
        ruleset,
        clinic,
        date(2024, 6, 1),
    )
    assert "Mettez la crème «\u00a0Calme\u00a0»." in render(h, "text")
    text = "".join(
        p.extract_text() for p in pypdf.PdfReader(__import__("io").BytesIO(render(h, "pdf"))).pages
    )
    assert "«" in text and "Calme" in text and "»" in text


@pytest.mark.parametrize("tag", ["fr-FR", "es-MX", "it-IT", "pt-PT", "de-DE", "en-US"])
def test_calendar_files_per_language_import_in_icalendar_and_vobject(tag):
    import icalendar
    import vobject

    h = handout(tag)
    data = render(h, "ics")
    cal = icalendar.Calendar.from_ical(data)
    events = list(cal.walk("VEVENT"))
    summaries = [str(e["SUMMARY"]) for e in events]
    texts = {i.text for i in h.items}
    assert any(s in texts for s in summaries)  # the instructions, in the handout's language
    parsed = vobject.readOne(data)
    v_summaries = [e.summary.value for e in parsed.vevent_list]
    assert v_summaries == summaries
    appointment = {
        "fr-FR": "Rendez-vous de mésothérapie chez Harbour Skin Clinic",
        "es-MX": "Cita de mesoterapia en Harbour Skin Clinic",
        "it-IT": "Appuntamento di mesoterapia presso Harbour Skin Clinic",
        "pt-PT": "Consulta de mesoterapia em Harbour Skin Clinic",
        "de-DE": "Mesotherapie-Termin bei Harbour Skin Clinic",
        "en-US": "Mesotherapy appointment at Harbour Skin Clinic",
    }[tag]
    assert summaries[0] == appointment
    descriptions = "\n".join(e.description.value for e in parsed.vevent_list)
    assert h.items[0].when in descriptions


def schedule(*langs):
    rows = tuple(
        ScheduleRow(
            f"row {n + 2}",
            Request(
                date=date(2024, 6, 10),
                time=time(9 + n, 0),
                areas=("face",),
                name=f"Patient {n}",
                language=lang,
            ),
        )
        for n, lang in enumerate(langs)
    )
    return Schedule(rows=rows, has_booking_dates=False)


def test_a_batch_mixes_languages_and_the_cover_lists_them():
    batch = build_batch(schedule("fr", None, "es-MX", "de"), RULES, CLINIC, date(2024, 6, 1))
    assert [h.language for h in batch.handouts] == ["fr-FR", "en-GB", "es-MX", "de-DE"]
    text = render_batch(batch, "text")
    cover = text.split("\f")[0]
    assert (
        "French (France)" in cover and "Spanish (Mexico)" in cover and "German (Germany)" in cover
    )
    assert "English (United Kingdom)" in cover
    assert "CALL BEFORE THE APPOINTMENT" in cover  # the cover is in the clinic's language
    assert (
        "AVANT VOTRE RENDEZ-VOUS" in text
        and "ANTES DE SU CITA" in text
        and "VOR IHREM TERMIN" in text
    )
    html = render_batch(batch, "html")
    assert '<section class="handout" lang="fr-FR">' in html and '<html lang="en">' in html


def test_a_french_clinic_cover_sheet_is_in_french():
    clinic = Clinic(name="Clinique du Port", timezone="Europe/Paris", language="fr-FR")
    batch = build_batch(schedule(None, "en"), RULES, clinic, date(2024, 6, 1))
    cover = render_batch(batch, "text").split("\f")[0]
    assert "À APPELER AVANT LE RENDEZ-VOUS" in cover and "anglais (Royaume-Uni)" in cover
    assert [h.language for h in batch.handouts] == ["fr-FR", "en-GB"]


def test_an_unknown_language_skips_the_row_and_names_it():
    batch = build_batch(schedule("fr", "klingon", "xx-YY"), RULES, CLINIC, date(2024, 6, 1))
    assert len(batch.handouts) == 1
    problems = [(p.position, p.field) for p in batch.errors]
    assert problems == [("row 3", "language"), ("row 4", "language")]
    assert all("klingon" not in str(p) or "language" in str(p) for p in batch.errors)


def test_one_handout_in_an_unknown_language_is_an_error():
    with pytest.raises(LanguageError):
        handout("tlh")


@NO_PDFTOPPM
def test_a_mixed_batch_pdf_sets_each_handouts_language(tmp_path):
    import pypdf

    batch = build_batch(schedule("fr", "de"), RULES, CLINIC, date(2024, 6, 1))
    data = render_batch(batch, "pdf")
    doc = pypdf.PdfReader(__import__("io").BytesIO(data))
    assert doc.trailer["/Root"]["/Lang"] == "en-GB"  # the document: the cover sheet's language
    text = "\n".join(p.extract_text() for p in doc.pages)
    assert "Cover sheet, page 1 of" in text and "Page 1 sur" in text and "Seite 1 von" in text
    assert "French (France)" in text and "German (Germany)" in text


def test_the_cover_sheet_names_late_steps_in_its_own_language():
    rows = (
        ScheduleRow(
            "row 2",
            Request(
                date=date(2024, 6, 10),
                time=time(9, 0),
                areas=("face",),
                name="Hans",
                booked=date(2024, 6, 3),
                language="de",
            ),
        ),
    )
    clinic = Clinic(name="Clinique du Port", timezone="Europe/Paris", language="fr")
    batch = build_batch(
        Schedule(rows=rows, has_booking_dates=True), RULES, clinic, date(2024, 6, 1)
    )
    cover = render_batch(batch, "text").split("\f")[0]
    assert "l'écorce de saule (à partir du vendredi 31 mai 2024)" in " ".join(cover.split())
    assert "Weidenrinde" not in cover  # the German name is on Hans's own handout only
    assert "Weidenrinde (ab Freitag, 31. Mai 2024)" in " ".join(
        render_batch(batch, "text").split("\f")[1].split()
    )
