"""Join a batch's typeset pieces into one tagged PDF/UA-1 file, streamed to disk.

A long batch is typeset in pieces (see ``pdf.batch_pdf``): tagged PDF/UA-1 files that Typst
wrote, the cover sheet first, then ``CHUNK_SIZE`` handouts each. Each run of pages (the cover
sheet, each handout) carries a bookmark, so each piece's outline already points at the first
page of each of its runs.

The joined file is ONE tagged document: every page in order under one page tree, and one
outline (``pages_outline``); one structure tree (``structure``); the cover sheet's catalog
(title shown by viewers, ``/Lang``, ``/MarkInfo``, ``/ViewerPreferences``...) and its XMP
metadata (PDF/UA-1 identification) with the page count of the whole file.

Each object of a piece that the join leaves as it is goes into the joined file as the piece
wrote it: its bytes (found through the piece's cross-reference table, ``_own_texts``) with its
references given the joined file's numbers (``renumber``, a tokenizer that skips strings and
refuses what it does not understand), all of a piece's objects in one pass. pikepdf opens the
piece and reads only what the join needs or changes: the catalog, the page tree and the pages
(their parent, their keys into the parent tree), the structure tree's root, top-level elements
and number and name trees, the streams, and any object whose bytes the tokenizer does not
read; an object the join changed, or could not read, is written as qpdf writes it
(``unparse``). Having qpdf parse and write every object of a piece instead cost about twice the
join's CPU (docs/design/typst.md); both give the same objects (tests/test_pdf_join.py).
``objects.Serializer`` writes the joined file's own objects that come from a piece's. The
pieces are opened one at a time and closed once written, so memory stays flat however many
(holding them all in one pikepdf document until it is saved took about 20 MB a piece). The
file's id is a hash of its content: the same pieces give the same bytes.

pikepdf is imported only here.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Self

from mesocare.render.pdf_join.objects import (
    CATALOG,
    DOCUMENT,
    METADATA,
    OUTLINES,
    PAGES,
    STRUCT_ROOT,
    Renumbering,
    Serializer,
    Writer,
    keys,
)
from mesocare.render.pdf_join.pages_outline import Pages, outline_entries, outline_items
from mesocare.render.pdf_join.structure import Structure, prefixed_ids, top_level

__all__ = ["NPAGES", "Joined", "join", "outline_entries", "prepare"]

NPAGES = "{http://ns.adobe.com/xap/1.0/t/pg/}NPages"


def prepare() -> None:
    """Load pikepdf ahead of the first piece (about 65 ms), e.g. while the pieces are typeset."""
    import pikepdf  # noqa: F401


def _own_texts(src, data: bytes) -> dict[tuple[int, int], bytes | None]:
    """Each object of the piece (number, generation), in order: its text as the piece wrote it
    (``data``, the piece's bytes: what sits between ``obj`` and ``endobj``), or None where it is
    read through pikepdf: a stream, an object inside an object stream, an object whose bytes
    hold ``stream`` or a second ``endobj`` (a stream, or a string that reads so), an object not
    where the cross-reference table says."""
    xref = src.get_xref_table()
    placed = sorted((entry.offset, objgen) for objgen, entry in xref.items() if entry.type == 1)
    own: dict[tuple[int, int], bytes | None] = dict.fromkeys(sorted(xref))
    find = data.find
    for k, (offset, objgen) in enumerate(placed):
        end = placed[k + 1][0] if k + 1 < len(placed) else len(data)
        head = b"%d %d obj" % objgen
        if not data.startswith(head, offset) or find(b"stream", offset, end) >= 0:
            continue
        start = offset + len(head)
        close = find(b"endobj", start, end)
        if close >= 0 and find(b"endobj", close + 6, end) < 0:
            own[objgen] = data[start:close]
    return own


def _numbering(src, data: bytes, w: Writer) -> tuple[dict[int, int], list, list, list, list]:
    """The piece's object numbers -> the joined file's; the streams to write (pikepdf objects);
    the other objects to write, in order, each (its number in the piece, in the joined file, its
    text as the piece wrote it or its pikepdf object); the numbers of the piece's top-level
    structure elements; its ``Document`` elements."""
    import pikepdf

    root = src.Root
    struct = root.get("/StructTreeRoot")
    skip = {root.objgen, root.Pages.objgen} | outline_items(root)
    for obj in (src.trailer.get("/Info"), root.get("/Metadata"), struct):
        if obj is not None and obj.is_indirect:
            skip.add(obj.objgen)
    number = {root.Pages.objgen[0]: PAGES}
    kids, documents = top_level(struct) if struct is not None else ([], [])
    for element in [struct, *documents] if struct is not None else []:
        skip.add(element.objgen)  # what sat at the top sits in the one Document
        number[element.objgen[0]] = DOCUMENT
    streams: list = []
    rest: list = []  # [number in the piece, number in the joined file, text or object]
    stream, left = pikepdf.ObjectType.stream, ("/ObjStm", "/XRef")
    following = w.next
    for objgen, text in _own_texts(src, data).items():
        if objgen in skip or objgen[0] in number:
            continue
        if objgen[1] != 0:
            raise ValueError("a piece has an object of a generation other than 0")
        if text is None:
            obj = src.get_object(objgen)
            if obj._type_code != stream:  # noqa: SLF001
                rest.append([objgen[0], following, obj])
            elif obj.stream_dict.get("/Type") in left:
                continue
            else:
                streams.append(obj)
        else:
            rest.append([objgen[0], following, text])
        number[objgen[0]] = following
        following += 1
    w.reserve_many(following - w.next)
    return number, streams, rest, kids, documents


class _Join:
    """The joined file being written: the state kept from one piece to the next."""

    def __init__(self, writer: Writer, duplex: bool):
        self.w = writer
        self.pages = Pages(writer, duplex)
        self.structure = Structure(writer)
        self.count = 0  # pieces written

    def piece(self, src, data: bytes, front: bool, first: bool) -> dict:
        """Write the piece ``src`` (``data``: its bytes): a piece of the front run (the cover
        sheet: its pieces go first in the joined file, in the order they come) or of the rest (in
        the order they come). ``first``: the front run's first piece, whose catalog the joined
        file takes (returned)."""
        w, index, side = self.w, self.count, 0 if front else 1
        self.count += 1
        root = src.Root
        struct = root.get("/StructTreeRoot")
        number, streams, rest, kids, documents = _numbering(src, data, w)
        nowhere = w.reserve()  # a reference to an object left out: "null" (none is expected)
        # the piece's IDs get its number, the front run's sorting first (the ID tree is in order)
        prefix = (b"a%06d-" if front else b"p%06d-") % index
        ids = prefixed_ids(struct, prefix) if struct is not None else []
        serial = Serializer(number, nowhere, {old: new for new, old, _ in ids})
        shift = self.structure.next_key
        changed = self.pages.add(src, number, side, shift)
        writer = Renumbering(serial)
        if struct is not None:
            changed |= self.structure.speak(src, kids, index == 0)
            self.structure.add(struct, kids, side, shift, writer, ids, prefix)
        for entry in rest:  # an object the join changed is written as pikepdf now has it
            if entry[0] in changed and type(entry[2]) is bytes:
                entry[2] = src.get_object(entry[0], 0)
        raws = [obj.read_raw_bytes() for obj in streams]
        heads = [obj.stream_dict for obj in streams]
        for head, raw in zip(heads, raws, strict=True):
            head.Length = len(raw)
        for obj, head, raw in zip(streams, writer.bodies(heads), raws, strict=True):
            w.stream(number[obj.objgen[0]], head, raw)
        bodies = writer.bodies(
            [entry[2] for entry in rest], lambda k: src.get_object(rest[k][0], 0)
        )
        w.objs([(entry[1], body) for entry, body in zip(rest, bodies, strict=True)])
        w.obj(nowhere, b"null")
        if not front:
            self.pages.pad(side)  # the next piece starts on a new sheet
        if not first:
            return {}
        info = src.trailer.get("/Info")
        text = serial.body
        return {
            "catalog": {
                key: text(value)
                for key, value in root.items()
                if key not in ("/Type", "/Pages", "/StructTreeRoot", "/Outlines", "/Metadata")
            },
            "document": {
                key: text(value)
                for key, value in (documents[0].items() if documents else [])
                if key not in ("/K", "/P")
            },
            "info": text(info) if info is not None else None,
            "xmp": root.Metadata.read_bytes() if "/Metadata" in root else None,
        }

    def finish(self, cover: dict) -> None:
        """The joined file's own objects: page tree, outline, structure tree, catalog, metadata
        (the front run's first piece's, ``cover``, with the joined file's page count)."""
        import pikepdf

        w = self.w
        count = self.pages.finish()
        self.structure.finish(keys(cover["document"], ("/Type", "/S")))
        catalog = b"<< /Type /Catalog /Pages %d 0 R /StructTreeRoot %d 0 R /Outlines %d 0 R" % (
            PAGES,
            STRUCT_ROOT,
            OUTLINES,
        )
        if self.structure.lang is not None:
            cover["catalog"]["/Lang"] = pikepdf.String(self.structure.lang).unparse()
        if cover["xmp"] is not None:
            head, raw = _counted(cover["xmp"], count)
            w.stream(METADATA, head, raw)
            catalog += b" /Metadata %d 0 R" % METADATA
        w.obj(CATALOG, catalog + keys(cover["catalog"], ()) + b" >>")
        trailer = b"/Root %d 0 R" % CATALOG
        if cover["info"] is not None:
            info = w.reserve()
            w.obj(info, cover["info"])
            trailer += b" /Info %d 0 R" % info
        w.finish(trailer)


def _counted(xmp: bytes, count: int) -> tuple[bytes, bytes]:
    """The XMP metadata ``xmp`` with the page count ``count``, as a stream's dictionary and data.

    It is edited in a PDF of its own: pikepdf writes edited metadata as a new stream, and before
    adding a stream qpdf reads every object of the document it is added to (about 50 ms for a
    1,000-patient cover sheet, at the end of a batch, when nothing else is left to do)."""
    import pikepdf

    with pikepdf.new() as pdf:
        pdf.Root.Metadata = pdf.make_stream(xmp)
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            if NPAGES in meta:
                meta[NPAGES] = str(count)
        stream = pdf.Root.Metadata
        raw = stream.read_raw_bytes()
        head = stream.stream_dict
        head.Length = len(raw)
        return head.unparse(resolved=True), raw


class Joined:
    """A joined file being written to ``out``, the pieces added as they come (``add``), then
    ``finish``: one document, one structure tree, one outline (see the module's docstring).

    The pieces of the front run (the cover sheet, typeset last because it needs the whole list)
    are placed first, in the order they were added; the others after them, in theirs. Every piece
    must be typeset in the document's language (the cover sheet's)."""

    def __init__(self, out: Path, duplex: bool = False):
        self.out, self.duplex = Path(out), duplex
        self.file: BinaryIO | None = None
        self.state: _Join | None = None
        self.front: Path | None = None  # the front run's first piece
        self.cover: dict = {}

    def __enter__(self) -> Self:
        self.file = open(self.out, "wb")
        return self

    def __exit__(self, *exc) -> None:
        if self.file is not None:
            self.file.close()

    def add(self, path: Path, front: bool = False) -> None:
        import pikepdf

        path = Path(path)
        collecting = gc.isenabled()
        gc.disable()  # a piece makes ~20,000 objects, none in a cycle: no collection needed
        try:
            data = path.read_bytes()
            with pikepdf.open(path) as src:
                if self.state is None:
                    self.state = _Join(Writer(self.file, str(src.pdf_version)), self.duplex)
                first = front and self.front is None
                info = self.state.piece(src, data, front, first)
        finally:
            if collecting:
                gc.enable()
        if first:
            self.front, self.cover = path, info

    def finish(self) -> None:
        if self.front is None:
            raise ValueError("a joined file needs its front run (the cover sheet)")
        assert self.state is not None  # a front run was added
        self.state.finish(self.cover)


def join(pieces: Sequence[Path], out: Path, duplex: bool = False) -> None:
    """Join the tagged PDF files ``pieces``, in order, into the file ``out``: the first is the
    front run (the cover sheet); one document, one structure tree, one outline (see the module's
    docstring)."""
    with Joined(out, duplex) as joined:
        for index, path in enumerate(pieces):
            joined.add(path, front=index == 0)
        joined.finish()
