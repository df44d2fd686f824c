"""Join a batch's typeset pieces into one tagged PDF/UA-1 file, streamed to disk (pikepdf per piece).

A long batch is typeset in pieces (see ``pdf.batch_pdf``): tagged PDF/UA-1 files that Typst
wrote, the cover sheet first, then ``CHUNK_SIZE`` handouts each. Each run of pages (the cover
sheet, each handout) carries a bookmark, so each piece's outline already points at the first
page of each of its runs, as Typst laid it out.

The joined file is ONE tagged document:

- every page, in order (a blank page, with no content and so nothing to tag, after a piece
  with an odd number of pages when the batch is printed on both sides);
- one structure tree: the cover sheet's ``Document`` element holds every piece's top-level
  structure elements in page order (their ``/P`` is that element); the parent tree is one
  number tree with a leaf per piece, whose keys are shifted past the pieces before it, and the
  pages' ``/StructParents`` and annotations' ``/StructParent`` are shifted to match; role and
  class maps are merged; each piece's IDs (table header cells) get the piece's number as a
  prefix, in the ID tree and in the cells' ``/Headers``, so they stay unique;
- each handout keeps its language: a piece's top-level elements without a ``/Lang`` get the
  piece's language when it is not the document's;
- the cover sheet's catalog: title shown by viewers, ``/Lang``, ``/MarkInfo``, and its XMP
  metadata (PDF/UA-1 identification) with the page count of the whole file;
- one outline: every piece's entries, in order, pointing at the same pages in the joined file.

Memory stays flat however many pieces: a tagged piece of 50 handouts is about 11,000 objects
(mostly structure elements), and holding them all in one pikepdf document, as a join by
``copy_foreign`` does, took about 20 MB a piece (4 GB for 10,000 handouts). So the pieces are
opened one at a time, and each object is written out renumbered into the joined file's
numbering (streams as Typst compressed them), then the piece is closed. The objects the join
does not change are copied as Typst wrote them, found through the piece's cross-reference table
(``typst_objects``); pikepdf parses only the objects the join reads or changes (the catalog, the
structure tree's root and its trees, the pages, the outline), which made the join about 40%
faster than parsing and re-serializing every object with qpdf, as it still does for a piece in
another form (``tests/test_pdf_join.py`` checks that both ways give the same objects). Only a few numbers per page, per top-level element and per patient
are kept until the end. Objects other than streams go into compressed object streams, with a
cross-reference stream, like the pieces Typst wrote. The file's id is a hash of its content:
the same pieces give the same bytes.

pikepdf is imported only here.
"""

from __future__ import annotations

import gc
import hashlib
import io
import itertools
import re
import sys
import zlib
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

NPAGES = "{http://ns.adobe.com/xap/1.0/t/pg/}NPages"

# qpdf's serialization of an object, cut at its strings (a literal one: qpdf escapes every
# parenthesis and backslash inside it; a hex one) and at the object numbers of its references
# ("12 0 R"; a name never holds one). Objects whose literal strings cannot hold " 0 R" (most)
# take a faster way: every " 0 R" ends a reference there (see ``_Renumber``).
_SPLIT = re.compile(rb"(\((?:[^\\()]|\\.)*\)|<[0-9A-Fa-f]*>)|(?<![^ \[])(\d+)(?= 0 R)", re.S)

# the same cut of an object as Typst writes it (no space needed around a reference: "[12 0 R",
# "(a)12 0 R")
_TYPST_SPLIT = re.compile(rb"(\((?:[^\\()]|\\.)*\)|<[0-9A-Fa-f]*>)|\b(\d+)(?= 0 R)", re.S)

# a literal string (one without backslashes) holding " 0 R": see ``_Renumber.fast``
_STRING_WITH_REF = re.compile(rb"\([^()]* 0 R")
# a literal string with no parenthesis nor backslash inside; a letter that glues a number to a word
_FLAT_STRING = re.compile(rb"\([^()\\]*\)")
_WORD = re.compile(rb"[A-Za-z_]")
_DIGITS = b"0123456789"

# numbers of the joined file's own objects; the pieces' objects come after
CATALOG, PAGES, STRUCT_ROOT, DOCUMENT, PARENT_TREE, ID_TREE, OUTLINES, METADATA = range(1, 9)
FIRST_FREE = 9
OBJECTS_PER_STREAM = 200
COMPRESSION = 4  # zlib's level for the object streams: half the time of 6, 11% larger


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


