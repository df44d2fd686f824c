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

Batches: up to ``CHUNK_SIZE`` handouts make one Typst document (cover sheet first); a longer
list is typeset in pieces as its handouts come, and the piece files are joined on disk into one
tagged PDF/UA-1 document, one structure tree (see ``batch_pdf`` and ``pdf_join``), so memory
stays flat however long the list. Every
batch PDF has an outline entry per patient (time and name). One compiler, with its fonts loaded
once, is reused for every document in the process.
"""

from __future__ import annotations

import io
import itertools
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from mesocare.errors import MesocareError, TemplateError
from mesocare.lang.language import Language
from mesocare.lang.ui import N_
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
PDF_STANDARD = "ua-1"  # tagged documents are exported as PDF/UA-1
BATCH_TITLE = N_("Mesotherapy handouts")
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
    env = base.overlay(finalize=typst_value, cache_size=64)
    env.filters = dict(env.filters, calendar=_calendar_value)
    return env


def _calendar_value(handout: Handout, locale: str | None = None) -> TypstCode:
    """The ``calendar`` filter: a handout's calendar picture as a Typst dictionary."""
    from mesocare.render.calendar_typst import code

    return TypstCode(code(handout, locale))


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


COVER_PART_LINES = 2000  # lines (patients listed, patients to phone) per part of a long cover sheet


@dataclass(frozen=True)
class CoverPart:
    """Which part of a cover sheet one document holds (see ``cover_parts``): ``head`` (the
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


def cover_parts(batch: Batch, lines: int | None = None) -> list[CoverPart]:
    """The cover sheet of ``batch`` cut into parts of at most ``lines`` lines, in order: the list of
    patients, then the patients to phone, then the skipped rows (counted as one line). A long
    list's cover sheet is typeset in parts so that no process lays out a 10,000-row table; the
    parts follow each other in the joined file as one run of pages."""
    lines = lines or COVER_PART_LINES
    n, calls = len(batch.handouts), _calls(batch)
    total = n + len(calls) + 1
    parts = []
    for start in range(0, total, lines):
        stop = min(start + lines, total)
        parts.append(
            CoverPart(
                head=start == 0,
                rows=range(start, min(stop, n)) if start < n else range(0),
                call_head=start <= n < stop,
                calls=calls[max(start - n, 0) : max(stop - n, 0)],
                tail=start <= n + len(calls) < stop,
            )
        )
    return parts


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
            f"the PDF could not be assembled: a piece's page count is unreadable ({type(e).__name__})."
        ) from None


# --------------------------------------------------------------------------------------------
# The renderer interface
# --------------------------------------------------------------------------------------------
def render(handout: Handout, paper: str | None = None, **options) -> bytes:
    """One patient's handout as a PDF (A4 or Letter from the clinic, unless ``paper`` is given).

    Other options that the CLI passes to every format are accepted and ignored.
    """
    source = typst_source([handout], handout.clinic, paper=paper)
    return compile_pdf(source, handout.today, _template_root(handout.clinic))


def _compile_piece(source: str, day: date, root: str, path: str, forget: bool = True) -> str:
    """Typeset one piece of a batch, tagged (PDF/UA-1), to the file ``path`` (run in a worker
    process, or here); then Typst's memoized layouts are dropped, unless ``forget`` is False (the
    batch's last piece, in a worker that ends with the batch: its memory goes with it)."""
    Path(path).write_bytes(compile_pdf(source, day, root))
    if forget:
        forget_layouts()
    return path


def workers(pieces: int) -> int:
    """How many processes typeset a large batch: one per core, at most 4
    (``MESOCARE_PDF_WORKERS`` overrides, see ``mesocare.workers``; 1 typesets in this process)."""
    from mesocare.workers import wanted

    return max(1, min(wanted(), pieces - 1))


def _worker_start(threads: int) -> None:
    """A worker process's set-up: Typst's own threads (rayon's pool, made at the first
    compilation) share the cores with the other workers, so none waits on a busy core
    (``RAYON_NUM_THREADS``, when set, is kept)."""
    os.environ.setdefault("RAYON_NUM_THREADS", str(threads))


