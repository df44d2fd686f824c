"""The joined file's objects: a piece's objects written with the joined file's numbering
(``Renumbering``), and the file itself written front to back (``Writer``).

``Renumbering`` writes each object of a piece from its text (the piece's own bytes, or qpdf's
``unparse`` of an object the join changed): IDs renamed (``ids``), references renumbered
(``renumber``). ``Serializer`` writes a pikepdf object as qpdf's own ``unparse`` would, except
that a reference gets the object's number in the joined file, by walking it in Python (the
joined file's own objects made from a piece's, such as its catalog; and the tests' reference
for ``Renumbering``). Strings,
names and numbers are written by pikepdf (``unparse``), so a title that reads "(x) 12 0 R" stays
that text. qpdf can only write a whole document at once, which for a long batch means holding
every piece in memory (about 20 MB a piece); ``Writer`` writes each piece's objects as they come
and keeps only the cross-reference table, so memory stays flat however long the batch.
"""

from __future__ import annotations

import hashlib
import sys
import zlib
from array import array
from itertools import accumulate
from typing import Any

from mesocare.render.pdf_join.ids import hides_id_key, rename_ids, rename_ids_strict, with_ids
from mesocare.render.pdf_join.renumber import reference_table, renumber_many

# numbers of the joined file's own objects; the pieces' objects come after
CATALOG, PAGES, STRUCT_ROOT, DOCUMENT, PARENT_TREE, ID_TREE, OUTLINES, METADATA = range(1, 9)
FIRST_FREE = 9
OBJECTS_PER_STREAM = 200
COMPRESSION = 4  # zlib's level for the object streams: half the time of 6, 11% larger


class Writer:
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
        """A stream: ``head`` is its dictionary (with the right /Length), ``raw`` its data."""
        self.kinds[number], self.where[number] = 1, self.position
        self._write(b"%d 0 obj\n%s\nstream\n" % (number, head))
        self._write(raw)
        self._write(b"\nendstream\nendobj\n")

    def _flush(self) -> None:
        if not self.pending:
            return
        container = self.reserve()
        numbers = [number for number, _ in self.pending]
        bodies = [body for _, body in self.pending]
        count, first = len(numbers), numbers[0]
        if numbers[-1] - first == count - 1 and numbers == list(range(first, first + count)):
            # a run of numbers (a piece's objects between two streams): whole slices at once
            self.kinds[first : first + count] = array("B", [2]) * count
            self.where[first : first + count] = array("I", [container]) * count
            self.index[first : first + count] = array("H", range(count))
        else:
            for i, number in enumerate(numbers):
                self.kinds[number], self.where[number], self.index[number] = 2, container, i
        # each body's offset in the stream: the lengths before it, and a line break after each
        at = [end + i for i, end in enumerate(accumulate(map(len, bodies[:-1]), initial=0))]
        header = b" ".join([b"%d %d" % pair for pair in zip(numbers, at, strict=True)]) + b"\n"
        data = zlib.compress(header + b"\n".join(bodies) + b"\n", COMPRESSION)
        head = b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>" % (
            len(self.pending),
            len(header),
            len(data),
        )
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
                rows[at + k :: 7] = data[k::width]
        rows[5:7] = b"\xff\xff"  # object 0: the head of the free list, generation 65535
        data = zlib.compress(bytes(rows), COMPRESSION)
        ident = self.digest.hexdigest().encode("ascii")
        head = (
            b"<< /Type /XRef /Size %d /W [ 1 4 2 ] /ID [ <%s> <%s> ] %s"
            b" /Filter /FlateDecode /Length %d >>" % (size, ident, ident, trailer, len(data))
        )
        self._write(b"%d 0 obj\n%s\nstream\n" % (xref, head))
        self._write(data)
        self._write(b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % self.where[xref])


class Serializer:
    """pikepdf objects of one piece as bytes, in the joined file's numbering.

    ``number``: the piece's object numbers to the joined file's (an object left out: ``nowhere``,
    written as null); ``ids``: a piece's ID (its bytes) to the prefixed ID (a pikepdf String),
    rewritten in /ID and /Headers values so that every piece's IDs stay unique."""

    def __init__(self, number: dict[int, int], nowhere: int, ids: dict[bytes, Any] | None = None):
        import pikepdf

        self.number, self.nowhere, self.ids = number, nowhere, ids or {}
        self._object, self._name = pikepdf.Object, pikepdf.Name
        kinds = pikepdf.ObjectType
        self._dictionary, self._array, self._stream = kinds.dictionary, kinds.array, kinds.stream
        self._string, self._name_kind = kinds.string, kinds.name_
        self._names: dict[str, bytes] = {}  # a key, written with a space on each side
        self._values: dict[str, bytes] = {}  # a name as a value, written

    def ref(self, obj) -> bytes:
        """A reference to the piece's indirect object ``obj``."""
        return b"%d 0 R" % self.number.get(obj.objgen[0], self.nowhere)

    def body(self, obj) -> bytes:
        """The object itself (for an indirect one: what sits between "obj" and "endobj"; for a
        stream: its dictionary)."""
        out: list[bytes] = []
        self._direct(obj.stream_dict if obj._type_code == self._stream else obj, out)  # noqa: SLF001 - pikepdf's type code
        return b"".join(out)

    def value(self, value) -> bytes:
        """A value inside an object: a reference to an indirect object, else the value itself."""
        out: list[bytes] = []
        self._put(value, out)
        return b"".join(out)

    def _direct(self, value, out: list[bytes], renamed: bool = False) -> None:
        """A direct object: a dictionary or array walked here (``renamed``: its strings are IDs,
        written with the piece's prefix), anything else written by pikepdf."""
        kind = value._type_code  # noqa: SLF001 - pikepdf's type code
        if kind == self._dictionary:
            out.append(b"<<")
            names, ids = self._names, self.ids
            for key, item in value.as_dict().items():
                name = names.get(key)
                if name is None:
                    name = names[key] = b" " + self._name(key).unparse() + b" "
                out.append(name)
                self._put(item, out, bool(ids) and key in ("/ID", "/Headers"))
            out.append(b" >>")
        elif kind == self._array:
            out.append(b"[")
            for item in value.as_list():
                out.append(b" ")
                self._put(item, out, renamed)
            out.append(b" ]")
        else:
            self._put(value, out, renamed)

    def _put(self, value, out: list[bytes], renamed: bool = False) -> None:
        """Any value: a reference (with the joined file's number), a dictionary or array (walked),
        a name, string or number (written by pikepdf), or a value pikepdf gives as Python's (an
        integer, a boolean, null, a real as a Decimal)."""
        if type(value) is int:
            out.append(b"%d" % value)
        elif isinstance(value, self._object):
            if value.is_indirect:
                out.append(b"%d 0 R" % self.number.get(value.objgen[0], self.nowhere))
                return
            kind = value._type_code  # noqa: SLF001 - pikepdf's type code
            if kind == self._name_kind:
                written = self._values.get(str(value))
                if written is None:
                    written = self._values[str(value)] = value.unparse()
                out.append(written)
            elif kind == self._dictionary or kind == self._array:
                self._direct(value, out, renamed)
            elif renamed and kind == self._string:
                out.append(self.ids.get(bytes(value), value).unparse())
            else:
                out.append(value.unparse())
        elif value is True or value is False:
            out.append(b"true" if value else b"false")
        elif value is None:
            out.append(b"null")
        else:  # a real: its digits as they are, never with an exponent
            out.append(format(value, "f").encode("ascii"))