class _Writer:
    """A PDF file written front to back: streams as they come, other objects gathered into
    compressed object streams, a cross-reference stream at the end."""

    def __init__(self, file, version: str):
        self.file = file
        self.digest = hashlib.md5()
        self.position = 0
        self.next = FIRST_FREE
        # cross-reference entries by object number: type (1: at an offset, 2: in an object stream)
        self.kinds = array("B", [0] * FIRST_FREE)
        self.where = array("I", [0] * FIRST_FREE)  # offsets: a file under 4 GB
        self.index = array("H", [0] * FIRST_FREE)
        self.pending: list[tuple[int, bytes]] = []
        self.pending_size = 0
        self._write(b"%PDF-" + version.encode("ascii") + b"\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, data: bytes) -> None:
        self.file.write(data)
        self.digest.update(data)
        self.position += len(data)

    def reserve(self) -> int:
        number = self.next
        self.next += 1
        self.kinds.append(0)
        self.where.append(0)
        self.index.append(0)
        return number

    def reserve_many(self, count: int) -> None:
        self.next += count
        for column in (self.kinds, self.where, self.index):
            column.frombytes(bytes(count * column.itemsize))

    def obj(self, number: int, body: bytes) -> None:
        """An object other than a stream: into the next object stream."""
        self.objs([(number, body)])

    def objs(self, items: list[tuple[int, bytes]]) -> None:
        """Objects other than streams, (number, body) each: into the object streams, in order."""
        pending, size = self.pending, self.pending_size
        for item in items:
            pending.append(item)
            size += len(item[1])
            if len(pending) >= OBJECTS_PER_STREAM or size > 1 << 20:
                self.pending_size = size
                self._flush()
                pending, size = self.pending, 0
        self.pending_size = size

    def stream(self, number: int, head: bytes, raw: bytes) -> None:
        """A stream object: ``head`` is its dictionary (with the right /Length), ``raw`` its data."""
        self.kinds[number], self.where[number] = 1, self.position
        self._write(b"%d 0 obj\n%s\nstream\n" % (number, head))
        self._write(raw)
        self._write(b"\nendstream\nendobj\n")

    def _flush(self) -> None:
        if not self.pending:
            return
        container = self.reserve()
        offsets, bodies, at = [], [], 0
        for i, (number, body) in enumerate(self.pending):
            self.kinds[number], self.where[number], self.index[number] = 2, container, i
            offsets.append(b"%d %d" % (number, at))
            bodies.append(body)
            at += len(body) + 1
        header = b" ".join(offsets) + b"\n"
        data = zlib.compress(header + b"\n".join(bodies) + b"\n", COMPRESSION)
        head = b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>" % (
            len(self.pending), len(header), len(data))
        self.stream(container, head, data)
        self.pending, self.pending_size = [], 0

    def finish(self, trailer: bytes) -> None:
        """The cross-reference stream, with ``trailer``'s keys (/Root, /Info), and the file's id."""
        self._flush()
        xref = self.reserve()
        self.kinds[xref], self.where[xref] = 1, self.position
        size = self.next
        rows = bytearray(7 * size)  # /W [ 1 4 2 ]: big-endian columns, interleaved
        rows[0::7] = self.kinds.tobytes()
        for column, width, at in ((self.where, 4, 1), (self.index, 2, 5)):
            numbers = array("I" if width == 4 else "H", column)
            if sys.byteorder == "little":
                numbers.byteswap()
            data = numbers.tobytes()
            for k in range(width):
                rows[at + k::7] = data[k::width]
        rows[5:7] = b"\xff\xff"  # object 0: the head of the free list, generation 65535
        data = zlib.compress(bytes(rows), COMPRESSION)
        ident = self.digest.hexdigest().encode("ascii")
        head = (b"<< /Type /XRef /Size %d /W [ 1 4 2 ] /ID [ <%s> <%s> ] %s /Filter /FlateDecode /Length %d >>"
                % (size, ident, ident, trailer, len(data)))
        self._write(b"%d 0 obj\n%s\nstream\n" % (xref, head))
        self._write(data)
        self._write(b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % self.where[xref])


def _items(node, key: str) -> list:
    """The (key, value) pairs of a number tree (``/Nums``) or name tree (``/Names``), in order."""
    pairs: list = []
    stack = [node]
    while stack:
        node = stack.pop()
        if key in node:
            flat = list(node[key])
            pairs.extend(zip(flat[0::2], flat[1::2], strict=False))  # an odd last key is left out
        stack.extend(reversed(list(node.get("/Kids", []))))
    return pairs


# Typst's pieces: "N 0 obj\n" and the object, then "\nendobj\n"; a classic cross-reference table
_XREF = re.compile(rb"xref\r?\n0 (\d+)\r?\n")
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])[ \r\n]{2}")
_LENGTH = re.compile(rb"/Length (\d+)[/>]")
# an ID that Typst and qpdf serialize alike: "(" + its text + ")"
_PLAIN_ID = re.compile(rb"[!-'*-\[\]-~]*")


