"""An object of a piece, written by qpdf (``unparse``) and renumbered: each reference ``N G R``
gets the joined file's number ``M 0 R``; nothing else changes.

qpdf writes an object in one canonical form: tokens separated by one space (``<< /K [ 12 0 R ]
/T (x) >>``), a name with every delimiter, space or unusual byte as ``#xx``, a string either
literal, ``( ... )``, with its parentheses and backslashes escaped and no raw line break or NUL,
or hex, ``< ... >``, of hex digits only. The tokenizer here skips the strings (so a title that
reads "(x) 12 0 R" stays that text), and in what lies between them takes a token ``R`` as a
reference, its two tokens before it the number and generation. A text it does not understand
(a bare ``R`` not after two integers, a ``R`` glued to a delimiter, whitespace other than a
space) is an error, never a guess: the result is the same as ``objects.Serializer``'s, which
walks the object in Python and is several times slower (tests/test_pdf_renumber.py).
"""

from __future__ import annotations

__all__ = ["Renumbering", "rename_ids", "renumber", "renumber_many"]

_OTHER_SPACE = (b"\r", b"\t", b"\f", b"\x00", b"\x01", b"\x02")
_SEPARATOR = b" \n "  # between objects renumbered together: qpdf writes no raw line break
# (``bytes.find``, not ``in``: Python 3.11's ``in`` on bytes first tries the operand as an
# integer, an exception raised and cleared each time, ten times the cost of the search)


def renumber(text: bytes, number: dict[int, int], nowhere: int) -> bytes:
    """``text`` (qpdf's ``unparse`` of an object) with every reference ``N G R`` written
    ``number[N] 0 R`` (``nowhere`` for a number not in ``number``)."""
    if text.find(b"R") < 0:
        return text  # no reference: there is no R outside a name or string
    return renumber_many([text], number, nowhere)[0]


def renumber_many(
    texts: list[bytes],
    number: dict[int, int],
    nowhere: int,
    table: dict[bytes, bytes] | None = None,
) -> list[bytes]:
    """``renumber`` for each of ``texts``, done at once (one pass over them all); ``table``:
    ``number`` as written (``_table``), when made once for many calls."""
    text = _SEPARATOR.join(texts)
    if text.count(b"\n") != len(texts) - 1 or any(text.find(s) >= 0 for s in _OTHER_SPACE):
        raise ValueError("not qpdf's canonical form: whitespace other than a space")
    # "<<" opens a dictionary; here \x01 (qpdf writes none), so that "<" opens a hex string
    text = text.replace(b"<<", b"\x01")
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
            at, end = hexa, text.index(b">", hexa) + 1
        runs.append(text[start:at])
        strings.append(text[at:end])
        start = end
        if 0 <= literal < end:  # (-1: there is none left)
            literal = find(b"(", end)
        if 0 <= hexa < end:
            hexa = find(b"<", end)
    runs.append(text[start:])
    # the references of all runs at once, \x02 (which qpdf writes nowhere) where strings were
    runs = _references(b"\x02".join(runs), number, nowhere, table).split(b"\x02")
    out = [b""] * (2 * len(runs) - 1)
    out[0::2], out[1::2] = runs, strings
    return b"".join(out).replace(b"\x01", b"<<").split(_SEPARATOR)


def _next_string(text: bytes, start: int) -> int:
    """Where the next string (literal or hex) starts at or after ``start``; -1: none."""
    literal = text.find(b"(", start)
    hexa = text.find(b"<", start)
    while hexa >= 0 and text[hexa + 1 : hexa + 2] == b"<":  # "<<" opens a dictionary
        hexa = text.find(b"<", hexa + 2)
    if hexa < 0:
        return literal
    return hexa if literal < 0 or hexa < literal else literal


