"""PDF/UA-1: handouts, batch PDFs and cover sheets, opened with pikepdf.

Typst checks PDF/UA-1's requirements when it exports and refuses a document that breaks them;
these tests check what it wrote: the PDF/UA identification, the title shown by viewers, the
language, a structure tree with headings in order and table headers, alternative text on every
figure, and text that extracts in reading order.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
from datetime import date, time

import pytest

from mesocare.course import make_course
from mesocare.errors import TemplateError
from mesocare.handout import build_handout
from mesocare.model import Batch, Clinic, Request
from mesocare.render import calendar, pdf, typst_doc

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
    for before, after in itertools.pairwise(headings):
        assert int(after[2]) <= int(before[2]) + 1, (
            f"a heading level is skipped: {before} then {after}"
        )
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
    found = check_pdf_ua(data, typst_doc.HANDOUT_TITLE)
    kinds = [k for k, _ in found]
    assert kinds.count("/H1") == 1
    assert "/TH" in kinds and "/Table" in kinds and "/L" in kinds
    assert figures(found) == [calendar.build(h).alt]
    # the figure comes after the dated tables and before "What to expect", as on the page
    assert kinds.index("/Figure") > max(i for i, k in enumerate(kinds) if k == "/Table")
    in_order(
        text_of(data),
        [
            "Harbour Skin Clinic",
            "Ana Silva",
            "Please read this first",
            "Before your appointment",
            "On the day",
            "After your appointment",
            "Your plan on a calendar",
            "June 2024",
            "The letters match",
            "ginkgo biloba and willow bark",
            "What to expect",
            "Talk to us first if",
            "Call us if",
            "I have read these instructions",
        ],
    )


def test_untimed_handout_without_a_name_is_pdf_ua(ruleset):
    data = pdf.render(handout(ruleset, time=None, name=None))
    found = check_pdf_ua(data, typst_doc.HANDOUT_TITLE)
    assert [k for k, _ in found].count("/H1") == 1  # "Your mesotherapy care instructions"
    assert len(figures(found)) == 1


def test_course_handout_is_pdf_ua(ruleset):
    course = make_course(date(2024, 6, 10), sessions=3, every=(1, "m"))
    h = handout(ruleset, areas=("body", "neck"), course=course)
    found = check_pdf_ua(pdf.render(h), typst_doc.HANDOUT_TITLE)
    assert figures(found) == [calendar.build(h).alt]


def test_batch_with_cover_sheet_is_pdf_ua(ruleset):
    hs = tuple(
        handout(ruleset, name=f"Patient {n}", time=time(9 + n, 0), booked=date(2024, 6, 3))
        for n in range(3)
    )
    batch = Batch(
        clinic=CLINIC,
        today=date(2024, 6, 1),
        day=date(2024, 6, 10),
        handouts=hs,
        booking_checked=True,
    )
    for duplex in (False, True):
        data = pdf.render_batch(batch, duplex=duplex)
        found = check_pdf_ua(data, typst_doc.BATCH_TITLE)
        kinds = [k for k, _ in found]
        assert kinds.count("/H1") == 4  # the cover sheet and each handout
        assert len(figures(found)) == 3
        in_order(
            text_of(data),
            [
                "Cover sheet for the nurse",
                "Call before the appointment",
                "Patient 0",
                "Your plan on a calendar",
                "Patient 1",
                "Patient 2",
            ],
        )


def test_typst_refuses_a_document_that_breaks_pdf_ua():
    # no document title and no language: PDF/UA-1 export must fail, not write a non-conforming file
    with pytest.raises(TemplateError, match="PDF/UA"):
        typst_doc.compile_pdf("= A heading\nSome text.", date(2024, 6, 1), ".")


# --------------------------------------------------------------------------------------------
# A long batch: typeset in pieces, joined on disk (pdf_join) into one tagged document
# --------------------------------------------------------------------------------------------
def marked_content(page) -> set[int]:
    """The marked-content ids (MCIDs) on a page's content stream."""
    ids = set()
    for operands, _operator in pikepdf.parse_content_stream(page, "BDC"):
        props = operands[1] if len(operands) > 1 else None
        if isinstance(props, pikepdf.Dictionary) and "/MCID" in props:
            ids.add(int(props.MCID))
    return ids


