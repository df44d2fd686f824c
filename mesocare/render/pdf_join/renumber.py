"""An object of a piece, as text (what sits between ``obj`` and ``endobj``, or a stream's
dictionary), renumbered: each reference ``N G R`` gets the joined file's number ``M 0 R``;
nothing else changes.

The text is either the piece's own bytes, as Typst wrote them, or qpdf's writing of the object
(``unparse``), for an object the join changed. Both are read by PDF's own syntax (ISO 32000-1,
7.2), whatever the spacing: the tokenizer here skips the strings (literal, with escapes and
nested parentheses, and hex), so a title that reads "(x) 12 0 R" stays that text, and in what
lies between them takes a token ``R`` as a reference, its two integer tokens before it the
number and generation. A text it does not understand (a comment, a bare ``R`` not after two
integers, a string that does not end) is an error, never a guess: the join then writes that
object through qpdf instead. The result is the same as ``objects.Serializer``'s, which walks the
object in Python and is several times slower (tests/test_pdf_renumber.py).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

__all__ = ["Renumbering", "rename_ids", "renumber", "renumber_many"]

_SPACE = rb"\x00\t\n\x0c\r "  # PDF's white-space characters
_DELIMITER = rb"()<>\[\]{}/%"
# a string opens at "(" or at a "<" that is not half of "<<" (a dictionary)
_STRING = re.compile(rb"\(|(?<!<)<(?!<)")
# a token starts, or ends: after, or before, a space or a delimiter (\x01 stands for "<<" here,
# \x02 and \x03 where the renumbering cut the text: between objects, and where a string was)
_CUT = _SPACE + rb"()<>\[\]{}\x01\x02\x03"
# The token R and, before it, a reference's two integer tokens (group 1: its number), read in
# the text reversed: "12 0 R" reads "R 0 21". Forwards, a regular expression for a reference
# starts with a digit and is tried at every digit of the text (numbers abound: coordinates,
# marked-content ids); backwards it starts with the letter R, which it finds by a fast scan:
# the renumbering of a piece takes a third of the time. A token R (after a space or a delimiter,
# before one, "/" or "%") that no two integers stand before matches with no group 1: an error.
_REVERSED_REFERENCE = re.compile(
    rb"R(?<![^" + _CUT + rb"/%]R)"  # (before R: "reversed", so what follows R in the text)
    rb"(?:["
    + _SPACE
    + rb"]+\d+["
    + _SPACE
    + rb"]+(\d+)(?![^"
    + _CUT
    + rb"])|(?![^"
    + _CUT
    + rb"]))"
)
_TOKEN = re.compile(
    rb"<<|>>|[\[\]{}]|/[^" + _SPACE + _DELIMITER + rb"]*|[^" + _SPACE + _DELIMITER + rb"]+"
)


def renumber(text: bytes, number: dict[int, int], nowhere: int) -> bytes:
    """``text`` (an object in PDF syntax) with every reference ``N G R`` written
    ``number[N] 0 R`` (``nowhere`` for a number not in ``number``)."""
    return renumber_many([text], number, nowhere)[0]


def renumber_many(
    texts: list[bytes],
    number: dict[int, int],
    nowhere: int,
    table: dict[bytes, bytes] | None = None,
) -> list[bytes]:
    """``renumber`` for each of ``texts``, done at once (one pass over them all); ``table``:
    ``number`` as written (``_table``), when made once for many calls."""
    if not texts:
        return []
    text = b"\x02".join(texts)
    if text.count(b"\x02") != len(texts) - 1 or text.find(b"\x01") >= 0:
        # a text holds a byte used here as a mark (in a string, as UTF-16 may): one at a time
        if len(texts) > 1:
            return [renumber_many([t], number, nowhere, table)[0] for t in texts]
        return [_renumber_alone(texts[0], number, nowhere, table)]
    # "<<" opens a dictionary; here \x01 (no text has one), so that "<" opens a hex string
    runs, strings = _cut(text.replace(b"<<", b"\x01"))
    outside = b"\x03".join(runs)
    if outside.count(b"\x03") != len(runs) - 1 or outside.find(b"%") >= 0:
        raise ValueError("a byte the renumbering does not read outside a string (\\x03, %)")
    done = _references(outside, number, nowhere, table).split(b"\x03")
    out = [b""] * (2 * len(done) - 1)
    out[0::2], out[1::2] = done, strings
    return b"".join(out).replace(b"\x01", b"<<").split(b"\x02")


def _renumber_alone(text: bytes, number, nowhere, table) -> bytes:
    """One text that holds \x01, \x02 or \x03 (inside its strings: else it is an error)."""
    runs: list[bytes] = []
    strings = _strings(text, runs)
    for run in runs:
        if run.find(b"\x02") >= 0 or run.find(b"\x03") >= 0 or run.find(b"%") >= 0:
            raise ValueError("a byte the renumbering does not read outside a string (%)")
    done = _references(b"\x03".join(runs), number, nowhere, table).split(b"\x03")
    out = [b""] * (2 * len(done) - 1)
    out[0::2], out[1::2] = done, strings
    return b"".join(out)


def _cut(text: bytes) -> tuple[list[bytes], list[bytes]]:
    """``text`` (where \x01 stands for "<<") cut into the text outside strings and the strings,
    in order (one more of the former)."""
    runs: list[bytes] = []  # the text between strings
    strings: list[bytes] = []
    start = 0  # where the text outside strings starts
    find = text.find
    literal, hexa = find(b"("), find(b"<")
    while literal >= 0 or hexa >= 0:
        if hexa < 0 or 0 <= literal < hexa:
            at, end = literal, find(b")", literal)
            if end < 0 or find(b"\\", at, end) >= 0 or find(b"(", at + 1, end) >= 0:
                end = _literal_end(text, at)
            else:
                end += 1  # no backslash, no parenthesis inside
        else:
            at, end = hexa, _hex_end(text, hexa)
        runs.append(text[start:at])
        strings.append(text[at:end])
        start = end
        if 0 <= literal < end:  # (-1: there is none left)
            literal = find(b"(", end)
        if 0 <= hexa < end:
            hexa = find(b"<", end)
    runs.append(text[start:])
    return runs, strings


def _strings(text: bytes, runs: list[bytes]) -> list[bytes]:
    """The strings of ``text``, in order; the text between them is added to ``runs`` (one more
    than the strings)."""
    strings: list[bytes] = []
    start = 0
    search = _STRING.search
    found = search(text)
    while found is not None:
        at = found.start()
        end = _literal_end(text, at) if text[at] == 40 else _hex_end(text, at)
        runs.append(text[start:at])
        strings.append(text[at:end])
        start = end
        found = search(text, end)
    runs.append(text[start:])
    return strings


def _hex_end(text: bytes, at: int) -> int:
    end = text.find(b">", at)
    if end < 0:
        raise ValueError("a hex string that does not end")
    return end + 1


def _literal_end(text: bytes, at: int) -> int:
    """Just past the literal string that opens at ``at``: balanced parentheses, a backslash
    escapes the byte after it."""
    depth, i = 1, at + 1
    find = text.find
    while depth:
        close = find(b")", i)
        if close < 0:
            raise ValueError("a literal string that does not end")
        slash, opening = find(b"\\", i, close), find(b"(", i, close)
        if slash < 0 and opening < 0:
            depth -= 1
            i = close + 1
        elif opening < 0 or 0 <= slash < opening:  # the next byte is escaped
            i = slash + 2
        else:
            depth += 1
            i = opening + 1
    return i


def _references(
    run: bytes, number: dict[int, int], nowhere: int, table: dict[bytes, bytes] | None = None
) -> bytes:
    """``run``, text outside strings, with its references renumbered; ``table``
    (``_table(number)``, made once for many runs) gives a number's new reference as written."""
    if run.find(b"R") < 0:
        return run
    # backwards (see _REVERSED_REFERENCE): numbers, and the new references, reversed too
    parts = _REVERSED_REFERENCE.split(run[::-1])
    numbers = parts[1::2]
    if None in numbers:
        raise ValueError("an R not after two integers")
    written = list(map((table if table is not None else _table(number)).get, numbers))
    if None in written:  # a number not in the table as written ("007"), or not in ``number``
        written = [
            w if w is not None else (b"%d 0 R" % number.get(int(n[::-1]), nowhere))[::-1]
            for w, n in zip(written, numbers, strict=True)
        ]
    parts[1::2] = written
    return b"".join(parts)[::-1]


