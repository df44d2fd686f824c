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
object through qpdf instead. ``objects.Renumbering`` writes a piece's objects with it; the result
is the same as ``objects.Serializer``'s, which walks the object in Python and is several times
slower (tests/test_pdf_renumber.py).
"""

from __future__ import annotations

import re

__all__ = ["next_string", "reference_table", "renumber", "renumber_many", "string_end"]

SPACE = rb"\x00\t\n\x0c\r "  # PDF's white-space characters
DELIMITER = rb"()<>\[\]{}/%"
# a token starts, or ends: after, or before, a space or a delimiter (\x01 stands for "<<" here,
# \x02 and \x03 where the renumbering cut the text: between objects, and where a string was)
_CUT = SPACE + rb"()<>\[\]{}\x01\x02\x03"
# The token R and, before it, a reference's two integer tokens (group 1: its number), read in
# the text reversed: "12 0 R" reads "R 0 21". Forwards, a regular expression for a reference
# starts with a digit and is tried at every digit of the text (numbers abound: coordinates,
# marked-content ids); backwards it starts with the letter R, which it finds by a fast scan:
# the renumbering of a piece takes a third of the time. A token R (after a space or a delimiter,
# before one, "/" or "%") that no two integers stand before matches with no group 1: an error.
_REVERSED_REFERENCE = re.compile(
    rb"R(?<![^" + _CUT + rb"/%]R)"  # (before R: "reversed", so what follows R in the text)
    rb"(?:[" + SPACE + rb"]+\d+[" + SPACE + rb"]+(\d+)(?![^" + _CUT + rb"])|(?![^" + _CUT + rb"]))"
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
    ``number`` as written (``reference_table``), when made once for many calls."""
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
    joined = _renumbered(runs, strings, number, nowhere, table)
    return joined.replace(b"\x01", b"<<").split(b"\x02")


def _renumber_alone(text: bytes, number, nowhere, table) -> bytes:
    """One text that holds \x01, \x02 or \x03 (inside its strings: else it is an error)."""
    runs: list[bytes] = []
    strings = _strings(text, runs)
    if any(run.find(b"\x02") >= 0 for run in runs):
        raise ValueError("a byte the renumbering does not read outside a string (\\x02)")
    return _renumbered(runs, strings, number, nowhere, table)


def _renumbered(runs: list[bytes], strings: list[bytes], number, nowhere, table) -> bytes:
    """The text outside strings (``runs``) with its references renumbered, put back together
    with the ``strings`` between them."""
    outside = b"\x03".join(runs)
    if outside.count(b"\x03") != len(runs) - 1 or outside.find(b"%") >= 0:
        raise ValueError("a byte the renumbering does not read outside a string (\\x03, %)")
    done = _references(outside, number, nowhere, table).split(b"\x03")
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
    at = next_string(text, 0)
    while at >= 0:
        end = string_end(text, at)
        runs.append(text[start:at])
        strings.append(text[at:end])
        start = end
        at = next_string(text, end)
    runs.append(text[start:])
    return strings


def string_end(text: bytes, at: int) -> int:
    """Just past the string (literal or hex) that opens at ``at``."""
    return _literal_end(text, at) if text[at] == 40 else _hex_end(text, at)


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
    (``reference_table(number)``, made once for many runs) gives each new reference."""
    if run.find(b"R") < 0:
        return run
    # backwards (see _REVERSED_REFERENCE): numbers, and the new references, reversed too
    parts = _REVERSED_REFERENCE.split(run[::-1])
    numbers = parts[1::2]
    if None in numbers:
        raise ValueError("an R not after two integers")
    written = list(map((table if table is not None else reference_table(number)).get, numbers))
    if None in written:  # a number not in the table as written ("007"), or not in ``number``
        written = [
            w if w is not None else (b"%d 0 R" % number.get(int(n[::-1]), nowhere))[::-1]
            for w, n in zip(written, numbers, strict=True)
        ]
    parts[1::2] = written
    return b"".join(parts)[::-1]


def reference_table(number: dict[int, int]) -> dict[bytes, bytes]:
    """Each number of ``number`` as written (no leading zero), to its new reference; both
    reversed, as ``_references`` reads them (made once for a piece's many calls)."""
    return {(b"%d" % old)[::-1]: (b"%d 0 R" % new)[::-1] for old, new in number.items()}


def next_string(text: bytes, start: int) -> int:
    """Where the next string (literal or hex) opens at or after ``start``; -1: none."""
    literal = text.find(b"(", start)
    hexa = text.find(b"<", start, literal if literal >= 0 else len(text))
    while hexa >= 0 and text[hexa + 1 : hexa + 2] == b"<":  # "<<" opens a dictionary
        hexa = text.find(b"<", hexa + 2, literal if literal >= 0 else len(text))
    return hexa if hexa >= 0 else literal
