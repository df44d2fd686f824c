"""Print-ready PDF handouts, typeset with Typst.

A Jinja template (``templates/pdf.typ.j2`` with ``style.typ.j2``, ``cover.typ.j2`` and
``handout.typ.j2``; a clinic's own templates folder is searched first) writes Typst source, and
the ``typst`` package compiles it in memory.

Escaping: every value a template prints becomes a Typst value, never markup (see
``typst_values``, whose names are re-exported here).

Fonts come from the ``fontpkg-atkinson-hyperlegible`` package (it covers Latin accents, °, ≥,
≤, en and em dashes, curly quotes, €, £, µ, ½), with Typst's own embedded fonts (DejaVu Sans Mono,
New Computer Modern) as the fallback for rarer signs such as arrows, then the Noto fonts of
``manimgx-fonts`` (Noto Emoji, Noto Sans Symbols, other scripts) and ``manimgx-fonts-cjk``
(Chinese, Japanese, Korean), so every name prints as typed; never fonts from the machine.
The document date is fixed (``source_date.stamp``: SOURCE_DATE_EPOCH when set, else the
handout's or batch's ``today``), so the same input gives the same bytes on every machine.

Page numbers: each handout (and the cover sheet) is a run of pages; one document-wide footer
finds its run from metadata markers and prints "Page N of M" counted within that run.

Batches: up to ``CHUNK_SIZE`` handouts make one Typst document (cover sheet first); a larger
batch is typeset in pieces that Typst then assembles into one PDF (see ``render_batch``), so
memory stays flat however long the day is. One compiler, with its fonts loaded once, is reused
for every document in the process.
"""

from __future__ import annotations

import io
import os
import threading
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

from mesocare.errors import MesocareError, TemplateError
from mesocare.model import Batch, Clinic, Handout
from mesocare.render import source_date
from mesocare.render.typst_values import TypstCode, typst_string, typst_value  # noqa: F401 (re-exported)

DOCUMENT_TEMPLATE = "pdf.typ.j2"
FONT_PACKAGE = "fontpkg_atkinson_hyperlegible"
# fallback fonts (emoji, symbols, other scripts; CJK): folders of font files inside packages
FALLBACK_FONT_PACKAGES = ("manimgx_fonts", "manimgx_fonts_cjk")
# a paper size (vocab.PAPER_SIZES) -> Typst's paper name
TYPST_PAPER: dict[str, str] = {"A4": "a4", "Letter": "us-letter"}

CHUNK_SIZE = 50  # handouts per Typst document in a large batch (memory stays flat)
CACHE_AGE = 10  # the typst binding keeps memoized results for 10 compilations
BATCH_TITLE = "Mesotherapy handouts"  # a gettext msgid (mesocare.lang.ui)
HANDOUT_TITLE = "Your mesotherapy care instructions"

_COMPILE_LOCK = threading.RLock()


# --------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def typst_environment(clinic_dir: str | None):
    """The shared Jinja environment for ``clinic_dir``, with every printed value made a Typst value."""
    from mesocare.render.templating import environment

    base = environment(clinic_dir)
    base.filters["typst"] = typst_value
    # Own template cache: a template compiled by the base environment has no finalize.
    return base.overlay(finalize=typst_value, cache_size=64)


def _render_source(clinic: Clinic, **context) -> str:
    from mesocare.render.templating import render_template

    env = typst_environment(clinic.templates_dir)
    return render_template(DOCUMENT_TEMPLATE, clinic.templates_dir, env=env, **context)


def paper_name(clinic: Clinic, paper: str | None = None) -> str:
    """Typst's paper name for the ``paper`` option, else the clinic's setting: "a4" or "us-letter"."""
    from mesocare.parse import parse_paper

    return TYPST_PAPER[parse_paper(paper or clinic.paper or "A4")]


def typst_source(
    handouts: tuple[Handout, ...] | list[Handout],
    clinic: Clinic,
    batch: Batch | None = None,
    duplex: bool = False,
    paper: str | None = None,
    title: str | None = None,
) -> str:
    """The Typst document for some handouts, after a cover sheet for ``batch`` when given.

    Each handout speaks its own language (its words, and Typst's ``lang`` for its pages); the
    document's language is the cover sheet's (the clinic's) in a batch, else the handout's.
    """
    from mesocare import lang as languages
    from mesocare.lang import ui

    handouts = tuple(handouts)
    if batch is not None or not handouts:
        doc = languages.get(clinic.language)
    else:
        doc = languages.get(handouts[0].language)
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
        doc_region=ui.typst_region(doc),
        words=[ui.pdf_handout_words(h) for h in handouts],
        cover_words=ui.pdf_cover_words(batch) if batch is not None else None,
    )


def _past_warning(batch: Batch | None) -> str | None:
    """The cover sheet's warning about appointments before today, as the other formats say it."""
    from mesocare.render.cover import past_warning

    from mesocare import lang as languages

    count = sum(h.past for h in batch.handouts) if batch is not None else 0
    return past_warning(count, languages.get(batch.clinic.language)) if count else None


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
                f"the font package {package.replace('_', '-')} is not installed: PDF handouts need it "
                f"(pip install {package.replace('_', '-')})."
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


def _template_root(clinic: Clinic) -> str:
    """Files a template reads (a logo) are looked up in the clinic's templates folder, else ours."""
    from mesocare.resources import templates_dir

    return str(Path(clinic.templates_dir) if clinic.templates_dir else templates_dir())