def _table(number: dict[int, int]) -> dict[bytes, bytes]:
    """Each number of ``number`` as written (no leading zero), to its new reference; both
    reversed, as ``_references`` reads them."""
    return {(b"%d" % old)[::-1]: (b"%d 0 R" % new)[::-1] for old, new in number.items()}


_ID_KEYS = (b"/ID", b"/Headers")
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")


def has_ids(text: bytes) -> bool:
    """Whether ``text`` may hold an ID to rename: an ``/ID`` or ``/Headers`` key with a value
    other than an empty array (Typst writes ``/Headers[]`` in most table cells)."""
    if text.find(b"/ID") >= 0:
        return True
    at = text.find(b"/Headers")
    while at >= 0:
        if not _EMPTY_HEADERS.match(text, at):
            return True
        at = text.find(b"/Headers", at + 8)
    return False


def _with_ids(texts: list[bytes]) -> list[int]:
    """Which of ``texts`` may hold an ID to rename (``has_ids``), found in all of them at once."""
    whole = b"\x02".join(texts)
    ends = list(accumulate(len(text) + 1 for text in texts))  # where each text's next one starts
    found = set()
    for key in (b"/ID", b"/Headers", b"#"):
        at = whole.find(key)
        while at >= 0:
            found.add(bisect_right(ends, at))
            at = whole.find(key, at + len(key))
    return sorted(k for k in found if has_ids(texts[k]) or hides_id_key(texts[k]))