def typst_objects(data: bytes) -> dict[int, bytes] | None:
    """Every object of a PDF file that Typst wrote, by number: the bytes between "N 0 obj\n" and
    "\nendobj" (a stream with its data), found through the file's classic cross-reference table.
    None when the file is not in that form (an object stream, a cross-reference stream, an object
    of another generation, an object that is not where the table says, a stream holding
    "\nendobj\n"): then pikepdf reads each object instead (the careful way, and the slow one: it
    parses every object)."""
    found = _STARTXREF.search(data, max(len(data) - 64, 0))
    if found is None or b"/ObjStm" in data or b"/XRefStm" in data:
        return None
    at = int(found.group(1))
    head = _XREF.match(data, at)
    if head is None:
        return None
    count, start = int(head.group(1)), head.end()
    entries = _ENTRY.findall(data, start, start + 20 * count)
    if len(entries) != count:
        return None
    where = []
    for n, (offset, generation, kind) in enumerate(entries):
        if kind == b"n":
            if generation != b"00000":
                return None
            where.append((int(offset), n))
    if not where:
        return {}
    where.sort()
    # Typst writes the objects one after the other: cut at each "\nendobj\n", then check that the
    # pieces start where the table says (a stream holding those bytes fails that check)
    first = where[0][0]
    pieces = data[first:at].split(b"\nendobj\n")
    if len(pieces) != len(where) + 1 or pieces[-1].strip():
        return None
    starts = list(itertools.accumulate((len(p) + 8 for p in pieces[:-1]), initial=first))[:-1]
    if starts != [offset for offset, _ in where]:
        return None
    objects = {}
    for (_, n), piece in zip(where, pieces, strict=False):  # the last piece is the rest
        opening = b"%d 0 obj\n" % n
        if not piece.startswith(opening):
            return None
        objects[n] = piece[len(opening):]
    return objects


# What the join reads of a piece's structure tree, from the bytes Typst wrote: the Document's
# kids (references only), the parent tree (inline, one /Nums of number-reference pairs) and the
# ID tree (inline, one /Names of plain string-reference pairs). Each reader gives None for any
# other form, and the join then reads the tree through pikepdf.
_KIDS = re.compile(rb"/K\[((?:\d+ 0 R ?)*)\]")
_PARENT_NUMS = re.compile(rb"/ParentTree<</Nums\[((?:\d+ \d+ 0 R ?)*)\]>>")
_ID_NAMES = re.compile(rb"/IDTree<</Names\[((?:\(" + _PLAIN_ID.pattern + rb"\) ?\d+ 0 R ?)*)\]>>")
_REF_NUMBER = re.compile(rb"(\d+) 0 R")
_NUM_PAIR = re.compile(rb"(\d+) (\d+) 0 R")
_NAME_PAIR = re.compile(rb"\((" + _PLAIN_ID.pattern + rb")\) ?(\d+) 0 R")


def _raw_part(body: bytes | None, pattern: re.Pattern, key: bytes) -> bytes | None:
    """The one match of ``pattern`` in ``body``, when ``key`` appears there once and no string
    comes before it (so the match is not inside a string)."""
    if body is None or body.count(key) != 1:
        return None
    found = pattern.search(body)
    if found is None or b"(" in body[:found.start()]:
        return None
    return found.group(1)


def raw_kids(body: bytes | None) -> list[int] | None:
    """The object numbers of a structure element's kids, when its /K holds references only."""
    part = _raw_part(body, _KIDS, b"/K")
    return None if part is None else [int(n) for n in _REF_NUMBER.findall(part)]


def raw_parent_tree(body: bytes | None) -> list[tuple[int, bytes]] | None:
    """The parent tree of a structure tree root (key, referenced object number as text)."""
    part = _raw_part(body, _PARENT_NUMS, b"/ParentTree<<")
    return None if part is None else [(int(key), n) for key, n in _NUM_PAIR.findall(part)]


def raw_id_tree(body: bytes | None) -> list[tuple[bytes, bytes]] | None:
    """The ID tree of a structure tree root (ID's text, referenced object number as text)."""
    part = _raw_part(body, _ID_NAMES, b"/IDTree")
    return None if part is None else _NAME_PAIR.findall(part)