def compile_pdf(source: str, day: date, root: str, tags: bool = True) -> bytes:
    """Typeset Typst source to PDF bytes with the shared compiler.

    ``tags`` writes a tagged (accessible) PDF; chunks of a large batch skip it, since they end up
    as page images in the assembled document anyway.
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
            )
    except typst.TypstError as e:
        # The message names the Typst problem; it never quotes the source (patient details).
        raise TemplateError(f"the PDF could not be typeset: {getattr(e, 'message', None) or e}") from None
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
    """The number of pages of a PDF, read with pypdf (imported here only: large batches need it)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        return len(PdfReader(io.BytesIO(data)).pages)
    except (PyPdfError, ValueError, KeyError, TypeError) as e:
        raise TemplateError(f"the PDF could not be assembled: a piece's page count is unreadable ({type(e).__name__}).") from None


def assembly_source(chunks: list[tuple[str, int]], paper: str, title: str, author: str, duplex: bool) -> str:
    """A Typst document that places every page of the chunk PDFs, in order, full size.

    ``chunks`` are (file name, page count) pairs; with ``duplex`` a chunk with an odd number of
    pages is followed by a blank page, so each chunk (and each handout in it) starts on an odd
    page of the whole document.
    """
    lines = [
        f"#set document(title: {typst_string(title)}, author: {typst_string(author)})",
        f"#set page(paper: {typst_string(paper)}, margin: 0pt)",
    ]
    for name, count in chunks:
        for number in range(1, count + 1):
            lines.append(
                f"#page(place(top + left, image({typst_string(name)}, format: \"pdf\", page: {number}, "
                "width: 100%, height: 100%)))"
            )
        if duplex and count % 2:
            lines.append("#page[]")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# The renderer interface
# --------------------------------------------------------------------------------------------
def render(handout: Handout, paper: str | None = None, **options) -> bytes:
    """One patient's handout as a PDF (A4 or Letter from the clinic, unless ``paper`` is given).

    Other options that the CLI passes to every format are accepted and ignored.
    """
    source = typst_source([handout], handout.clinic, paper=paper)
    return compile_pdf(source, handout.today, _template_root(handout.clinic))


def _compile_piece(source: str, day: date, root: str) -> bytes:
    """One piece of a large batch (run in a worker process, or here)."""
    data = compile_pdf(source, day, root, tags=False)
    forget_layouts()
    return data


def workers(pieces: int) -> int:
    """How many processes typeset a large batch: one per core, at most 4
    (``MESOCARE_PDF_WORKERS`` overrides; 1 typesets in this process)."""
    wanted = os.environ.get("MESOCARE_PDF_WORKERS", "").strip()
    count = int(wanted) if wanted.isdigit() and int(wanted) > 0 else min(os.cpu_count() or 1, 4)
    return max(1, min(count, pieces - 1))


def _compile_pieces(sources, count: int, day: date, root: str):
    """Typeset the pieces in order, in parallel worker processes when there are cores to spare.

    Workers are spawned (not forked: the Typst compiler of this process may already hold
    threads); each keeps its own compiler for all the pieces it is given. At most two pieces
    per worker are in flight, so memory stays flat however long the list.
    """
    n = workers(count)
    if n <= 1:
        for source in sources:
            yield _compile_piece(source, day, root)
        return
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending: deque = deque()
        for source in sources:
            pending.append(pool.submit(_compile_piece, source, day, root))
            if len(pending) >= 2 * n:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def render_batch(batch: Batch, duplex: bool = False, paper: str | None = None, progress=None, **options) -> bytes:
    """A cover sheet for the nurse, then every handout starting on a new sheet, as ONE PDF.

    With ``duplex=True`` the cover and every handout start on an odd page (a blank page is added
    where needed), so two patients never share a sheet printed on both sides.

    Up to ``CHUNK_SIZE`` handouts are one tagged Typst document. A larger batch is typeset in
    pieces (the cover sheet, then ``CHUNK_SIZE`` handouts at a time) with Typst's memory released
    after each piece, and Typst itself then places the pieces' pages, in order, into one document
    (PDF pages as images: text stays vector and searchable, but that document is not tagged).
    pypdf counts each piece's pages.

    ``progress(done, total)``, when given, is called as handouts are typeset.
    """
    clinic = batch.clinic
    root = _template_root(clinic)
    handouts = tuple(batch.handouts)
    if len(handouts) <= CHUNK_SIZE:
        source = typst_source(handouts, clinic, batch=batch, duplex=duplex, paper=paper)
        return compile_pdf(source, batch.today, root)

    import tempfile

    pieces = [((), batch)] + [(handouts[i : i + CHUNK_SIZE], None) for i in range(0, len(handouts), CHUNK_SIZE)]
    sources = (
        typst_source(part, clinic, batch=cover, duplex=duplex, paper=paper, title=BATCH_TITLE) for part, cover in pieces
    )
    with tempfile.TemporaryDirectory(prefix="mesocare-pdf-") as folder:
        chunks: list[tuple[str, int]] = []
        try:
            for number, data in enumerate(_compile_pieces(sources, len(pieces), batch.today, root)):
                if progress is not None:
                    progress(sum(len(part) for part, _ in pieces[: number + 1]), len(handouts))
                name = f"part-{number:05d}.pdf"
                Path(folder, name).write_bytes(data)
                chunks.append((name, pdf_page_count(data)))
            whole = assembly_source(chunks, paper_name(clinic, paper), BATCH_TITLE, clinic.name, duplex)
            return compile_pdf(whole, batch.today, folder, tags=False)
        finally:
            forget_layouts()
