"""Print-ready PDF handouts, typeset with Typst: the PDF format (``render`` and
``render_batch``), and ``batch_pdf``, which typesets a long batch in pieces.

The Typst source, its fonts and its compilation are ``typst_doc``'s; this module decides what
each document holds and joins the pieces.

Batches: up to ``CHUNK_SIZE`` handouts make one Typst document (cover sheet first); a longer
list is typeset in pieces as its handouts come, and the piece files are joined on disk into one
tagged PDF/UA-1 document, one structure tree (see ``batch_pdf`` and ``pdf_join``), so memory
stays flat however long the list. Every
batch PDF has an outline entry per patient (time and name). One compiler, with its fonts loaded
once, is reused for every document in the process.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from mesocare.lang.language import Language
from mesocare.lang.ui import N_
from mesocare.model import Batch, Clinic, Handout
from mesocare.render.typst_doc import (
    BATCH_TITLE,
    CoverPart,
    compile_pdf,
    forget_layouts,
    pdf_page_count,
    typst_source,
    whole_cover,
)

CHUNK_SIZE = 50  # handouts per Typst document in a large batch (memory stays flat)
COVER_PART_LINES = 2000  # lines (patients listed, patients to phone) per part of a long cover sheet


def cover_parts(batch: Batch, lines: int | None = None) -> list[CoverPart]:
    """The cover sheet of ``batch`` cut into parts of at most ``lines`` lines, in order: the list of
    patients, then the patients to phone, then the skipped rows (counted as one line). A long
    list's cover sheet is typeset in parts so that no process lays out a 10,000-row table; the
    parts follow each other in the joined file as one run of pages."""
    lines = lines or COVER_PART_LINES
    n, calls = len(batch.handouts), whole_cover(batch).calls
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


def _template_root(clinic: Clinic) -> str:
    """Files a template reads (a logo) are looked up in the clinic's templates folder, else ours."""
    from mesocare.resources import templates_dir

    return str(Path(clinic.templates_dir) if clinic.templates_dir else templates_dir())


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

    def run(self, jobs, waiting=None):
        """Typeset the jobs ``(source, path, tag, last)`` in order; yields ``(path, tag)`` in the
        same order, each once its file is written. At most two pieces per worker are in flight, so
        memory stays flat however long the list; what is done with a piece (joining it) runs
        here while the workers typeset the next ones, and ``waiting()`` while they typeset the
        first ones. ``last``: the batch's last piece, after which a worker's memoized layouts are
        not dropped (it ends with the batch; 80 ms saved); in this process they always are."""
        alone = self.pool.n <= 1
        calls = (
            ((source, self.day, self.root, path, alone or not last), tag)
            for source, path, tag, last in jobs
        )
        return self.pool.ordered(_compile_piece, calls, waiting)


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
        # the join's library is loaded while the workers typeset the first pieces, not after
        for path, tag in typeset.run(jobs(), waiting=pdf_join.prepare):
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