class _Typesetter:
    """Typesets pieces of a batch to files, in parallel worker processes when there are cores to
    spare (``pieces``: how many there will be, about), else in this process.

    The workers (``mesocare.workers.Pool``: spawned, ended with this process) each keep their
    own compiler for all the pieces they are given, and the pool serves every ``run`` of the
    batch (the cover sheet's second pass too). Each worker's Typst gets its share of the cores
    for its own threads (one each on two cores): more threads than cores spin waiting for one
    another, and a batch took about 15% longer so.
    """

    def __init__(self, day: date, root: str, pieces: int):
        from mesocare.workers import Pool

        self.day, self.root = day, root
        n = workers(pieces)
        threads = max(1, (os.cpu_count() or 1) // n)  # one per core, cores shared out
        self.pool = Pool(n, _worker_start, (threads,))

    def __enter__(self) -> _Typesetter:
        self.pool.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.pool.__exit__(*exc)

    def run(self, jobs):
        """Typeset the jobs ``(source, path, tag, last)`` in order; yields ``(path, tag)`` in the
        same order, each once its file is written. At most two pieces per worker are in flight, so
        memory stays flat however long the list; what is done with a piece (joining it) runs
        here while the workers typeset the next ones. ``last``: the batch's last piece, after
        which a worker's memoized layouts are not dropped (it ends with the batch; 80 ms saved);
        in this process they always are."""
        alone = self.pool.n <= 1
        calls = (
            ((source, self.day, self.root, path, alone or not last), tag)
            for source, path, tag, last in jobs
        )
        return self.pool.ordered(_compile_piece, calls)


def _light(h: Handout) -> Handout:
    """What the cover sheet and the outline need of a handout: its time, patient, area and late
    steps (kept for every patient while the rest of the list is typeset)."""
    return replace(h, items=h.late_items, notes=(), banners=(), banner_parts=(), warnings=())


def outline_titles(handouts: Iterable[Handout], dated: bool, lang: Language) -> list[str]:
    """One outline entry per handout, in the cover sheet's language (the clinic's): its time and
    patient ("10:00 Ana Lopez"), after the day ("Monday 10 June 2024, 10:00 Ana Lopez") when
    ``dated`` (the batch spans several days)."""
    from mesocare.render.cover import who

    titles = []
    for h in handouts:
        at = lang.clock(h.start) if h.timed else lang.gettext("no time")
        titles.append(f"{lang.day(h.start.date()) + ', ' if dated else ''}{at} {who(h, lang)}")
    return titles


COVER_TITLE = N_("Cover sheet")  # the outline entry of a batch PDF's cover sheet


def _cover_title(lang: Language) -> str:
    return lang.gettext(COVER_TITLE)


def batch_pdf(
    handouts: Iterable[Handout],
    cover: Callable[[tuple[Handout, ...]], Batch],
    folder: str | Path,
    duplex: bool = False,
    paper: str | None = None,
    progress=None,
    total: int | None = None,
    dated: bool | None = None,
) -> Path:
    """A cover sheet for the nurse, then every handout starting on a new sheet, as ONE PDF file
    in ``folder`` (returned), with an outline entry per patient (time and name).

    ``handouts`` are read once, in order; ``cover(handouts)`` is then asked for the Batch the
    cover sheet shows (the whole list's summary; for a long list its handouts carry only what the
    cover sheet needs). ``dated``: the list spans several days, so outline entries name the day
    too (default: found from the list when it is short, else True). With ``duplex=True`` the
    cover and every handout start on an odd page (a blank page is added where needed), so two
    patients never share a sheet printed on both sides.

    Up to ``CHUNK_SIZE`` handouts are one tagged Typst document. A longer list is typeset in
    tagged pieces of ``CHUNK_SIZE`` handouts as they come (in worker processes, Typst's memory
    released after each piece), each piece a file in ``folder``, and ``pdf_join`` adds each piece
    to the joined file (one tagged PDF/UA-1 document, one structure tree) as soon as it is
    typeset, while the workers typeset the next ones. The cover sheet is typeset last, once the
    whole list is known, and placed first; a cover sheet of more than ``COVER_PART_LINES`` lines
    is typeset in parts (``cover_parts``), twice: once to count each part's pages, then with the
    footer's page numbers of the whole. Memory stays flat however long the list: each process
    holds a piece at a time, and this one a few strings per patient and numbers per page.
    ``progress(done, total)``, when given, is called as handouts are typeset.
    """
    folder = Path(folder)
    handouts = iter(handouts)
    head = tuple(itertools.islice(handouts, CHUNK_SIZE + 1))
    out = folder / "batch.pdf"
    if len(head) <= CHUNK_SIZE:
        batch = cover(head)
        several = len({h.start.date() for h in head}) > 1 if dated is None else dated
        bookmarks: list[str | None] = [
            _cover_title(batch.lang),
            *outline_titles(head, several, batch.lang),
        ]
        source = typst_source(
            head, batch.clinic, batch=batch, duplex=duplex, paper=paper, bookmarks=bookmarks
        )
        out.write_bytes(compile_pdf(source, batch.today, _template_root(batch.clinic)))
        return out

    from mesocare.render import pdf_join, pdf_words

    several = True if dated is None else dated
    light: list[Handout] = []
    first = cover(())  # the clinic and today; the summary comes at the end
    clinic, today, root, lang = first.clinic, first.today, _template_root(first.clinic), first.lang
    # every piece is typeset in the cover sheet's language (the joined document's); each handout
    # still speaks its own
    common: dict[str, Any] = {
        "clinic": clinic,
        "duplex": duplex,
        "paper": paper,
        "title": BATCH_TITLE,
        "lang": lang,
    }
    cover_bookmark = [_cover_title(lang)]
    whole: list[Batch] = []  # the cover sheet's Batch, once the list is read
    parts: list[CoverPart] = []
    words: list[dict] = []  # the cover sheet's words, made once for all its parts

    def jobs():
        pending = itertools.chain(head, handouts)
        for number in itertools.count(1):
            chunk = tuple(itertools.islice(pending, CHUNK_SIZE))
            if not chunk:
                break
            light.extend(_light(h) for h in chunk)
            bookmarks = [None, *outline_titles(chunk, several, lang)]
            yield (
                typst_source(chunk, bookmarks=bookmarks, **common),
                str(folder / f"part-{number:06d}.pdf"),
                "piece",
                False,
            )
        whole.append(cover(tuple(light)))
        parts.extend(cover_parts(whole[0]) if _split_cover(clinic) else [whole_cover(whole[0])])
        if len(parts) == 1:
            yield (
                _cover_source(whole[0], parts[0], cover_bookmark, common),
                str(folder / "part-000000.pdf"),
                "cover",
                True,
            )
            return
        # a long cover sheet: typeset once to count each part's pages, then again (below) with
        # the page numbers of the whole
        words.append(pdf_words.cover_words(whole[0]))
        for k, part in enumerate(parts):
            yield (
                _cover_source(whole[0], part, cover_bookmark, common, words[0]),
                str(folder / f"count-{k:06d}.pdf"),
                "count",
                False,
            )

    expected = -(-max(total or 0, len(head)) // CHUNK_SIZE) + 1  # the pieces, the cover sheet's too
    pieces = 0
    with (
        _Typesetter(today, root, expected) as typeset,
        pdf_join.Joined(out, duplex=duplex) as joined,
    ):
        counted: list[Path] = []
        for path, tag in typeset.run(jobs()):
            if tag == "piece":
                joined.add(Path(path))
                pieces += 1
                if progress is not None:
                    done = min(pieces * CHUNK_SIZE, len(light))
                    progress(done, max(total or 0, done))
            elif tag == "cover":
                joined.add(Path(path), front=True)
            else:
                counted.append(Path(path))
        if counted:
            counts = [pdf_page_count(path.read_bytes()) for path in counted]
            for path in counted:
                path.unlink()
            numbered = [
                replace(part, first_page=1 + sum(counts[:k]), pages=sum(counts))
                for k, part in enumerate(parts)
            ]
            again = (
                (
                    _cover_source(whole[0], part, cover_bookmark, common, words[0]),
                    str(folder / ("part-000000.pdf" if k == 0 else f"cover-{k:06d}.pdf")),
                    "cover",
                    k == len(numbered) - 1,
                )
                for k, part in enumerate(numbered)
            )
            for path, _ in typeset.run(again):
                joined.add(Path(path), front=True)
        joined.finish()
    return out


def _cover_source(
    batch: Batch, part: CoverPart, bookmarks, common: dict, words: dict | None = None
) -> str:
    return typst_source(
        (), batch=batch, bookmarks=bookmarks, part=part, cover_words=words, **common
    )


def _split_cover(clinic: Clinic) -> bool:
    """A long cover sheet is typeset in parts, unless the clinic's own templates draw it (theirs
    may not know the parts, nor the footer's page numbers across them)."""
    if not clinic.templates_dir:
        return True
    own = Path(clinic.templates_dir)
    return not any((own / name).exists() for name in ("cover.typ.j2", "style.typ.j2", "pdf.typ.j2"))


def render_batch(
    batch: Batch, duplex: bool = False, paper: str | None = None, progress=None, **options
) -> bytes:
    """The batch as one PDF (see ``batch_pdf``), in memory."""
    from mesocare import scratch

    with scratch.folder("pdf") as folder:
        path = batch_pdf(
            batch.handouts,
            lambda light: batch,
            folder,
            duplex=duplex,
            paper=paper,
            progress=progress,
            total=len(batch.handouts),
        )
        return path.read_bytes()