_ESCAPED_NAME = re.compile(rb"/[^" + _SPACE + _DELIMITER + rb"]*#[^" + _SPACE + _DELIMITER + rb"]*")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


def hides_id_key(text: bytes) -> bool:
    """Whether ``text`` spells ``/ID`` or ``/Headers`` with a ``#`` escape ("/I#44"), which the
    renaming does not read (qpdf writes every name plainly)."""
    for name in _ESCAPED_NAME.findall(text) if text.find(b"#") >= 0 else ():
        if _ESCAPE.sub(lambda code: bytes.fromhex(code[1].decode()), name) in _ID_KEYS:
            return True
    return False


_EMPTY_HEADERS = re.compile(rb"/Headers[" + _SPACE + rb"]*\[[" + _SPACE + rb"]*\]")


def rename_ids(
    text: bytes, table: dict[bytes, bytes], known: dict[bytes, tuple] | None = None
) -> bytes:
    """``text`` (an object in PDF syntax) with each string that is the value of an ``/ID`` or
    ``/Headers`` key, or inside an array that is, written ``table[string]`` (strings as qpdf
    writes them; a string not in ``table`` stays)."""
    return _rename(text, table, False, known)


def rename_ids_strict(
    text: bytes, table: dict[bytes, bytes], known: dict[bytes, tuple] | None = None
) -> bytes:
    """``rename_ids``, where a string in an ID's place that is not in ``table`` is an error: the
    piece's own bytes may spell an ID otherwise than qpdf, whose spelling the table has."""
    return _rename(text, table, True, known)


def _rename(
    text: bytes, table: dict[bytes, bytes], strict: bool, known: dict[bytes, tuple] | None
) -> bytes:
    """``rename_ids``; ``known``: the containers open after an object's text up to its first
    string, by that text with its digits as 0 (no digit changes how the containers open and
    close), kept from one object to the next (table cells start alike)."""
    out: list[bytes] = []
    # the open containers: [True, key] a dictionary (key: None where a key comes next),
    # [False, renamed] an array (renamed: its strings are IDs); the object itself in an array
    stack: list[list] = [[False, False]]
    start = 0
    find = text.find
    while True:
        at = _next_string(text, start)
        if at < 0 or (  # no string after, or none that can be an ID: the rest as it is
            find(b"/ID", start) < 0
            and find(b"/Headers", start) < 0
            and not any(not is_dict and renamed for is_dict, renamed in stack)
        ):
            out.append(text[start:])
            return b"".join(out)
        run = text[start:at]
        out.append(run)
        if start or known is None:
            _follow(_TOKEN.findall(run), stack)
        else:  # the object's first string
            key = run.translate(_DIGITS_AS_ZERO)
            after = known.get(key)
            if after is None:
                _follow(_TOKEN.findall(run), stack)
                known[key] = tuple(tuple(level) for level in stack)
            else:
                stack = [list(level) for level in after]
        end = _literal_end(text, at) if text[at] == 40 else _hex_end(text, at)
        string, top = text[at:end], stack[-1]
        renamed = top[1] in _ID_KEYS if top[0] else top[1]
        if renamed:
            new = table.get(string)
            if new is None and strict:
                raise ValueError("an ID not written as the table writes it")
            out.append(string if new is None else new)
        else:
            out.append(string)
        if top[0]:
            top[1] = None  # the value is done: a key comes next
        start = end


def _next_string(text: bytes, start: int) -> int:
    """Where the next string (literal or hex) opens at or after ``start``; -1: none."""
    literal = text.find(b"(", start)
    hexa = text.find(b"<", start, literal if literal >= 0 else len(text))
    while hexa >= 0 and text[hexa + 1 : hexa + 2] == b"<":  # "<<" opens a dictionary
        hexa = text.find(b"<", hexa + 2, literal if literal >= 0 else len(text))
    return hexa if hexa >= 0 else literal


def _follow(tokens: list[bytes], stack: list[list]) -> None:
    """Follow tokens (no string among them) through the containers ``stack``."""
    top = stack[-1]
    for token in tokens:
        if token == b"<<":
            top = [True, None]
            stack.append(top)
        elif token == b"[":
            top = [False, top[1] in _ID_KEYS if top[0] else top[1]]
            stack.append(top)
        elif token == b">>" or token == b"]":
            if len(stack) == 1 or top[0] != (token == b">>"):
                raise ValueError("a dictionary or array closed that was not open")
            stack.pop()
            top = stack[-1]
            if top[0]:
                top[1] = None
        elif top[0]:
            if top[1] is None:  # a key, or a reference's generation or R (after its number)
                if token[:1] == b"/":
                    top[1] = token
            else:
                top[1] = None  # a value of one token (a reference's other two are skipped)


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
        self.table = _table(self.number)
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
            for k in _with_ids(texts):
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
