"""Typst documents: their source and their compilation to PDF bytes (the PDF format itself,
one handout and a batch in pieces, is ``pdf``, which builds on this).

A Jinja template (``templates/pdf.typ.j2`` with ``style.typ.j2``, ``cover.typ.j2`` and
``handout.typ.j2``; a clinic's own templates folder is searched first) writes Typst source
(``typst_source``), and the ``typst`` package compiles it in memory (``compile_pdf``), with one
compiler for the process, its fonts loaded once. ``CoverPart`` says which part of a cover sheet a
document holds.

Escaping: every value a template prints becomes a Typst value, never markup (see
``typst_values``).

Fonts come from the ``fontpkg-atkinson-hyperlegible`` package (it covers Latin accents, °, ≥,
≤, en and em dashes, curly quotes, €, £, µ, ½), with Typst's own embedded fonts (DejaVu Sans Mono,
New Computer Modern) as the fallback for rarer signs such as arrows, then the Noto fonts of
``manimgx-fonts`` (Noto Emoji, Noto Sans Symbols, other scripts) and ``manimgx-fonts-cjk``
(Chinese, Japanese, Korean), so every name prints as typed; never fonts from the machine.
The document date is fixed (``source_date.stamp``: SOURCE_DATE_EPOCH when set, else the
handout's or batch's ``today``), so the same input gives the same bytes on every machine.

Page numbers: each handout (and the cover sheet) is a run of pages; one document-wide footer
finds its run from metadata markers and prints "Page N of M" counted within that run.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

from mesocare.errors import MesocareError, TemplateError
from mesocare.lang.language import Language
from mesocare.lang.ui import N_
from mesocare.model import Batch, Clinic, Handout
from mesocare.render import source_date
from mesocare.render.typst_values import TypstCode, typst_value

DOCUMENT_TEMPLATE = "pdf.typ.j2"
FONT_PACKAGE = "fontpkg_atkinson_hyperlegible"
# fallback fonts (emoji, symbols, other scripts; CJK): folders of font files inside packages
FALLBACK_FONT_PACKAGES = ("manimgx_fonts", "manimgx_fonts_cjk")
# a paper size (vocab.PAPER_SIZES) -> Typst's paper name
TYPST_PAPER: dict[str, str] = {"A4": "a4", "Letter": "us-letter"}

CACHE_AGE = 10  # the typst binding keeps memoized results for 10 compilations
PDF_STANDARD = "ua-1"  # tagged documents are exported as PDF/UA-1
BATCH_TITLE = N_("Mesotherapy handouts")
HANDOUT_TITLE = "Your mesotherapy care instructions"

_COMPILE_LOCK = threading.RLock()


# --------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def typst_environment(clinic_dir: str | None):
    """The shared Jinja environment for ``clinic_dir``, with every printed value made a Typst
    value."""
    from mesocare.render.templating import environment

    base = environment(clinic_dir)
    base.filters["typst"] = typst_value
    # Own template cache: a template compiled by the base environment has no finalize.
    env = base.overlay(finalize=typst_value, cache_size=64)
    env.filters = dict(env.filters, calendar=_calendar_value, timeline=_timeline, notes=_notes)
    return env


def _calendar_value(handout: Handout, locale: str | None = None) -> TypstCode:
    """The ``calendar`` filter: a handout's calendar picture as a Typst dictionary."""
    from mesocare.render.calendar_typst import code

    return TypstCode(code(handout, locale))


def _timeline(handout: Handout, phase: str) -> tuple[TypstCode, ...]:
    """The ``timeline`` filter: a handout's steps of one phase ("before", "day", "after") as the
    timeline's rows, each a Typst dictionary ``(when: ..., text: ..., late: ..., clinic: ...)``
    (``clinic``: a step of the clinic's own rules).

    Made here, each field a Typst value as ``{{ ... }}`` prints it: a template that reads a
    step's four fields in the sandbox (each read checked) pays that for every step of every
    handout of a batch, most of the cost of its source.
    """
    return tuple(
        TypstCode(
            f"(when: {typst_value(i.when)}, text: {typst_value(i.text)}, "
            f"late: {typst_value(i.late)}, clinic: {typst_value(i.origin == 'clinic')})"
        )
        for i in handout.phase(phase)
    )