def check_structure(data: bytes) -> list[tuple[str, str]]:
    """Check that the structure tree is one consistent tree; return (heading title, its language)
    for every level-1 heading, in the tree's order."""
    doc = pikepdf.open(io.BytesIO(data))
    tree = doc.Root.StructTreeRoot
    pages = {page.objgen: page for page in doc.pages}
    numbers = {}
    stack = [tree.ParentTree]
    while stack:
        node = stack.pop()
        if "/Nums" in node:
            nums = list(node.Nums)
            for key, value in zip(nums[0::2], nums[1::2], strict=True):
                assert int(key) not in numbers, f"parent tree key {key} twice"
                numbers[int(key)] = value
            if "/Limits" in node:
                assert [int(x) for x in node.Limits] == [
                    min(map(int, nums[0::2])),
                    max(map(int, nums[0::2])),
                ]
        stack.extend(node.get("/Kids", []))
    assert int(tree.ParentTreeNextKey) > max(numbers)
    # walk the tree from its root: each element once, /P its parent; where each MCID lives
    seen, content, headings = set(), {}, []
    [document] = list(tree.K)
    assert document.S == "/Document"
    stack = [(document, tree, str(doc.Root.Lang))]
    while stack:
        element, parent, lang = stack.pop()
        assert element.objgen not in seen, "a structure element is reachable twice"
        seen.add(element.objgen)
        assert element.P.objgen == parent.objgen, f"{element.S}'s /P is not its parent"
        lang = str(element.Lang) if "/Lang" in element else lang
        if element.S == "/H1":
            headings.append((str(element.T), lang))
        kids = element.get("/K")
        kids = [] if kids is None else kids if isinstance(kids, pikepdf.Array) else [kids]
        for kid in reversed(kids):
            if isinstance(kid, int):
                content[(element.Pg.objgen, int(kid))] = element
            elif kid.get("/Type") == "/MCR":
                content[(kid.get("/Pg", element.get("/Pg")).objgen, int(kid.MCID))] = element
            elif kid.get("/Type") == "/OBJR":
                assert int(kid.Obj.StructParent) in numbers
            else:
                stack.append((kid, element, lang))
    for objgen, _ in content:
        assert objgen in pages, "an element's /Pg is not a page of the document"
    # every MCID on every page is reached from that page's parent tree entry, and back
    count = 0
    for number, page in enumerate(doc.pages, start=1):
        ids = marked_content(page)
        if not ids:
            assert (
                page.get("/Contents") is None
                or "/StructParents" in page
                or not page.get("/Contents").read_bytes().strip()
            )
            continue
        entry = numbers[int(page.StructParents)]
        for mcid in ids:
            element = entry[mcid]
            assert content.get((page.objgen, mcid)) is not None, (
                f"page {number}: MCID {mcid} not in the tree"
            )
            assert content[(page.objgen, mcid)].objgen == element.objgen, (
                f"page {number}: MCID {mcid}'s parent"
            )
            assert element.Pg.objgen == page.objgen or any(
                isinstance(k, pikepdf.Dictionary)
                and k.get("/Pg") is not None
                and k.Pg.objgen == page.objgen
                for k in (element.K if isinstance(element.K, pikepdf.Array) else [element.K])
            )
            count += 1
    assert count == len(content), "every marked content of the tree is on its page"
    # IDs are unique, and every table cell's /Headers names one
    names = {}
    stack = [tree.IDTree] if "/IDTree" in tree else []
    while stack:
        node = stack.pop()
        if "/Names" in node:
            flat = list(node.Names)
            for name, element in zip(flat[0::2], flat[1::2], strict=True):
                assert bytes(name) not in names, "an ID twice"
                assert element.is_indirect and element.objgen in seen, (
                    "an ID names an element of the tree"
                )
                assert bytes(element.ID) == bytes(name)
                names[bytes(name)] = element
        stack.extend(node.get("/Kids", []))
    for objgen in seen:
        element = doc.get_object(objgen)
        attributes = element.get("/A")
        for owner in (
            attributes
            if isinstance(attributes, pikepdf.Array)
            else [attributes]
            if attributes
            else []
        ):
            if isinstance(owner, pikepdf.Dictionary) and "/Headers" in owner:
                for header in owner.Headers:
                    assert names[bytes(header)].S == "/TH"
    return headings


