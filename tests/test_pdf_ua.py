"""PDF/UA-1: handouts, batch PDFs and cover sheets, opened with pikepdf.

Typst checks PDF/UA-1's requirements when it exports and refuses a document that breaks them;
these tests check what it wrote: the PDF/UA identification, the title shown by viewers, the
language, a structure tree with headings in order and table headers, alternative text on every
figure, and text that extracts in reading order.
"""

from __future__ import annotations

import dataclasses
import io
from datetime import date, time

import pytest

from mesocare.errors import TemplateError
from mesocare.handout import build_handout
from mesocare.model import Batch, Clinic, Request
from mesocare.render import calendar, pdf
from mesocare.course import make_course

pikepdf = pytest.importorskip("pikepdf")
pypdf = pytest.importorskip("pypdf")

CLINIC = Clinic(name="Harbour Skin Clinic", phone="020 7946 0000", timezone="Europe/London")


def handout(ruleset, clinic=CLINIC, **kw):
    fields = dict(date=date(2024, 6, 10), time=time(10, 0), areas=("face",), name="Ana Silva")
    fields.update(kw)
    return build_handout(Request(**fields), ruleset, clinic, today=date(2024, 6, 1))


def elements(node, out=None):
    """The structure elements under ``node`` in document order: (type, alternative text or None)."""
    out = [] if out is None else out
    if isinstance(node, pikepdf.Dictionary) and "/S" in node:
        out.append((str(node.S), str(node.Alt) if "/Alt" in node else None))
    if isinstance(node, pikepdf.Dictionary):
        kids = node.get("/K")
        if kids is not None:
            for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
                elements(kid, out)
    return out


def check_pdf_ua(data: bytes, title: str, lang: str = "en-GB") -> list[tuple[str, object]]:
    """Assert the PDF/UA-1 basics; return the structure elements."""
    doc = pikepdf.open(io.BytesIO(data))
    meta = doc.open_metadata()
    assert meta.get("pdfuaid:part") == "1", "PDF/UA-1 identification in the XMP metadata"
    assert meta.get("dc:title") == title
    assert bool(doc.Root.ViewerPreferences.DisplayDocTitle) is True
    assert str(doc.Root.Lang) == lang
    assert bool(doc.Root.MarkInfo.Marked) is True
    tree = doc.Root.StructTreeRoot
    found = elements(tree)
    kinds = [k for k, _ in found]
    assert kinds[0] == "/Document"
    headings = [k for k in kinds if k in ("/H1", "/H2", "/H3", "/H4", "/H5", "/H6")]
    assert headings and headings[0] == "/H1", "the first heading is of level 1"
    for before, after in zip(headings, headings[1:]):
        assert int(after[2]) <= int(before[2]) + 1, f"a heading level is skipped: {before} then {after}"
    # every page's marked content belongs to the structure tree
    parents = tree.ParentTree
    keys = set()
    stack = [parents]
    while stack:
        node = stack.pop()
        if "/Nums" in node:
            keys.update(int(node.Nums[i]) for i in range(0, len(node.Nums), 2))
        stack.extend(node.get("/Kids", []))
    for number, page in enumerate(doc.pages, start=1):
        if page.get("/Contents") is not None and "/StructParents" in page:
            assert int(page.StructParents) in keys, f"page {number} is not in the parent tree"
    return found


def figures(found) -> list[str]:
    alts = []
    for kind, alt in found:
        if kind == "/Figure":
            assert alt and alt.strip(), "a figure without alternative text"
            alts.append(alt)
    return alts


def text_of(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join(p.extract_text().split()) for p in reader.pages)


def in_order(text: str, parts: list[str]) -> None:
    at = 0
    for part in parts:
        found = text.find(part, at)
        assert found >= 0, f"{part!r} missing or out of reading order"
        at = found + len(part)


@pytest.mark.parametrize("paper", ["A4", "Letter"])
@pytest.mark.parametrize("large", [False, True], ids=["normal", "large-print"])
def test_handout_is_pdf_ua(ruleset, paper, large):
    clinic = dataclasses.replace(CLINIC, paper=paper, large_print=large)
    h = handout(ruleset, clinic, prescribed=("medrol",), booked=date(2024, 6, 3))
    data = pdf.render(h)
    found = check_pdf_ua(data, pdf.HANDOUT_TITLE)
    kinds = [k for k, _ in found]
    assert kinds.count("/H1") == 1
    assert "/TH" in kinds and "/Table" in kinds and "/L" in kinds
    assert figures(found) == [calendar.build(h).alt]
    # the figure comes after the dated tables and before "What to expect", as on the page
    assert kinds.index("/Figure") > max(i for i, k in enumerate(kinds) if k == "/Table")
    in_order(text_of(data), [
        "Harbour Skin Clinic", "Ana Silva", "Please read this first", "Before your appointment",
        "On the day", "After your appointment", "Your plan on a calendar", "June 2024",
        "The letters match", "ginkgo biloba and willow bark", "What to expect", "Talk to us first if",
        "Call us if", "I have read these instructions",
    ])


def test_untimed_handout_without_a_name_is_pdf_ua(ruleset):
    data = pdf.render(handout(ruleset, time=None, name=None))
    found = check_pdf_ua(data, pdf.HANDOUT_TITLE)
    assert [k for k, _ in found].count("/H1") == 1  # "Your mesotherapy care instructions"
    assert len(figures(found)) == 1


def test_course_handout_is_pdf_ua(ruleset):
    course = make_course(date(2024, 6, 10), sessions=3, every=(1, "m"))
    h = handout(ruleset, areas=("body", "neck"), course=course)
    found = check_pdf_ua(pdf.render(h), pdf.HANDOUT_TITLE)
    assert figures(found) == [calendar.build(h).alt]


def test_batch_with_cover_sheet_is_pdf_ua(ruleset):
    hs = tuple(handout(ruleset, name=f"Patient {n}", time=time(9 + n, 0), booked=date(2024, 6, 3)) for n in range(3))
    batch = Batch(clinic=CLINIC, today=date(2024, 6, 1), day=date(2024, 6, 10), handouts=hs, booking_checked=True)
    for duplex in (False, True):
        data = pdf.render_batch(batch, duplex=duplex)
        found = check_pdf_ua(data, pdf.BATCH_TITLE)
        kinds = [k for k, _ in found]
        assert kinds.count("/H1") == 4  # the cover sheet and each handout
        assert len(figures(found)) == 3
        in_order(text_of(data), ["Cover sheet for the nurse", "Call before the appointment",
                                 "Patient 0", "Your plan on a calendar", "Patient 1", "Patient 2"])


def test_typst_refuses_a_document_that_breaks_pdf_ua():
    # no document title and no language: PDF/UA-1 export must fail, not write a non-conforming file
    with pytest.raises(TemplateError, match="PDF/UA"):
        pdf.compile_pdf("= A heading\nSome text.", date(2024, 6, 1), ".")