def _notes(handout: Handout, section: str) -> tuple[TypstCode, ...]:
    """The ``notes`` filter: a handout's notes of one section ("after", "expect", "talk-first",
    "call-us", "caution") as rows ``(text: ..., clinic: ...)``, made as ``timeline``'s are."""
    return tuple(
        TypstCode(f"(text: {typst_value(n.text)}, clinic: {typst_value(n.origin == 'clinic')})")
        for n in handout.section(section)
    )


def _render_source(clinic: Clinic, **context) -> str:
    from mesocare.render.templating import render_template

    env = typst_environment(clinic.templates_dir)
    return render_template(DOCUMENT_TEMPLATE, clinic.templates_dir, env=env, **context)


def paper_name(clinic: Clinic, paper: str | None = None) -> str:
    """Typst's paper name for the ``paper`` option, else the clinic's setting: "a4" or
    "us-letter"."""
    from mesocare.parse import parse_paper

    return TYPST_PAPER[parse_paper(paper or clinic.paper or "A4")]


def typst_source(
    handouts: tuple[Handout, ...] | list[Handout],
    clinic: Clinic,
    batch: Batch | None = None,
    duplex: bool = False,
    paper: str | None = None,
    title: str | None = None,
    bookmarks: list[str | None] | None = None,
    lang: Language | None = None,
    part: CoverPart | None = None,
    cover_words: dict | None = None,
) -> str:
    """The Typst document for some handouts, after a cover sheet for ``batch`` when given.

    Each handout speaks its own language (its words, and Typst's ``lang`` for its pages); the
    document's language is ``lang`` when given, else the cover sheet's (``batch.lang``) in a
    batch, else the first handout's (the clinic's when there is none). ``bookmarks``: the PDF
    outline's entries, the cover sheet's first, then one per handout (None: none for that run).
    ``part``: the part of the cover sheet to typeset (default: all of it); ``cover_words``: its
    words, when already made for another part.
    """
    from mesocare.lang import clinic_language, ui
    from mesocare.render import pdf_words

    handouts = tuple(handouts)
    if lang is not None:
        doc = lang
    elif batch is not None:
        doc = batch.lang
    else:
        doc = handouts[0].lang if handouts else clinic_language(clinic)
    if batch is not None and cover_words is None:
        cover_words = pdf_words.cover_words(batch)
    return _render_source(
        clinic,
        handouts=handouts,
        batch=batch,
        duplex=bool(duplex),
        paper=paper_name(clinic, paper),
        title=doc.gettext(title or (BATCH_TITLE if batch is not None else HANDOUT_TITLE)),
        author=ui.clinic_name(doc, clinic.name),
        past=_past_warning(batch),
        doc_lang=doc.code,
        doc_region=pdf_words.typst_region(doc),
        words=[pdf_words.handout_words(h) for h in handouts],
        cover_words=cover_words,
        part=(part or whole_cover(batch)) if batch is not None else None,
        bookmarks=bookmarks,
        large=bool(clinic.large_print),
    )


@dataclass(frozen=True)
class CoverPart:
    """Which part of a cover sheet one document holds (see ``pdf.cover_parts``): ``head`` (the
    header, title and facts), ``rows`` (the indexes of the patients listed), ``call_head`` (the
    "call" section starts here), ``calls`` (the indexes of the patients to phone listed), ``tail``
    (the skipped rows), and the footer's numbers: ``first_page`` and ``pages`` (the whole cover
    sheet's count; None: this document's own)."""

    head: bool
    rows: range
    call_head: bool
    calls: tuple[int, ...]
    tail: bool
    first_page: int = 1
    pages: int | None = None


def _calls(batch: Batch) -> tuple[int, ...]:
    return (
        tuple(i for i, h in enumerate(batch.handouts) if h.late_items)
        if batch.booking_checked
        else ()
    )


