"""Join a batch's typeset pieces into one PDF on disk, keeping one outline entry per patient (pikepdf).

A long batch is typeset in pieces (see ``pdf.batch_pdf``): PDF files that Typst wrote, the cover
sheet first, then ``CHUNK_SIZE`` handouts each. Each run of pages (the cover sheet, each handout)
carries a bookmark (``mc-run``'s ``bookmark``: the cover sheet; a handout's time and patient),
so each piece's outline already points at the first page of each of its runs, as Typst laid it
out.

The join copies every page, in order, after the first piece's (its catalog stays: document
title, language, metadata), adds a blank page after a piece with an odd number of pages when the
batch is printed on both sides (so every piece starts on an odd page), and writes one outline:
every piece's entries, in order, pointing at the same pages in the joined document. qpdf copies
page content lazily from the piece files while it writes, so memory holds the page tree, not the
pages. The file is saved with a deterministic id: the same pieces give the same bytes.

pikepdf is imported only here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

NPAGES = "{http://ns.adobe.com/xap/1.0/t/pg/}NPages"


def outline_entries(pdf) -> list[tuple[str, int]]:
    """(title, page index) of each top-level outline entry of ``pdf``, in order."""
    import pikepdf

    where = {page.objgen: index for index, page in enumerate(pdf.pages)}
    entries = []
    with pdf.open_outline() as outline:
        for item in outline.root:
            target = item.destination
            if isinstance(target, pikepdf.Array) and len(target) and target[0].objgen in where:
                entries.append((item.title, where[target[0].objgen]))
    return entries


def join(pieces: Sequence[Path], out: Path, duplex: bool = False) -> None:
    """Join the PDF files ``pieces``, in order, into the file ``out``, with their outlines.

    Pages are copied into the first piece's page tree directly (``copy_foreign`` and its
    ``/Kids``): pikepdf's page list would update itself for every page added, which costs
    time in proportion to the pages already there.
    """
    import pikepdf

    first = pikepdf.open(pieces[0])
    sources = []  # open until the output is saved: their pages' content is copied while writing
    try:
        tree = first.Root.Pages
        pages = [page.obj for page in first.pages]
        for page in pages:
            page.Parent = tree
        entries = outline_entries(first)
        size = tuple(float(x) for x in first.pages[0].mediabox)[2:] if pages else (595.28, 841.89)

        def pad() -> None:
            if duplex and len(pages) % 2:
                blank = first.make_indirect(pikepdf.Dictionary(
                    Type=pikepdf.Name.Page, MediaBox=pikepdf.Array([0, 0, *size]), Resources=pikepdf.Dictionary(),
                    Parent=tree,
                ))
                pages.append(blank)

        pad()
        for path in pieces[1:]:
            src = pikepdf.open(path)
            sources.append(src)
            offset = len(pages)
            entries += [(title, page + offset) for title, page in outline_entries(src)]
            for page in src.pages:
                copied = first.copy_foreign(page.obj)
                copied.Parent = tree
                pages.append(copied)
            pad()
        tree.Kids = pikepdf.Array(pages)
        tree.Count = len(pages)
        with first.open_outline() as outline:
            outline.root[:] = [
                pikepdf.OutlineItem(title, pikepdf.Array([pages[page], pikepdf.Name.Fit])) for title, page in entries
            ]
        if "/Metadata" in first.Root:
            with first.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
                if NPAGES in meta:
                    meta[NPAGES] = str(len(pages))
        # streams are copied as Typst compressed them (not decoded and compressed again)
        first.save(out, deterministic_id=True, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    finally:
        first.close()
        for src in sources:
            src.close()