class _Renumber:
    """A piece's serialized objects with the joined file's object numbers (``table``: the piece's
    numbers, as text, to the joined file's), and its IDs with the piece's prefix (``ids``: old
    string -> new string, as serialized; in objects that carry an /ID or /Headers only)."""

    def __init__(self, table: dict[bytes, bytes], missing: bytes, ids: dict[bytes, bytes]):
        self.table, self.missing, self.ids = table, missing, ids

    def fast(self, body: bytes) -> bool:
        """True when every " 0 R" of ``body`` ends a reference: no line end, no ID to rewrite, and
        no literal string that could hold " 0 R" (without a backslash, qpdf's strings hold no
        parenthesis, so each runs from "(" to the next ")")."""
        if b"\n" in body or (self.ids and (b"/ID" in body or b"/Headers" in body)):
            return False
        return b"(" not in body or (b"\\" not in body and _STRING_WITH_REF.search(body) is None)

    def one(self, body: bytes) -> bytes:
        if self.fast(body):
            return self.many([body])[0]
        return self._mapped(_SPLIT.split(body), b"/ID" in body or b"/Headers" in body)

    def typst(self, bodies: list[bytes], ids: bool) -> list[bytes]:
        """``bodies`` as Typst wrote them (none holding a line end) renumbered at once, stepping
        over their strings; ``ids``: their IDs are rewritten too.

        When every string in them is plain (no parenthesis nor backslash inside, no " 0 R") and
        a number ends every " 0 R", each " 0 R" ends a reference: the text is cut there and the
        number before each cut replaced (in about half the time of cutting at every string and
        reference with ``_TYPST_SPLIT``, which is the way otherwise)."""
        text = b"\n".join(bodies)
        if (b"\\" not in text and text.count(b"(") == text.count(b")") == len(_FLAT_STRING.findall(text))
                and not _STRING_WITH_REF.search(text)):
            chunks = text.split(b" 0 R")
            heads = [chunk.rstrip(_DIGITS) for chunk in chunks]
            olds = [chunk[len(head):] for chunk, head in zip(chunks, heads, strict=True)]
            # each cut ends a number that stands alone (not "R1 0 R", "x1 0 R" nor " 0 R")
            if b"" not in olds[:-1] and b"" not in heads[1:-1] and not _WORD.search(b"".join([h[-1:] for h in heads[:-1]])):
                if ids and self.ids:
                    names = self.ids
                    heads = [_FLAT_STRING.sub(lambda found: names.get(found.group(0), found.group(0)), head)
                             if b"(" in head else head for head in heads]
                table, missing = self.table, self.missing
                parts: list = [b" 0 R"] * (3 * len(chunks))
                parts[0::3], parts[1::3] = heads, [table.get(old, missing) for old in olds]
                parts[-2:] = [olds[-1], b""]  # after the last reference: the text as it is
                return b"".join(parts).split(b"\n")
        return self._mapped(_TYPST_SPLIT.split(text), ids).split(b"\n")

    def ref(self, old: bytes) -> bytes:
        """A reference to the piece's object ``old`` (its number as text), in the joined file."""
        return self.table.get(old, self.missing) + b" 0 R"

    def _mapped(self, parts: list, ids: bool) -> bytes:
        """Parts cut by ``_SPLIT`` or ``_TYPST_SPLIT`` put back together: each reference's number
        the joined file's, each string as it was (an ID with the piece's prefix when ``ids``)."""
        names = self.ids if ids else {}
        parts[1::3] = [b"" if x is None else names.get(x, x) for x in parts[1::3]]
        parts[2::3] = [b"" if x is None else self.table.get(x, self.missing) for x in parts[2::3]]
        return b"".join(parts)

    def many(self, bodies: list[bytes]) -> list[bytes]:
        """``bodies`` that ``fast`` accepts, renumbered at once: each " 0 R" ends a reference."""
        chunks = b"\n".join(bodies).split(b" 0 R")
        out: list[bytes] = []
        table, missing = self.table, self.missing
        for chunk in chunks[:-1]:
            head, space, old = chunk.rpartition(b" ")
            out += (head, space, table.get(old, missing) if old.isdigit() else old, b" 0 R")
        out.append(chunks[-1])
        return b"".join(out).split(b"\n")