def whole_cover(batch: Batch) -> CoverPart:
    """The whole cover sheet as one part."""
    return CoverPart(True, range(len(batch.handouts)), True, _calls(batch), True)


def _past_warning(batch: Batch | None) -> str | None:
    """The cover sheet's warning about appointments before today, as the other formats say it."""
    from mesocare.render.cover import past_warning

    if batch is None:
        return None
    count = sum(h.past for h in batch.handouts)
    return past_warning(count, batch.lang) if count else None


# --------------------------------------------------------------------------------------------
# Compiling
# --------------------------------------------------------------------------------------------
def font_dir() -> Path:
    """The folder holding the Atkinson Hyperlegible font files of the fontpkg package."""
    try:
        folder = Path(str(resources.files(FONT_PACKAGE) / "files"))
    except ModuleNotFoundError:
        folder = None
    if folder is None or not any(folder.glob("*.ttf")):
        raise MesocareError(
            "the font package fontpkg-atkinson-hyperlegible is not installed: "
            "PDF handouts need it (pip install fontpkg-atkinson-hyperlegible)."
        )
    return folder


def fallback_font_dirs() -> list[Path]:
    """The folders of the fallback font packages (emoji, symbols, other scripts, CJK)."""
    folders = []
    for package in FALLBACK_FONT_PACKAGES:
        try:
            folder = Path(str(resources.files(package)))
        except ModuleNotFoundError:
            raise MesocareError(
                f"the font package {package.replace('_', '-')} is not installed: "
                f"PDF handouts need it (pip install {package.replace('_', '-')})."
            ) from None
        folders.append(folder)
    return folders


@lru_cache(maxsize=1)
def compiler():
    """One Typst compiler for the process: our fonts plus Typst's embedded ones, no system fonts."""
    import typst

    paths = [str(font_dir()), *(str(p) for p in fallback_font_dirs())]
    fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=paths)
    return typst.Compiler(font_paths=fonts, ignore_system_fonts=True)


def creation_timestamp(day: date) -> int:
    """The PDF's creation date: SOURCE_DATE_EPOCH when set, else midnight UTC of ``day``."""
    return int(source_date.stamp(day).timestamp())


def compile_pdf(source: str, day: date, root: str, tags: bool = True) -> bytes:
    """Typeset Typst source to PDF bytes with the shared compiler.

    ``tags`` writes a tagged, accessible PDF that conforms to PDF/UA-1 (Typst checks the
    requirements at export and refuses a document that breaks them). Every handout, batch and
    piece of a long batch is tagged: ``pdf_join`` merges the pieces' structure trees into one.
    """
    import typst

    try:
        with _COMPILE_LOCK:
            pdf = compiler().compile(
                input=source.encode("utf-8"),
                format="pdf",
                timestamp=creation_timestamp(day),
                root=root,
                pdf_tags=tags,
                pdf_standards=[PDF_STANDARD] if tags else [],
            )
    except typst.TypstError as e:
        # The message names the Typst problem; it never quotes the source (patient details).
        raise TemplateError(
            f"the PDF could not be typeset: {getattr(e, 'message', None) or e}"
        ) from None
    if not isinstance(pdf, bytes):
        raise TemplateError("the PDF could not be typeset: Typst returned no document.")
    return pdf


def forget_layouts() -> None:
    """Drop Typst's memoized results so memory stays flat from one chunk to the next.

    The binding evicts results that went unused for 10 compilations after each compilation;
    10 tiny compilations (about 1 ms each) age out everything a big chunk left behind. Fonts stay
    loaded: they belong to the compiler, not to that cache.
    """
    with _COMPILE_LOCK:
        for _ in range(CACHE_AGE):
            compiler().compile(input=b" ", format="pdf", timestamp=0, pdf_tags=False)


def pdf_page_count(data: bytes) -> int:
    """The number of pages of a PDF, read with pikepdf (imported here only)."""
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            return len(pdf.pages)
    except (pikepdf.PdfError, ValueError, KeyError, TypeError) as e:
        raise TemplateError(
            "the PDF could not be assembled: a piece's page count is unreadable "
            f"({type(e).__name__})."
        ) from None