def refs(numbers) -> bytes:
    """References to the joined file's objects ``numbers``, separated by spaces."""
    return b" ".join(b"%d 0 R" % n for n in numbers)


def keys(entries: dict[str, bytes], leave: tuple) -> bytes:
    """A dictionary's entries (values already written), sorted, without the keys ``leave``."""
    return b"".join(
        b" %s %s" % (key.encode(), value)
        for key, value in sorted(entries.items())
        if key not in leave
    )


def real(x: float) -> bytes:
    return (b"%.5f" % x).rstrip(b"0").rstrip(b".")


class Renumbering:
    """A piece's objects written with the joined file's numbers: each object's text (the piece's
    own bytes, or qpdf's ``unparse`` of an object the join changed), ``rename_ids`` on the IDs
    of table cells (``/ID``, ``/Headers``), which the join prefixes with the piece's number,
    then ``renumber`` on its references. Reads the same as ``serial.body``
    (``objects.Serializer``), in a fraction of the time."""

    def __init__(self, serial):
        import pikepdf

        self.serial = serial
        self.number, self.nowhere = serial.number, serial.nowhere
        self.table = reference_table(self.number)
        self.ids = {pikepdf.String(old).unparse(): new.unparse() for old, new in serial.ids.items()}
        self._stream, self._object = pikepdf.ObjectType.stream, pikepdf.Object
        self._known: dict[bytes, tuple] = {}  # rename_ids's, for this piece

    def body(self, obj) -> bytes:
        """The object itself (for a stream: its dictionary), as ``Serializer.body`` writes it."""
        if obj._type_code == self._stream:  # noqa: SLF001 (pikepdf's kind, without isinstance)
            return self.bodies([obj.stream_dict])[0]
        return self.bodies([obj])[0]

    def values(self, values: list) -> list[bytes]:
        """``Serializer.value`` of each of ``values`` (values inside an object): a direct
        dictionary or array is written by qpdf, none of the objects it refers to read."""
        out = [b""] * len(values)
        direct = []
        for k, value in enumerate(values):
            if isinstance(value, self._object) and not value.is_indirect:
                direct.append(k)
            else:
                out[k] = self.serial.value(value)
        for k, text in zip(direct, self.bodies([values[k] for k in direct]), strict=True):
            out[k] = text
        return out

    def bodies(self, objects: list, parse=None) -> list[bytes]:
        """``body`` of each of ``objects`` (none a stream): a pikepdf object, or an object's text
        as the piece wrote it (bytes). ``parse(k)``: the ``k``-th object through pikepdf, for a
        text that cannot be read here (then written as qpdf writes it)."""
        texts = [obj if type(obj) is bytes else obj.unparse(resolved=True) for obj in objects]
        if self.ids:
            for k in with_ids(texts):
                texts[k] = self._renamed(texts[k], objects[k], parse, k)
        try:
            return renumber_many(texts, self.number, self.nowhere, self.table)
        except ValueError:
            if parse is None:
                raise
        # one text or more cannot be read: each on its own, and through qpdf where it fails
        out = []
        for k, text in enumerate(texts):
            try:
                out.append(renumber_many([text], self.number, self.nowhere, self.table)[0])
            except ValueError:
                if type(objects[k]) is not bytes:
                    raise
                out.append(self.bodies([parse(k)])[0])
        return out

    def _renamed(self, text: bytes, obj, parse, k: int) -> bytes:
        if type(obj) is not bytes:
            return rename_ids(text, self.ids, self._known)
        try:  # the piece's own spelling of a string or key may not be qpdf's
            if hides_id_key(text):
                raise ValueError("an ID's key spelled with an escape")
            return rename_ids_strict(text, self.ids, self._known)
        except ValueError:
            if parse is None:
                raise
            return rename_ids(parse(k).unparse(resolved=True), self.ids)