def _literal_end(text: bytes, at: int) -> int:
    """Just past the literal string that opens at ``at``: balanced parentheses, a backslash
    escapes the byte after it (qpdf escapes every parenthesis; PDF allows balanced ones)."""
    depth, i = 1, at + 1
    find = text.find
    while depth:
        close = find(b")", i)
        if close < 0:
            raise ValueError("not qpdf's canonical form: a string that does not end")
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
    """``run``, text between strings, with its references renumbered. A token that starts with
    R is the keyword R (a name starts with /): " R" is where each reference ends. ``table``
    (``_table(number)``, made once for many runs) gives a number's new reference as written."""
    pieces = run.split(b" R")
    if len(pieces) == 1:
        return run
    # each " R" a whole token: a space or the end after it
    if run.count(b" R ") + run.endswith(b" R") != len(pieces) - 1:
        raise ValueError("not qpdf's canonical form: a token that starts with R")
    try:
        heads = [head for piece in pieces[:-1] for head in piece.rsplit(b" ", 2)]
        numbers = heads[1::3]
        tokens = numbers + heads[2::3]
        if len(heads) != 3 * (len(pieces) - 1) or not all(tokens):
            raise ValueError
        if not b"-".join(tokens).replace(b"-", b"0").isdigit():
            raise ValueError
    except ValueError:
        raise ValueError("not qpdf's canonical form: R not after two integers") from None
    written = list(map((table if table is not None else _table(number)).get, numbers))
    if None in written:  # a number not in the table as written ("007"), or not in ``number``
        written = [
            w if w is not None else b" %d 0 R" % number.get(int(n), nowhere)
            for w, n in zip(written, numbers, strict=True)
        ]
    out: list = [b""] * (2 * len(written) + 1)  # heads and written numbers, none of them None
    out[0:-1:2], out[1::2], out[-1] = heads[0::3], written, pieces[-1]
    return b"".join(out)


def _table(number: dict[int, int]) -> dict[bytes, bytes]:
    """Each number of ``number`` as qpdf writes it, to its new reference as written."""
    return {b"%d" % old: b" %d 0 R" % new for old, new in number.items()}


_ID_KEYS = (b"/ID", b"/Headers")


def rename_ids(text: bytes, table: dict[bytes, bytes]) -> bytes:
    """``text`` (qpdf's ``unparse`` of an object) with each string that is the value of an
    ``/ID`` or ``/Headers`` key, or inside an array that is, written ``table[string]`` (strings
    as qpdf writes them; a string not in ``table`` stays), as ``Serializer`` renames IDs."""
    out: list[bytes] = []
    # the open containers: [True, key] a dictionary (key: None where a key comes next),
    # [False, renamed] an array (renamed: its strings are IDs); the object itself in an array
    stack: list[list] = [[False, False]]
    start = 0
    while True:
        at = _next_string(text, start)
        if at < 0:  # no string after: nothing left to rename
            out.append(text[start:])
            return b"".join(out)
        run = text[start:at]
        out.append(run)
        _follow(run.split(b" "), stack)
        end = _literal_end(text, at) if text[at] == 40 else text.index(b">", at) + 1
        string, top = text[at:end], stack[-1]
        renamed = top[1] in _ID_KEYS if top[0] else top[1]
        out.append(table.get(string, string) if renamed else string)
        if top[0]:
            top[1] = None  # the value is done: a key comes next
        start = end


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
            stack.pop()
            top = stack[-1]
            if top[0]:
                top[1] = None
        elif top[0] and token:
            if top[1] is None:  # a key, or a reference's generation or R (after its number)
                if token[:1] == b"/":
                    top[1] = token
            else:
                top[1] = None  # a value of one token (a reference's other two are skipped)


class Renumbering:
    """A piece's objects written with the joined file's numbers: qpdf writes each, ``renumber``
    changes its references, ``rename_ids`` the IDs of table cells (``/ID``, ``/Headers``), which
    the join prefixes with the piece's number. The same bytes as ``serial.body``
    (``objects.Serializer``), in a fraction of the time."""

    def __init__(self, serial):
        import pikepdf

        self.number, self.nowhere = serial.number, serial.nowhere
        self.table = _table(self.number)
        self.ids = {pikepdf.String(old).unparse(): new.unparse() for old, new in serial.ids.items()}
        self._stream = pikepdf.ObjectType.stream

    def body(self, obj) -> bytes:
        """The object itself (for a stream: its dictionary), as ``Serializer.body`` writes it."""
        if obj._type_code == self._stream:  # noqa: SLF001 (pikepdf's kind, without isinstance)
            return self.bodies([obj.stream_dict])[0]
        return self.bodies([obj])[0]

    def bodies(self, objects: list) -> list[bytes]:
        """``body`` of each of ``objects`` (none a stream), done at once."""
        texts = [obj.unparse(resolved=True) for obj in objects]
        if self.ids:
            ids, rename = self.ids, rename_ids
            texts = [
                rename(text, ids)
                if text.find(b"/ID ") >= 0 or text.find(b"/Headers ") >= 0
                else text
                for text in texts
            ]
        return renumber_many(texts, self.number, self.nowhere, self.table)