class _Join:
    """The state kept from one piece to the next: a few numbers per page, top-level element and
    outline entry, for the front run (the cover sheet, whose pieces come last) and the rest."""

    def __init__(self, writer: _Writer, duplex: bool):
        self.w = writer
        self.duplex = duplex
        # [front, rest]: page objects, top-level elements, outline entries (title, page object)
        self.pages = (array("I"), array("I"))
        self.kids = (array("I"), array("I"))
        self.entries: tuple[list[tuple[str, int]], list[tuple[str, int]]] = ([], [])
        self.parent_leaves: list[int] = []
        self.id_leaves: list[tuple[bytes, int]] = []  # (the piece's ID prefix, its leaf)
        self.next_key = 0
        self.roles: dict[str, bytes] = {}
        self.classes: dict[str, bytes] = {}
        self.lang: bytes | None = None
        self.size: tuple[float, ...] | None = None
        self.count = 0  # pieces written

    def piece(self, src, front: bool, first: bool, raw: dict[int, bytes] | None = None) -> dict:
        """Write the piece ``src``: a piece of the front run (the cover sheet: its pieces go first
        in the joined file, in the order they come) or of the rest (in the order they come).
        ``first``: the front run's first piece, whose catalog the joined file takes (returned).
        ``raw``: the piece's objects as Typst wrote them (``typst_objects``): those this join does
        not change are copied from there (renumbered), and pikepdf parses only the few it reads or
        changes (the catalog, the trees, the pages); None: pikepdf parses every object."""
        import pikepdf

        w = self.w
        index = self.count
        self.count += 1
        side = 0 if front else 1
        root = src.Root
        tree = root.Pages
        struct = root.get("/StructTreeRoot")
        skip = {root.objgen, tree.objgen}
        info = src.trailer.get("/Info")
        if info is not None and info.is_indirect:
            skip.add(info.objgen)
        if "/Metadata" in root:
            skip.add(root.Metadata.objgen)
        outlines = root.get("/Outlines")
        stack = [outlines] if outlines is not None else []
        while stack:  # the outline is written anew
            item = stack.pop()
            if item.is_indirect:
                skip.add(item.objgen)
            for key in ("/First", "/Next"):
                if key in item:
                    stack.append(item[key])
        special = {tree.objgen[0]: PAGES}
        kids: list = []
        documents: list = []
        kid_numbers: list[int] = []  # the Document's kids as Typst wrote them (read from ``raw``)
        if struct is not None:
            skip.add(struct.objgen)
            top = struct.get("/K")
            top = list(top) if isinstance(top, pikepdf.Array) else [] if top is None else [top]
            for element in top:
                if isinstance(element, pikepdf.Dictionary) and element.get("/S") == "/Document":
                    documents.append(element)
                    skip.add(element.objgen)
                    special[element.objgen[0]] = DOCUMENT
                    numbers = raw_kids(raw.get(element.objgen[0])) if raw is not None and not kids else None
                    if numbers is not None:
                        kid_numbers = numbers
                        continue
                    inner = element.get("/K")
                    kids.extend(inner if isinstance(inner, pikepdf.Array) else [] if inner is None else [inner])
                else:
                    kids.append(element)
            if kid_numbers and kids:  # kids of more than one kind: all through pikepdf
                kids = [src.get_object((n, 0)) for n in kid_numbers] + kids
                kid_numbers = []
            special[struct.objgen[0]] = DOCUMENT  # what sat at the top sits in the one Document
        # this piece's object numbers -> the joined file's
        number = dict(special)
        objects: list[int] = []  # the piece's numbers of the objects written, in order
        base = w.next
        if raw is not None:
            left = {n for n, generation in skip if generation == 0}
            for n in sorted(raw):
                if n not in left and n not in number:
                    number[n] = base + len(objects)
                    objects.append(n)
        else:
            for obj in src.objects:
                objgen = obj.objgen
                if objgen in skip or objgen[0] in number:
                    continue
                if objgen[1] != 0:
                    raise ValueError("a piece has an object of a generation other than 0")
                if isinstance(obj, pikepdf.Stream) and obj.get("/Type") in ("/ObjStm", "/XRef"):
                    continue
                number[objgen[0]] = base + len(objects)
                objects.append(objgen[0])
        w.reserve_many(len(objects))
        nowhere = w.reserve()  # a reference to an object left out: "null" (none is expected)
        # the piece's IDs get its number, the front run's sorting first (the ID tree is in order)
        prefix = (b"a%06d-" if front else b"p%06d-") % index
        # ids: (its new text, its old text, both serialized; the element: a pikepdf object, or
        # its object number as text when read from ``raw``), sorted by the new text
        raw_root = raw.get(struct.objgen[0]) if raw is not None and struct is not None else None
        raw_ids = raw_id_tree(raw_root)
        ids: list[tuple[bytes, bytes, Any]]
        if raw_ids is not None:  # plain IDs: each serialized as "(" + its text + ")", sorted by the text
            ids = sorted(((b"(" + prefix + name + b")", b"(" + name + b")", n) for name, n in raw_ids),
                         key=lambda id_: id_[0][1:-1])
        else:
            pairs = _items(struct.IDTree, "/Names") if struct is not None and "/IDTree" in struct else []
            found = sorted(((pikepdf.String(prefix + bytes(name)), name.unparse(), element) for name, element in pairs),
                           key=lambda id_: bytes(id_[0]))
            ids = [(new.unparse(), old, element) for new, old, element in found]
        serial = _Renumber({b"%d" % old: b"%d" % new for old, new in number.items()}, b"%d" % nowhere,
                           {old: new for new, old, _ in ids})
        text = lambda obj: serial.one(obj.unparse(resolved=True))  # noqa: E731
        ref = lambda obj: serial.one(obj.unparse())  # noqa: E731  (an indirect object: a reference)
        changed: set[int] = set()  # objects changed here (through pikepdf): written as pikepdf has them

        # the pages: one page tree, shifted keys into the parent tree
        shift = self.next_key
        if self.size is None and len(src.pages):
            self.size = tuple(float(x) for x in src.pages[0].mediabox)[2:]
        pages = self.pages[side]
        for page in src.pages:
            obj = page.obj
            changed.add(obj.objgen[0])
            if obj.get("/Parent") is None or obj.Parent.objgen != tree.objgen:
                obj.Parent = tree
            if shift and "/StructParents" in obj:
                obj.StructParents = int(obj.StructParents) + shift
            for annot in obj.get("/Annots", []):
                if shift and isinstance(annot, pikepdf.Dictionary) and "/StructParent" in annot:
                    annot.StructParent = int(annot.StructParent) + shift
                    changed.add(annot.objgen[0])
            pages.append(number[obj.objgen[0]])
        here = pages[len(pages) - len(src.pages):]
        self.entries[side].extend((title, here[page]) for title, page in outline_entries(src))

        if struct is not None:
            # the joined file's language is the first piece's (each is typeset in the cover
            # sheet's language; the catalog says the same)
            lang = root.get("/Lang")
            if index == 0:
                self.lang = bytes(lang) if lang is not None else None
            elif lang is not None and bytes(lang) != self.lang:
                kids, kid_numbers = [src.get_object((n, 0)) for n in kid_numbers] + kids, []
                for kid in kids:  # the handouts of this piece speak the piece's language
                    if isinstance(kid, pikepdf.Dictionary) and "/S" in kid and "/Lang" not in kid:
                        kid.Lang = lang
                        changed.add(kid.objgen[0])
            self.kids[side].extend(number[n] for n in kid_numbers)
            for kid in kids:
                if isinstance(kid, pikepdf.Dictionary) and kid.is_indirect:
                    self.kids[side].append(number[kid.objgen[0]])
            parents = raw_parent_tree(raw_root)
            if parents is not None:
                keys = [key for key, _ in parents]
                values = [serial.ref(n) for _, n in parents]
            else:
                pairs = _items(struct.ParentTree, "/Nums") if "/ParentTree" in struct else []
                keys = [int(key) for key, _ in pairs]
                values = [ref(value) for _, value in pairs]
            if keys:
                leaf = w.reserve()
                nums = b" ".join(b"%d %s" % (key + shift, value) for key, value in zip(keys, values, strict=True))
                w.obj(leaf, b"<< /Limits [ %d %d ] /Nums [ %s ] >>" % (min(keys) + shift, max(keys) + shift, nums))
                self.parent_leaves.append(leaf)
            following = int(struct.get("/ParentTreeNextKey", 0))
            self.next_key += max(following, max(keys) + 1 if keys else 0)
            if ids:
                leaf = w.reserve()
                names = b" ".join(new + b" " + (serial.ref(element) if isinstance(element, bytes) else ref(element))
                                 for new, _, element in ids)
                w.obj(leaf, b"<< /Limits [ %s %s ] /Names [ %s ] >>" % (ids[0][0], ids[-1][0], names))
                self.id_leaves.append((prefix, leaf))
            for key, into in (("/RoleMap", self.roles), ("/ClassMap", self.classes)):
                for name, value in struct.get(key, {}).items():
                    into.setdefault(name, text(value))

        # every other object: as Typst wrote it when it is unchanged and in the form expected (``raw``),
        # else as qpdf serializes it; streams now, the others in order once renumbered
        bodies: list = []
        quick: list[int] = []  # bodies of qpdf's that take the fast way
        typst: tuple[list[int], list[int]] = ([], [])  # Typst's bodies: without IDs, with IDs
        streams: list[tuple[int, bytes, bytes]] = []  # Typst's streams: number, dictionary, data
        with_ids = bool(serial.ids) and all(
            old.startswith(b"(") and _PLAIN_ID.fullmatch(old[1:-1]) for old in serial.ids)
        for old in objects:
            n = number[old]
            body = raw.get(old) if raw is not None and old not in changed else None
            if body is not None:
                cut = body.find(b"\n")
                if cut < 0:
                    has_ids = bool(serial.ids) and (b"/ID" in body or b"/Headers" in body)
                    if not has_ids or with_ids:
                        typst[has_ids].append(len(bodies))
                        bodies.append((n, body))
                        continue
                length = _LENGTH.search(body, 0, cut)
                if (cut > 0 and body.startswith(b"\nstream\n", cut) and body.endswith(b"\nendstream")
                        and length is not None and int(length.group(1)) == len(body) - cut - 18
                        and b"/ID" not in body[:cut]):
                    streams.append((n, body[:cut], body[cut + 8:-10]))
                    continue
            obj = src.get_object((old, 0))
            if isinstance(obj, pikepdf.Stream):
                if obj.get("/Type") in ("/ObjStm", "/XRef"):
                    continue
                data = obj.read_raw_bytes()
                stream_dict = obj.stream_dict
                stream_dict.Length = len(data)
                w.stream(n, text(stream_dict), data)
                continue
            body = obj.unparse(resolved=True)
            if serial.fast(body):
                quick.append(len(bodies))
                bodies.append((n, body))
            else:
                bodies.append((n, serial.one(body)))
        # many and typst give one empty body back for no body: zip stops at the shorter list
        for at, body in zip(quick, serial.many([bodies[at][1] for at in quick]), strict=False):
            bodies[at] = (bodies[at][0], body)
        for has_ids_, group in enumerate(typst):
            for at, body in zip(group, serial.typst([bodies[at][1] for at in group], bool(has_ids_)), strict=False):
                bodies[at] = (bodies[at][0], body)
        heads = serial.typst([head for _, head, _ in streams], False)
        for (n, _, data), head in zip(streams, heads, strict=False):
            w.stream(n, head, data)
        w.objs(bodies)
        w.obj(nowhere, b"null")
        if not front:
            self._pad(pages)  # the next piece starts on a new sheet
        if not first:
            return {}
        document = documents[0] if documents else None
        return {
            "catalog": {key: text(value) for key, value in root.items()
                        if key not in ("/Type", "/Pages", "/StructTreeRoot", "/Outlines", "/Metadata")},
            "document": {key: text(value) for key, value in (document.items() if document is not None else [])
                         if key not in ("/K", "/P")},
            "info": text(info) if info is not None else None,
            "xmp": plain_xmp(root.Metadata) if "/Metadata" in root else None,
        }

    def _pad(self, pages: array) -> None:
        """A blank page after ``pages`` when they end on an odd page and the batch is printed on
        both sides."""
        if self.duplex and len(pages) % 2:
            blank = self.w.reserve()
            size = self.size or (595.28, 841.89)
            self.w.obj(blank, b"<< /Type /Page /MediaBox [ 0 0 %s %s ] /Resources << >> /Parent %d 0 R >>" % (
                _real(size[0]), _real(size[1]), PAGES))
            pages.append(blank)

    def finish(self, first, cover: dict) -> None:
        """The joined file's own objects: catalog, page tree, structure tree root, outline.
        ``first``: the front run's first piece, opened again (pikepdf) for its metadata when it
        is not as Typst writes it (``cover["xmp"]`` is None), else None."""
        import pikepdf

        w = self.w
        self._pad(self.pages[0])  # the front run ends on a new sheet too
        pages = self.pages[0] + self.pages[1]
        kids = self.kids[0] + self.kids[1]
        entries = self.entries[0] + self.entries[1]
        id_leaves = [leaf for _, leaf in sorted(self.id_leaves)]
        refs = lambda numbers: b" ".join(b"%d 0 R" % n for n in numbers)  # noqa: E731
        w.obj(PAGES, b"<< /Type /Pages /Count %d /Kids [ %s ] >>" % (len(pages), refs(pages)))
        w.obj(DOCUMENT, b"<< /Type /StructElem /S /Document /P %d 0 R /K [ %s ]%s >>" % (
            STRUCT_ROOT, refs(kids), _keys(cover["document"], ("/Type", "/S"))))
        w.obj(PARENT_TREE, b"<< /Kids [ %s ] >>" % refs(self.parent_leaves))
        w.obj(ID_TREE, b"<< /Kids [ %s ] >>" % refs(id_leaves))
        struct = b"<< /Type /StructTreeRoot /K [ %d 0 R ] /ParentTree %d 0 R /ParentTreeNextKey %d" % (
            DOCUMENT, PARENT_TREE, self.next_key)
        if id_leaves:
            struct += b" /IDTree %d 0 R" % ID_TREE
        for key, merged in (("/RoleMap", self.roles), ("/ClassMap", self.classes)):
            if merged:
                struct += b" %s << %s >>" % (key.encode(), _keys(merged, ()))
        w.obj(STRUCT_ROOT, struct + b" >>")
        items = [w.reserve() for _ in entries]
        for i, (title, page) in enumerate(entries):
            links = b"".join([b" /Prev %d 0 R" % items[i - 1] if i else b"",
                              b" /Next %d 0 R" % items[i + 1] if i + 1 < len(items) else b""])
            w.obj(items[i], b"<< /Title %s /Parent %d 0 R%s /Dest [ %d 0 R /Fit ] >>" % (
                pikepdf.String(title).unparse(), OUTLINES, links, page))
        if items:
            w.obj(OUTLINES, b"<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>" % (items[0], items[-1], len(items)))
        else:
            w.obj(OUTLINES, b"<< /Type /Outlines /Count 0 >>")
        catalog = b"<< /Type /Catalog /Pages %d 0 R /StructTreeRoot %d 0 R /Outlines %d 0 R" % (PAGES, STRUCT_ROOT, OUTLINES)
        if self.lang is not None:
            cover["catalog"]["/Lang"] = pikepdf.String(self.lang).unparse()
        if cover.get("xmp") is not None:  # as Typst wrote it: the page count written in place
            head, raw = cover["xmp"]
            raw = _XMP_PAGES.sub(b"<xmpTPg:NPages>%d</xmpTPg:NPages>" % len(pages), raw)
            w.stream(METADATA, head % len(raw), raw)
            catalog += b" /Metadata %d 0 R" % METADATA
        elif first is not None and "/Metadata" in first.Root:
            with first.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
                if NPAGES in meta:
                    meta[NPAGES] = str(len(pages))
            xmp = first.Root.Metadata
            raw = xmp.read_raw_bytes()
            head = xmp.stream_dict
            head.Length = len(raw)
            w.stream(METADATA, head.unparse(resolved=True), raw)
            catalog += b" /Metadata %d 0 R" % METADATA
        w.obj(CATALOG, catalog + _keys(cover["catalog"], ()) + b" >>")
        trailer = b"/Root %d 0 R" % CATALOG
        if cover["info"] is not None:
            info = w.reserve()
            w.obj(info, cover["info"])
            trailer += b" /Info %d 0 R" % info
        w.finish(trailer)


