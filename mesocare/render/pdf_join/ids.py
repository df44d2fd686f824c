"""The IDs of a piece's table header cells, renamed: the join puts the piece's number in front
of each (``p000003-U1x0y0``) so that they stay unique in the joined file, in the ID tree and
in every cell that names them: each string that is the value of an ``/ID`` or ``/Headers`` key,
or inside an array that is. The object's text is followed token by token (``renumber``'s
reading of PDF's syntax) to know where each string stands; nothing else changes.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

from mesocare.render.pdf_join.renumber import DELIMITER, SPACE, next_string, string_end

__all__ = ["has_ids", "hides_id_key", "rename_ids", "rename_ids_strict", "with_ids"]

_TOKEN = re.compile(
    rb"<<|>>|[\[\]{}]|/[^" + SPACE + DELIMITER + rb"]*|[^" + SPACE + DELIMITER + rb"]+"
)
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


def with_ids(texts: list[bytes]) -> list[int]:
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


_ESCAPED_NAME = re.compile(rb"/[^" + SPACE + DELIMITER + rb"]*#[^" + SPACE + DELIMITER + rb"]*")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


def hides_id_key(text: bytes) -> bool:
    """Whether ``text`` spells ``/ID`` or ``/Headers`` with a ``#`` escape ("/I#44"), which the
    renaming does not read (qpdf writes every name plainly)."""
    for name in _ESCAPED_NAME.findall(text) if text.find(b"#") >= 0 else ():
        if _ESCAPE.sub(lambda code: bytes.fromhex(code[1].decode()), name) in _ID_KEYS:
            return True
    return False


_EMPTY_HEADERS = re.compile(rb"/Headers[" + SPACE + rb"]*\[[" + SPACE + rb"]*\]")


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
        at = next_string(text, start)
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
        end = string_end(text, at)
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
