"""PDF handouts (mesocare.render.pdf): content, layout, escaping, fonts, batches, determinism.

Most checks read the PDF back with pypdf. A fixed handout (built here, not from the rule files)
gives golden text that does not move when rule wording changes; handouts from our rule set check
that every item and note is printed, in order.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import shutil
import subprocess
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from mesocare import words
from mesocare.errors import InputError, TemplateError
from mesocare.handout import build_handout
from mesocare.model import Batch, Clinic, Course, Handout, Item, Note, Request, RowProblem
from mesocare.render import pdf, typst_doc, typst_values

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("typst")

TZ = ZoneInfo("Europe/London")
A4 = (595.28, 841.89)
LETTER = (612.0, 792.0)
HOSTILE = [
    "#set page(width: 1cm)",
    "$x$",
    "*bold*",
    "<b>Ana</b>",
    "\\",
    "@ref",
    "// comment",
    "]",
    '"',
    '") #set page(width: 1cm) #("',
    "#{{ 1 }} {% raw %} #(1+1) ] [ } {",
    "_a_ `raw` ~ -- --- ... 'q' = Head\n- list\n+ enum\n/ term: x",
    'Ana\\u{41} \\n " \\" #sys.inputs <label> @ana_silva https://x.org',
]


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def reader(data: bytes):
    assert data.startswith(b"%PDF-")
    return pypdf.PdfReader(io.BytesIO(data))


def flat(text: str) -> str:
    return " ".join(text.split())


def pages_text(data: bytes) -> list[str]:
    return [flat(page.extract_text()) for page in reader(data).pages]


def all_text(data: bytes) -> str:
    return " ".join(pages_text(data))


def page_size(page) -> tuple[float, float]:
    box = page.mediabox
    return (round(float(box.width), 2), round(float(box.height), 2))


def in_order(text: str, parts: list[str]) -> None:
    """Every part appears in text, each after the one before."""
    at = 0
    for part in parts:
        found = text.find(flat(part), at)
        assert found >= 0, f"{part!r} missing (or out of order) after position {at}"
        at = found + len(flat(part))


def runs(data: bytes) -> list[tuple[int, int, int]]:
    """(page index, N, M) for every page whose footer says "page N of M"."""
    out = []
    for index, text in enumerate(pages_text(data)):
        found = re.findall(r"[Pp]age (\d+) of (\d+)", text)
        if found:
            out.append((index, int(found[-1][0]), int(found[-1][1])))
    return out


def embedded_fonts(data: bytes) -> set[str]:
    names = set()
    for page in reader(data).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            names.add(str(ref.get_object()["/BaseFont"]).split("+")[-1])
        for xobject in page.get("/Resources", {}).get("/XObject", {}).values():
            inner = xobject.get_object().get("/Resources", {}).get("/Font", {})
            for ref in inner.values():
                names.add(str(ref.get_object()["/BaseFont"]).split("+")[-1])
    return names


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def fixed_item(rule, phase, when, text, start, end=None, late=False, origin="mesocare"):
    return Item(
        rule=rule,
        name=rule.replace("-", " "),
        phase=phase,
        start=start,
        end=end,
        status="upcoming",
        late=late,
        text=text,
        when=when,
        reason="",
        source="",
        basis="",
        prescription=False,
        origin=origin,
    )


CLINIC = Clinic(name="Harbour Skin Clinic", phone="020 7946 0000", timezone="Europe/London")


def fixed_handout(**changes) -> Handout:
    """A handout with fixed words (independent of the rule files), for golden checks."""
    items = (
        fixed_item(
            "ginkgo-biloba",
            "before",
            "From Friday 31 May 2024",
            "Stop taking ginkgo biloba supplements.",
            at(2024, 5, 31),
            at(2024, 6, 10, 10),
            late=True,
        ),
        fixed_item(
            "aspirin",
            "before",
            "From Wednesday 5 June 2024",
            "Stop taking aspirin. If a doctor told you to take aspirin, do not stop. "
            "Ask that doctor first.",
            at(2024, 6, 5),
            at(2024, 6, 10, 10),
        ),
        fixed_item(
            "protein-meal",
            "day",
            "On Monday 10 June 2024, before your appointment at 10:00",
            "Eat a light meal that is high in protein.",
            at(2024, 6, 10),
            at(2024, 6, 10, 10),
        ),
        fixed_item(
            "no-sunbathing",
            "after",
            "Until 10:30 on Wednesday 12 June 2024",
            "Do not sunbathe, not even for a short time.",
            at(2024, 6, 10, 10, 30),
            at(2024, 6, 12, 10, 30),
            origin="clinic",
        ),
        fixed_item(
            "spf30",
            "after",
            "From 10:30 on Wednesday 12 June 2024 until the end of Monday 24 June 2024",
            "Use sunscreen with SPF 30 or higher whenever you are in the sun.",
            at(2024, 6, 12, 10, 30),
            at(2024, 6, 25),
        ),
    )
    notes = (
        Note("expect-session", "expect", "A session takes about 30 minutes.", ""),
        Note(
            "return-to-work", "after", "You can go back to work straight after your treatment.", ""
        ),
        Note("talk-pregnancy", "talk-first", "You are pregnant or breastfeeding.", ""),
        Note(
            "call-allergy",
            "call-us",
            "You think you are having an allergic reaction.",
            "",
            origin="clinic",
        ),
        Note(
            "caution",
            "caution",
            "Never stop a medicine that a doctor prescribed for you without asking that doctor "
            "first.",
            "",
        ),
    )
    fields = dict(
        clinic=CLINIC,
        patient_name="Ana Silva",
        patient_id=None,
        start=at(2024, 6, 10, 10),
        end=at(2024, 6, 10, 10, 30),
        timed=True,
        areas=("face",),
        technique="needle",
        prescribed=(),
        course=Course(),
        items=items,
        notes=notes,
        banners=(
            "You booked on Monday 3 June 2024, 7 days before your appointment. "
            "Call us on 020 7946 0000.",
        ),
        warnings=(),
        today=date(2024, 6, 1),
        booked=date(2024, 6, 3),
        rules_version="0123456789ab" + "f" * 52,
        reviewed_on=date(2024, 5, 1),
    )
    fields.update(changes)
    return Handout(**fields)


HEAD = (
    "Harbour Skin Clinic Phone: 020 7946 0000 Your mesotherapy care instructions Ana Silva "
    "Date Monday 10 June 2024 Time 10:00 Area face Treatment needle mesotherapy "
    "Please read this first You booked on Monday 3 June 2024, 7 days before your appointment. "
    "Call us on 020 7946 0000. "
    "Before your appointment When What to do "
    "From Friday 31 May 2024 Stop taking ginkgo biloba supplements. started before you booked "
    "From Wednesday 5 June 2024 Stop taking aspirin. If a doctor told you to take aspirin, "
    "do not stop. "
    "Ask that doctor first. "
    "On the day When What to do "
    "On Monday 10 June 2024, before your appointment at 10:00 Eat a light meal that is high in "
    "protein. "
    "After your appointment When What to do "
    "Until 10:30 on Wednesday 12 June 2024 Do not sunbathe, not even for a short time. clinic rule "
    "From 10:30 on Wednesday 12 June 2024 until the end of Monday 24 June 2024 "
    "Use sunscreen with SPF 30 or higher whenever you are in the sun."
)
AFTER_NOTE = "• You can go back to work straight after your treatment."
CALENDAR = (
    "Your plan on a calendar May 2024 Mon Tue Wed Thu Fri Sat Sun 27 28 29 30 31 A "
    "June 2024 Mon Tue Wed Thu Fri Sat Sun 1 2 A 3 4 5 6 7 8 9 A B 10 11 12 13 14 15 16 A B C D "
    "17 18 19 20 21 22 23 D 24 25 26 27 28 29 30 D "
    "The letters match the list below the calendar; the tables above give every step in words. "
    "Before your appointment A ginkgo biloba B aspirin After your appointment C no sunbathing D "
    "spf30 "
    "Your appointment: Monday 10 June 2024 Today: Saturday 1 June 2024"
)
EXPECT = (
    "What to expect • A session takes about 30 minutes. "
    "Talk to us first if • You are pregnant or breastfeeding."
)
CALL = (
    "Call us if • You think you are having an allergic reaction. "
    "clinic rule Call us on 020 7946 0000."
)
TAIL = (
    "Never stop a medicine that a doctor prescribed for you without asking that doctor first. "
    "I have read these instructions. Patient signature Date "
    "Made on Saturday 1 June 2024. Rule set 0123456789ab, dated Wednesday 1 May 2024; "
    "not yet reviewed by a clinician."
)
FOOT = "Ana Silva Page {n} of 3 Monday 10 June 2024 · Rule set 0123456789ab"
GOLDEN = {  # paper -> the text of each page
    "A4": [
        f"{HEAD} {AFTER_NOTE} {FOOT.format(n=1)}",
        f"{CALENDAR} {EXPECT} {CALL} {FOOT.format(n=2)}",
        f"{TAIL} {FOOT.format(n=3)}",
    ],
    "Letter": [
        f"{HEAD} {AFTER_NOTE} {FOOT.format(n=1)}",
        f"{CALENDAR} {EXPECT} {FOOT.format(n=2)}",
        f"{CALL} {TAIL} {FOOT.format(n=3)}",
    ],
}


@pytest.fixture(scope="module")
def sample(ruleset):
    """A handout from our rule set: face, 10:00, booked late, Medrol prescribed."""
    request = Request(
        date=date(2024, 6, 10),
        time=time(10, 0),
        areas=("face",),
        name="Ana Silva",
        booked=date(2024, 6, 3),
        prescribed=("medrol",),
    )
    return build_handout(request, ruleset, CLINIC, today=date(2024, 6, 1))


@pytest.fixture(scope="module")
def sample_pdf(sample):
    return pdf.render(sample)


def handouts_for_batch(ruleset, count, booked=date(2024, 6, 1)):
    areas = [("face",), ("neck", "hands"), ("body",), ("scalp",), ("hands",)]
    out = []
    for n in range(count):
        request = Request(
            date=date(2024, 6, 10),
            time=None if n == 1 else time(9 + n % 8, 15),
            areas=areas[n % len(areas)],
            name=None if n == 2 else f"Patient {n}",
            patient_id=f"P-{n}",
            booked=booked if n % 2 == 0 else None,
        )
        out.append(build_handout(request, ruleset, CLINIC, today=date(2024, 6, 1)))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# one handout
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("paper", "size"), [("A4", A4), ("Letter", LETTER)])
def test_golden_text_and_pages(paper, size):
    data = pdf.render(fixed_handout(clinic=dataclasses.replace(CLINIC, paper=paper)))
    doc = reader(data)
    assert [page_size(p) for p in doc.pages] == [size] * len(GOLDEN[paper])
    assert pages_text(data) == GOLDEN[paper]


def test_paper_option_overrides_the_clinic():
    data = pdf.render(fixed_handout(clinic=dataclasses.replace(CLINIC, paper="Letter")), paper="a4")
    assert page_size(reader(data).pages[0]) == A4
    with pytest.raises(InputError, match="paper 'B5' is not known"):
        pdf.render(fixed_handout(), paper="B5")


def test_everything_is_printed_in_order(sample, sample_pdf):
    text = all_text(sample_pdf)
    parts = [
        "Harbour Skin Clinic",
        "020 7946 0000",
        "Ana Silva",
        "Monday 10 June 2024",
        "10:00",
        "face",
    ]
    parts += [flat(p) for b in sample.shown_banners for p in (b.lead, *b.steps, b.closing) if p]
    for phase, title in (
        ("before", "Before your appointment"),
        ("day", "On the day"),
        ("after", "After your appointment"),
    ):
        parts.append(title)
        for i in sample.phase(phase):
            parts += [i.when, i.text]
    parts += [n.text for n in sample.section("after")]
    for section, title in (
        ("expect", "What to expect"),
        ("talk-first", "Talk to us first if"),
        ("call-us", "Call us if"),
    ):
        parts.append(title)
        parts += [n.text for n in sample.section(section)]
    parts.append("Call us on 020 7946 0000.")
    parts += [n.text for n in sample.section("caution")]
    parts += ["I have read these instructions.", "Patient signature", "Date"]
    parts += [f"Made on {words.day(sample.today)}", f"Rule set {sample.rules_version[:12]}"]
    parts += [f"dated {words.day(sample.reviewed_on)}", "not yet reviewed by a clinician"]
    in_order(text, parts)
    steps = text[text.index("Before your appointment") :]
    assert steps.count("started before you booked") == len(sample.late_items) > 0
    assert "clinic rule" not in text


def test_running_footer_counts_the_pages_of_the_handout(sample, sample_pdf):
    texts = pages_text(sample_pdf)
    assert len(texts) >= 2
    assert runs(sample_pdf) == [(i, i + 1, len(texts)) for i in range(len(texts))]
    for text in texts:
        assert f"Rule set {sample.rules_version[:12]}" in text
        assert "Ana Silva" in text


def test_untimed_appointment_without_phone_or_name():
    clinic = dataclasses.replace(CLINIC, phone=None)
    h = fixed_handout(
        clinic=clinic, timed=False, patient_name=None, start=at(2024, 6, 10), end=at(2024, 6, 11)
    )
    text = all_text(pdf.render(h))
    assert "Time" not in text.split("Treatment")[0]
    assert "Date Monday 10 June 2024 Area face" in text
    assert "Name:" in text
    assert "Phone" not in text
    assert "Call the clinic." in text


def test_patient_id_stands_in_for_a_missing_name():
    text = all_text(pdf.render(fixed_handout(patient_name=None, patient_id="P-1042")))
    assert "Patient P-1042" in text


def test_past_and_late_banners_are_both_shown(ruleset):
    request = Request(
        date=date(2024, 6, 10),
        time=time(10, 0),
        areas=("face",),
        name="Ana",
        booked=date(2024, 6, 8),
    )
    h = build_handout(request, ruleset, CLINIC, today=date(2024, 6, 12))
    assert len(h.banners) == 2
    text = all_text(pdf.render(h))
    late, past = h.shown_banners
    # the late banner: a short lead, then one line per step, then what to do (issue 22)
    in_order(
        text,
        [
            "Please read this first",
            late.lead,
            *late.steps,
            late.closing,
            past.lead,
            "Before your appointment",
        ],
    )
    assert len(late.steps) >= 2


# ---------------------------------------------------------------------------------------------
# escaping
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_is_printed_as_typed(hostile):
    item = dataclasses.replace(fixed_handout().items[0], text=f"Stop {hostile} now.")
    h = fixed_handout(
        patient_name=f"Ana {hostile}",
        clinic=dataclasses.replace(CLINIC, name=f"Clinic {hostile}", phone=f"020 {hostile}"),
        items=(item, *fixed_handout().items[1:]),
    )
    data = pdf.render(h)
    doc = reader(data)
    assert all(page_size(p) == A4 for p in doc.pages)  # "#set page(width: 1cm)" did nothing
    text = "".join(all_text(data).split())  # a long line may wrap anywhere
    for shown in (f"Ana {hostile}", f"Clinic {hostile}", f"Stop {hostile} now.", f"020 {hostile}"):
        assert "".join(shown.split()) in text
    assert "Beforeyourappointment" in text and "Ihavereadtheseinstructions." in text


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_values_reach_typst_only_as_string_literals(hostile):
    source = typst_doc.typst_source([fixed_handout(patient_name=hostile)], CLINIC)
    assert typst_values.typst_string(hostile) in source


def test_typst_values():
    assert typst_values.typst_string('a "b" \\ c\nd\te\x00') == '"a \\"b\\" \\\\ c\\nd\\te\\u{0}"'
    assert typst_values.typst_string("\ud800") == '"\\u{fffd}"'
    assert typst_values.typst_value(None) == "none"
    assert typst_values.typst_value(True) == "true" and typst_values.typst_value(False) == "false"
    assert typst_values.typst_value(3) == "3" and typst_values.typst_value(1.5) == "1.5"
    assert typst_values.typst_value(("a",)) == '("a",)' and typst_values.typst_value([]) == "()"
    assert (
        typst_values.typst_value({"k": [1, 2]}) == '("k": (1, 2))'
        and typst_values.typst_value({}) == "(:)"
    )
    assert typst_values.typst_value(typst_values.TypstCode("1 + 1")) == "1 + 1"
    with pytest.raises(TemplateError, match="format it first"):
        typst_values.typst_value(date(2024, 6, 10))
    with pytest.raises(TemplateError):
        typst_values.typst_value(float("nan"))


def test_every_printed_value_is_escaped_even_without_the_filter(tmp_path):
    (tmp_path / "handout.typ.j2").write_text(
        "#mc-run({{ key }}, footer: (upper: {{ h.patient_name }}), [#par({{ h.patient_name }}) "
        "#par({{ h.patient_name | typst }})])\n"
    )
    clinic = dataclasses.replace(CLINIC, templates_dir=str(tmp_path))
    data = pdf.render(fixed_handout(clinic=clinic, patient_name="#set page(width: 1cm) *x*"))
    assert page_size(reader(data).pages[0]) == A4
    assert all_text(data).count("#set page(width: 1cm) *x*") == 3


def test_a_broken_clinic_template_is_a_template_error_without_patient_details(tmp_path):
    (tmp_path / "handout.typ.j2").write_text(
        "#mc-run({{ key }}, [#no-such-function({{ h.patient_name }})])\n"
    )
    clinic = dataclasses.replace(CLINIC, templates_dir=str(tmp_path))
    with pytest.raises(TemplateError) as caught:
        pdf.render(fixed_handout(clinic=clinic, patient_name="Secret Person"))
    assert "Secret" not in str(caught.value)
    (tmp_path / "handout.typ.j2").write_text("#mc-run({{ key }}, [#par({{ h.start }})])\n")
    with pytest.raises(TemplateError, match="format it first"):
        pdf.render(fixed_handout(clinic=clinic))
    (tmp_path / "handout.typ.j2").write_text("#par({{ h.no_such_field }})\n")
    with pytest.raises(TemplateError, match="does not exist"):
        pdf.render(fixed_handout(clinic=clinic))


# ---------------------------------------------------------------------------------------------
# fonts and characters
# ---------------------------------------------------------------------------------------------
def test_special_characters_print_in_atkinson_hyperlegible():
    special = (
        "José Müller-Çelik: keep it at 20 °C, ≥ 15 °C – café, naïve, façade — “quoted” 10½ µg €5 £5"
    )
    note = Note("expect-special", "expect", special, "")
    data = pdf.render(fixed_handout(patient_name="José Müller-Çelik", notes=(note,)))
    text = all_text(data)
    assert special in text
    assert "José Müller-Çelik" in text
    for char in "éüç°≥–":
        assert char in text
    assert embedded_fonts(data) == {"AtkinsonHyperlegible-Regular", "AtkinsonHyperlegible-Bold"}


def test_rarer_signs_fall_back_to_typsts_embedded_fonts():
    note = Note("expect-signs", "expect", "Signs → ✓ ≠ ± ≈ ‰", "")
    data = pdf.render(fixed_handout(notes=(note,)))
    assert "Signs → ✓ ≠ ± ≈ ‰" in all_text(data)
    assert embedded_fonts(data) <= {
        "AtkinsonHyperlegible-Regular",
        "AtkinsonHyperlegible-Bold",
        "DejaVuSansMono",
    }


def test_fonts_come_from_the_font_package_only(sample_pdf):
    assert typst_doc.font_dir().name == "files"
    assert sorted(p.name for p in typst_doc.font_dir().glob("*.ttf"))[0].startswith(
        "AtkinsonHyperlegible"
    )
    assert embedded_fonts(sample_pdf) <= {
        "AtkinsonHyperlegible-Regular",
        "AtkinsonHyperlegible-Bold",
    }


# ---------------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------------
def test_same_input_gives_the_same_bytes(sample, sample_pdf, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert pdf.render(sample) == pdf.render(sample)
    meta = reader(pdf.render(sample)).metadata
    assert meta["/CreationDate"].startswith("D:20240601000000")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    fixed = pdf.render(sample)
    assert fixed == pdf.render(sample) and fixed != pdf.render(
        dataclasses.replace(sample, today=date(2024, 6, 2))
    )
    assert reader(fixed).metadata["/CreationDate"].startswith("D:20231114221320")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")
    with pytest.raises(InputError, match="SOURCE_DATE_EPOCH"):
        pdf.render(sample)


def test_batch_is_deterministic(ruleset, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    batch = Batch(
        CLINIC,
        date(2024, 6, 1),
        date(2024, 6, 10),
        handouts_for_batch(ruleset, 3),
        booking_checked=True,
    )
    assert (
        hashlib.sha256(pdf.render_batch(batch)).digest()
        == hashlib.sha256(pdf.render_batch(batch)).digest()
    )


# ---------------------------------------------------------------------------------------------
# batches
# ---------------------------------------------------------------------------------------------
def check_batch(data: bytes, handouts, duplex: bool) -> None:
    """Cover first, then each handout's own run of pages, numbered from 1; odd starts when
    duplex."""
    singles = [len(reader(pdf.render(h)).pages) for h in handouts]
    texts = pages_text(data)
    numbered = runs(data)
    starts = [index for index, n, _ in numbered if n == 1]
    assert len(starts) == len(handouts) + 1
    assert starts[0] == 0 and "Cover sheet, page 1 of" in texts[0]
    cover_pages = starts[1] if not duplex else next(m for i, n, m in numbered if i == 0)
    for h, start, count in zip(handouts, starts[1:], singles, strict=True):
        assert [(n, m) for i, n, m in numbered if start <= i < start + count] == [
            (k + 1, count) for k in range(count)
        ]
        who = h.patient_name or h.patient_id
        assert all(who in texts[i] for i in range(start, start + count))
        assert texts[start].startswith(f"{CLINIC.name} Phone")
    if duplex:
        assert all(start % 2 == 0 for start in starts)  # 0-based even = page 1, 3, 5...
        expected = sum(c + c % 2 for c in [cover_pages, *singles])
        assert len(texts) in (expected, expected - 1)  # the last blank page may be left out
        blank = [i for i, t in enumerate(texts) if not t]
        assert all(i - 1 in {j for j, _, _ in numbered} for i in blank)
    else:
        assert len(texts) == cover_pages + sum(singles)
        assert not [t for t in texts if not t]


@pytest.mark.parametrize("duplex", [False, True])
def test_batch_cover_then_each_handout_on_new_sheets(ruleset, duplex):
    handouts = handouts_for_batch(ruleset, 4)
    batch = Batch(CLINIC, date(2024, 6, 1), date(2024, 6, 10), handouts, booking_checked=True)
    check_batch(pdf.render_batch(batch, duplex=duplex), handouts, duplex)


@pytest.mark.parametrize("duplex", [False, True])
def test_large_batches_are_made_in_chunks_with_the_same_pages(ruleset, monkeypatch, duplex):
    handouts = handouts_for_batch(ruleset, 5)
    batch = Batch(CLINIC, date(2024, 6, 1), date(2024, 6, 10), handouts, booking_checked=True)
    whole = pdf.render_batch(batch, duplex=duplex)
    monkeypatch.setattr(pdf, "CHUNK_SIZE", 2)
    chunked = pdf.render_batch(batch, duplex=duplex)
    assert chunked != whole  # really assembled from pieces
    check_batch(chunked, handouts, duplex)
    assert [t for t in pages_text(chunked) if t] == [t for t in pages_text(whole) if t]
    assert {page_size(p) for p in reader(chunked).pages} == {A4}
    assert typst_doc.pdf_page_count(chunked) == len(reader(chunked).pages)
    assert chunked == pdf.render_batch(batch, duplex=duplex)


def test_the_page_count_is_read_with_pikepdf_and_a_broken_piece_is_one_sentence():
    # pikepdf (a dependency already) counts pages; pypdf is not needed to make a PDF
    import sys

    script = (
        "import sys, pikepdf, io\n"
        "import mesocare.render.pdf\n"
        "from mesocare.render.typst_doc import pdf_page_count\n"
        "doc = pikepdf.new()\n"
        "for _ in range(3): doc.add_blank_page()\n"
        "out = io.BytesIO(); doc.save(out)\n"
        "print(pdf_page_count(out.getvalue()), 'pypdf' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["3", "False"]
    with pytest.raises(TemplateError, match="page count is unreadable"):
        typst_doc.pdf_page_count(b"%PDF-1.7\nnot a PDF at all")


def test_worker_processes_give_the_same_bytes_as_one_process(ruleset, monkeypatch):
    handouts = handouts_for_batch(ruleset, 5)
    batch = Batch(CLINIC, date(2024, 6, 1), date(2024, 6, 10), handouts, booking_checked=True)
    monkeypatch.setattr(pdf, "CHUNK_SIZE", 2)
    monkeypatch.setenv("MESOCARE_PDF_WORKERS", "1")
    assert pdf.workers(4) == 1
    alone = pdf.render_batch(batch)
    monkeypatch.setenv("MESOCARE_PDF_WORKERS", "2")
    assert pdf.workers(4) == 2
    assert pdf.render_batch(batch) == alone


def test_chunked_letter_batch_keeps_the_paper(ruleset, monkeypatch):
    monkeypatch.setattr(pdf, "CHUNK_SIZE", 1)
    handouts = handouts_for_batch(ruleset, 2)
    batch = Batch(CLINIC, date(2024, 6, 1), None, handouts, booking_checked=True)
    data = pdf.render_batch(batch, paper="Letter")
    assert {page_size(p) for p in reader(data).pages} == {LETTER}


def test_cover_sheet_lists_patients_calls_and_skipped_rows(ruleset):
    handouts = handouts_for_batch(ruleset, 4)
    problems = (
        RowProblem("row 4", "date", "'2024-06-31' is not a date"),
        RowProblem("row 9", None, "cancelled", error=False),
    )
    batch = Batch(
        CLINIC,
        date(2024, 6, 1),
        date(2024, 6, 10),
        handouts,
        booking_checked=True,
        problems=problems,
    )
    assert batch.to_call
    data = pdf.render_batch(batch)
    cover = " ".join(
        t for t, (i, n, m) in zip(pages_text(data), runs(data), strict=False) if "Cover sheet" in t
    )
    in_order(
        cover,
        [
            "Harbour Skin Clinic",
            "Cover sheet for the nurse",
            "Monday 10 June 2024",
            "Appointments 4",
            "Made on Saturday 1 June 2024",
            "Patients",
            "Time Patient Area",
        ],
    )
    in_order(
        cover,
        [
            "09:15 Patient 0 face",
            "no time Patient 1 neck and décolletage",
            "P-2",
            "Patient 3 scalp",
        ],
    )
    in_order(
        cover,
        ["Call before the appointment"] + [h.patient_name or h.patient_id for h in batch.to_call],
    )
    for h in batch.to_call:
        for i in h.late_items:
            assert f"{i.name} from {words.day(i.start.date())}" in cover
    assert "Phone them and check what to do." in cover
    assert "could not be checked" not in cover
    in_order(
        cover,
        [
            "Rows skipped",
            "row 4, date: '2024-06-31' is not a date",
            "Left out on purpose",
            "row 9: cancelled",
        ],
    )


def test_cover_sheet_without_booking_dates_says_so(ruleset):
    handouts = handouts_for_batch(ruleset, 2, booked=None)
    batch = Batch(CLINIC, date(2024, 6, 1), None, handouts, booking_checked=False)
    cover = pages_text(pdf.render_batch(batch))[0]
    assert "All appointments" in cover
    assert "Date Time Patient Area" in cover and "Monday 10 June 2024 09:15 Patient 0 face" in cover
    assert "Late bookings could not be checked: the schedule has no booking dates." in cover
    assert "Rows skipped None." in cover


def test_empty_batch_is_just_the_cover():
    batch = Batch(CLINIC, date(2024, 6, 1), date(2024, 6, 10), (), booking_checked=True)
    texts = pages_text(pdf.render_batch(batch, duplex=True))
    assert len(texts) == 1 and "No appointments to print." in texts[0]


# ---------------------------------------------------------------------------------------------
# pictures of the pages
# ---------------------------------------------------------------------------------------------
NO_PDFTOPPM = pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not on PATH"
)


def ink(data: bytes, folder, page: int = 1, dpi: int = 36):
    """Render one page in grey with pdftoppm: (width, height, inked rows, inked columns)."""
    source = folder / f"ink-{page}.pdf"
    source.write_bytes(data)
    stem = folder / f"ink-{page}"
    subprocess.run(
        [
            "pdftoppm",
            "-gray",
            "-r",
            str(dpi),
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(source),
            str(stem),
        ],
        check=True,
    )
    raw = stem.with_suffix(".pgm").read_bytes()
    magic, width, height, maxval, rest = raw.split(maxsplit=4)
    assert magic == b"P5" and int(maxval) == 255
    width, height = int(width), int(height)
    rows = [rest[y * width : (y + 1) * width] for y in range(height)]
    inked_rows = [y for y, row in enumerate(rows) if min(row) < 128]
    inked_columns = [x for x in range(width) if any(row[x] < 128 for row in rows)]
    return width, height, inked_rows, inked_columns


@NO_PDFTOPPM
def test_page_one_renders_to_png(sample_pdf, tmp_path):
    source = tmp_path / "handout.pdf"
    source.write_bytes(sample_pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "72",
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
    png = (tmp_path / "page1.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert abs(width - 595) <= 1 and abs(height - 842) <= 1  # A4 at 72 dpi
    width, height, rows, columns = ink(sample_pdf, tmp_path)
    assert rows and rows[0] > 5 and rows[-1] < height - 5  # ink inside the margins, nothing cut off
    assert columns[0] > 5 and columns[-1] < width - 5
    assert len(rows) > height // 3  # a real page of text, not a blank one


@NO_PDFTOPPM
def test_long_words_wrap_inside_the_page(tmp_path):
    clinic = dataclasses.replace(CLINIC, name="B" * 90)
    data = pdf.render(fixed_handout(patient_name="A" * 120, clinic=clinic))
    width, _height, _rows, columns = ink(data, tmp_path)
    margin = 18 / 25.4 * 36  # 18 mm at 36 dpi
    assert columns[0] >= margin - 2 and columns[-1] <= width - margin + 2
    assert "A" * 20 in all_text(data).replace("\u200b", "")


@pytest.mark.parametrize(
    "name, font",
    [
        ("王小明", "NotoSansCJK"),
        ("山田 太郎", "NotoSansCJK"),
        ("김민준", "NotoSansCJK"),
        ("Ana 😀🩺", "NotoEmoji"),
        ("Zoë ❤ Ana", None),
        ("Αλέξης Παπαδόπουλος", None),
        ("Дарья Иванова", None),
        ("שרה כהן", None),
    ],
)
def test_every_name_prints_as_typed(name, font):
    """Emoji, CJK and other scripts come from the fallback font packages, never as empty boxes."""
    data = pdf.render(fixed_handout(patient_name=name))
    text = all_text(data)
    for word in name.split():  # (pypdf gives right-to-left words in visual order)
        assert word in text
    if font:
        assert any(f.startswith(font) for f in embedded_fonts(data)), embedded_fonts(data)
    # nothing from the machine: every font is ours, Typst's own, or a fallback package's
    assert all(
        f.startswith(("AtkinsonHyperlegible", "DejaVuSansMono", "NewCM", "Noto"))
        for f in embedded_fonts(data)
    )


def test_control_characters_in_a_name_do_not_reach_the_pdf():
    data = pdf.render(fixed_handout(patient_name="Ana\x1b[31m Silva\x07\x9b2J"))
    text = all_text(data)
    assert "Ana Silva" in text
    assert not any(ch in text for ch in "\x1b\x07\x9b")