# the page count in XMP metadata as Typst writes it
_XMP_PAGES = re.compile(rb"<xmpTPg:NPages>\d+</xmpTPg:NPages>")


def plain_xmp(stream) -> tuple[bytes, bytes] | None:
    """A piece's XMP metadata stream as (its dictionary with "%d" for its length, its bytes), when
    it is as Typst writes it: not compressed, the dictionary /Type /Metadata /Subtype /XML, and the
    page count once (or not at all) in the form ``_XMP_PAGES`` rewrites. None otherwise (then
    pikepdf edits the XMP as XML)."""
    if set(stream.stream_dict.keys()) - {"/Length"} != {"/Type", "/Subtype"} or stream.get("/Subtype") != "/XML":
        return None
    raw = stream.read_raw_bytes()
    if len(_XMP_PAGES.findall(raw)) > 1 or (b"NPages" in raw and not _XMP_PAGES.search(raw)):
        return None
    return b"<< /Type /Metadata /Subtype /XML /Length %d >>", raw


def _keys(entries: dict, leave: tuple) -> bytes:
    return b"".join(b" %s %s" % (key.encode(), value) for key, value in sorted(entries.items()) if key not in leave)


def _real(x: float) -> bytes:
    return (b"%.5f" % x).rstrip(b"0").rstrip(b".")


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

    def __enter__(self) -> Joined:
        self.file = open(self.out, "wb")
        return self

    def __exit__(self, *exc) -> None:
        if self.file is not None:
            self.file.close()

    def add(self, path: Path, front: bool = False) -> None:
        import pikepdf

        path = Path(path)
        collecting = gc.isenabled()
        gc.disable()  # a piece makes ~20,000 tuples and strings, none in a cycle: no collection needed
        try:
            data = path.read_bytes()
            raw = typst_objects(data)
            with pikepdf.open(io.BytesIO(data)) as src:
                if self.state is None:
                    self.state = _Join(_Writer(self.file, str(src.pdf_version)), self.duplex)
                first = front and self.front is None
                info = self.state.piece(src, front, first, raw)
        finally:
            if collecting:
                gc.enable()
        if first:
            self.front, self.cover = Path(path), info

    def finish(self) -> None:
        import pikepdf

        if self.front is None or self.state is None:
            raise ValueError("a joined file needs its front run (the cover sheet)")
        if self.cover.get("xmp") is not None:
            self.state.finish(None, self.cover)
            return
        # the cover sheet again, for its metadata only (in a form other than Typst's): a long
        # list's cover has many objects, none of them kept in memory while the other pieces are
        # written
        with pikepdf.open(self.front) as first:
            self.state.finish(first, self.cover)


def join(pieces: Sequence[Path], out: Path, duplex: bool = False) -> None:
    """Join the tagged PDF files ``pieces``, in order, into the file ``out``: the first is the
    front run (the cover sheet); one document, one structure tree, one outline (see the module's
    docstring)."""
    with Joined(out, duplex) as joined:
        for index, path in enumerate(pieces):
            joined.add(path, front=index == 0)
        joined.finish()