def long_batch(ruleset, count: int, spanish: set[int]) -> Batch:
    hs = tuple(
        handout(
            ruleset,
            name=f"Patient {n:02d}",
            time=time(8 + n % 10, 0),
            date=date(2024, 6, 10 + n // 10),
            booked=date(2024, 6, 3),
            language="es" if n in spanish else None,
        )
        for n in range(count)
    )
    return Batch(clinic=CLINIC, today=date(2024, 6, 1), day=None, handouts=hs, booking_checked=True)


def check_long_batch(data: bytes, batch: Batch, spanish: set[int]) -> None:
    found = check_pdf_ua(data, typst_doc.BATCH_TITLE)
    assert len(figures(found)) == len(batch.handouts)
    headings = check_structure(data)
    patients = [(title, lang) for title, lang in headings if title.startswith("Patient")]
    assert patients == [
        (f"Patient {n:02d}", "es-ES" if n in spanish else "en-GB")
        for n in range(len(batch.handouts))
    ]
    assert headings[0][1] == "en-GB"  # the cover sheet
    with pikepdf.open(io.BytesIO(data)) as joined:
        # qpdf's own check of the file we wrote object by object: cross-reference stream, object
        # streams, every stream decodes, no dangling reference
        assert joined.check_pdf_syntax() == [], joined.check_pdf_syntax()[:5]
        assert dangling(joined) == [], "a reference to an object that is not there (or null)"
        meta = joined.open_metadata()
        assert meta.get("{http://ns.adobe.com/xap/1.0/t/pg/}NPages") == str(
            len(pypdf.PdfReader(io.BytesIO(data)).pages)
        )
    in_order(
        fast_text_of(data),
        ["Cover sheet for the nurse", *(f"Patient {n:02d}" for n in range(len(batch.handouts)))],
    )


def dangling(doc) -> list[tuple[int, int]]:
    """The objects that a reference in ``doc`` names but that are missing or null."""
    missing, stack = set(), [doc.trailer]
    seen = set()
    while stack:
        node = stack.pop()
        if isinstance(node, pikepdf.Object) and node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
            if doc.get_object(node.objgen) is None:
                missing.add(node.objgen)
                continue
        if isinstance(node, pikepdf.Stream):
            node = node.stream_dict
        if isinstance(node, pikepdf.Dictionary):
            stack.extend(node.as_dict().values())
        elif isinstance(node, pikepdf.Array):
            stack.extend(node.as_list())
    return sorted(missing)


def test_an_independent_checker_finds_nothing_wrong_in_a_joined_batch(
    ruleset, monkeypatch, tmp_path
):
    # veraPDF (Java) is on none of the registries the tests install from; pdfua (PyPI) runs a
    # machine-checkable subset of PDF/UA-1 (structure tree, MarkInfo, language, figures' alt
    # text, tables, headings, title shown, PDF/UA identification) written apart from this code
    import json
    import subprocess
    import sys

    pytest.importorskip("pdfua")
    monkeypatch.setattr(pdf, "CHUNK_SIZE", 2)  # the cover sheet and three pieces, joined
    batch = long_batch(ruleset, 5, {1, 2})
    path = tmp_path / "batch.pdf"
    path.write_bytes(pdf.render_batch(batch, duplex=True))
    done = subprocess.run(
        [sys.executable, "-m", "pdfua", "check", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(done.stdout)
    assert report["findings"] == [] and done.returncode == 0, report["findings"][:5]
    assert report["summary"]["rules_run"] >= 11


def fast_text_of(data: bytes) -> str:
    """The text of a long PDF: poppler's pdftotext when installed (./scripts/test installs it; pypdf
    takes seconds for 200 pages), else pypdf."""
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        return text_of(data)
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    ).stdout
    return " ".join(out.decode("utf-8").split())


def test_a_batch_of_more_than_50_handouts_is_one_pdf_ua_document(ruleset):
    # 51 handouts: a piece of 50 and a piece of 1, then the cover sheet, joined; the first
    # handout of a piece in Spanish (so is the piece's language), one in the middle of a piece,
    # the last one alone
    spanish = {0, 7, 50}
    batch = long_batch(ruleset, pdf.CHUNK_SIZE + 1, spanish)
    check_long_batch(pdf.render_batch(batch), batch, spanish)


def test_a_joined_batch_printed_on_both_sides_is_one_pdf_ua_document(ruleset, monkeypatch):
    monkeypatch.setattr(pdf, "CHUNK_SIZE", 2)  # the cover sheet and three pieces
    spanish = {1, 2}
    batch = long_batch(ruleset, 5, spanish)
    data = pdf.render_batch(batch, duplex=True)
    check_long_batch(data, batch, spanish)
    # the blank page after the one-page cover sheet: no content, nothing to tag
    doc = pikepdf.open(io.BytesIO(data))
    blank = [number for number, page in enumerate(doc.pages) if "/Contents" not in page]
    assert blank[0] == 1 and len(doc.pages) % 2 == 0
    for number in blank:
        page = doc.pages[number]
        assert "/StructParents" not in page and "/Annots" not in page


def cover_pages(data: bytes) -> list[str]:
    """The text of each page of the cover sheet (the pages before the first handout's, but a blank
    page added for printing on both sides)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]
    return [
        text
        for text in pages[
            : next(i for i, t in enumerate(pages) if "Patient 00" in t and "Cover sheet" not in t)
        ]
        if text
    ]


@pytest.mark.parametrize("duplex", [False, True])
def test_a_long_cover_sheet_is_typeset_in_parts_and_reads_as_one(ruleset, monkeypatch, duplex):
    # a cover sheet of more than COVER_PART_LINES lines (patients listed, patients to phone) is
    # typeset in parts, so no process lays out a 10,000-row table; joined, the parts are one run
    # of pages: every patient listed once in order, then whom to phone, "page N of M" counted
    # across the parts, no blank page between them, one outline entry
    monkeypatch.setattr(pdf, "CHUNK_SIZE", 2)
    monkeypatch.setattr(pdf, "COVER_PART_LINES", 3)
    spanish = {3}
    batch = long_batch(ruleset, 7, spanish)
    to_call = [h.patient_name for h in batch.to_call]
    assert to_call
    parts = pdf.cover_parts(batch)
    assert len(parts) == -(-(7 + len(to_call) + 1) // 3) and sum(len(p.rows) for p in parts) == 7
    assert (
        [p.head for p in parts].count(True)
        == [p.call_head for p in parts].count(True)
        == [p.tail for p in parts].count(True)
        == 1
    )
    data = pdf.render_batch(batch, duplex=duplex)
    check_long_batch(data, batch, spanish)
    pages = cover_pages(data)
    assert len(pages) >= len(parts)
    for number, text in enumerate(pages, start=1):
        assert f"Cover sheet, page {number} of {len(pages)}" in text
    cover = " ".join(pages)
    in_order(
        cover,
        [
            "Cover sheet for the nurse",
            *(f"Patient {n:02d}" for n in range(7)),
            "Call before the appointment",
            *to_call,
            "Rows skipped",
        ],
    )
    for once in ("Phone: 020", "Call before the appointment", "Rows skipped", "Patients"):
        assert cover.count(once) == 1, once
    # each later part starts with the cover's title again (its first heading, as PDF/UA wants)
    assert cover.count("Cover sheet for the nurse All appointments") == len(parts)
    doc = pikepdf.open(io.BytesIO(data))
    assert all(
        "/Contents" in doc.pages[k] for k in range(len(pages))
    )  # no blank page inside the cover
    if duplex:
        assert len(pages) % 2 == 0 or "/Contents" not in doc.pages[len(pages)]
    with doc.open_outline() as outline:
        titles = [item.title for item in outline.root]
    assert titles[0] == "Cover sheet" and titles.count("Cover sheet") == 1 and len(titles) == 8


def test_a_clinic_that_draws_its_own_cover_or_style_gets_its_cover_sheet_whole(
    ruleset, monkeypatch, tmp_path
):
    # a clinic's own cover.typ.j2, style.typ.j2 or pdf.typ.j2 may come from before cover sheets
    # were typeset in parts: its long cover sheet is typeset whole, and our cover template calls
    # mc-run as it did then (here: a style.typ.j2 whose mc-run knows no first-page or pages)
    from mesocare.resources import templates_dir

    assert pdf._split_cover(CLINIC)
    (tmp_path / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert pdf._split_cover(dataclasses.replace(CLINIC, templates_dir=str(tmp_path)))
    ours = (templates_dir() / "style.typ.j2").read_text(encoding="utf-8")
    old = (
        ours.replace(", first-page: 1, pages: none, body) = page({", ", body) = page({")
        .replace("counter(page).update(first-page)", "counter(page).update(1)")
        .replace("pages: pages, ", "")
    )
    assert old != ours and "first-page" not in old.split("#let mc-run(")[1].split("\n")[0]
    (tmp_path / "style.typ.j2").write_text(old, encoding="utf-8")
    clinic = dataclasses.replace(CLINIC, templates_dir=str(tmp_path))
    assert not pdf._split_cover(clinic)
    monkeypatch.setattr(pdf, "CHUNK_SIZE", 2)
    monkeypatch.setattr(pdf, "COVER_PART_LINES", 3)
    batch = dataclasses.replace(long_batch(ruleset, 5, set()), clinic=clinic)
    pages = cover_pages(pdf.render_batch(batch))
    assert all(
        f"Cover sheet, page {n} of {len(pages)}" in text for n, text in enumerate(pages, start=1)
    )
    assert " ".join(pages).count("Cover sheet for the nurse") == 1  # one part: no repeated title
