"""``--format json`` (one object, schema mesocare.handout/1) and batch ``json`` / ``ndjson``.

A batch is written as a stream (``stream_batch``): one line (ndjson) or one array element
(json) per handout, as the handouts come, so memory does not grow with the list. The bytes are
exactly those of ``json.dumps`` over the whole list. Rows of a batch share most of their items
and notes (same day, time and area): each distinct item or note is encoded once and its text
reused (a bounded cache).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import lru_cache

from mesocare.handout import handout_dict, item_dict, note_dict
from mesocare.model import Batch, Handout

INDENT = 2  # batch json and a single handout's json are indented; ndjson is compact
FRAGMENTS = 4096  # encoded items and notes kept


def _dumps(obj, indent: int | None) -> str:
    return json.dumps(
        obj, ensure_ascii=False, indent=indent, separators=None if indent else (",", ":")
    )


def render(handout: Handout, **options) -> str:
    return _dumps(handout_dict(handout), INDENT) + "\n"


class _Encoded:
    """One item's or note's JSON, compact, and indented (as at the top level) when first asked
    for."""

    __slots__ = ("_indented", "compact", "value")

    def __init__(self, value: dict):
        self.value = value
        self.compact = _dumps(value, None)
        self._indented: str | None = None

    @property
    def indented(self) -> str:
        if self._indented is None:
            self._indented = _dumps(self.value, INDENT)
        return self._indented


class _List:
    """The JSON of a handout's items (or notes): the encoded parts, joined when first asked for."""

    __slots__ = ("_compact", "parts")

    def __init__(self, parts: list[_Encoded]):
        self.parts = parts
        self._compact: str | None = None

    @property
    def compact(self) -> str:
        if self._compact is None:
            self._compact = "[" + ",".join(p.compact for p in self.parts) + "]"
        return self._compact

    def indented(self, inner: str, deeper: str) -> str:
        if not self.parts:
            return "[]"
        return (
            "["
            + ",".join(deeper + p.indented.replace("\n", deeper) for p in self.parts)
            + inner
            + "]"
        )


def _encoded_item(i, start_offset, end_offset) -> _Encoded:
    """An item encoded (the offsets are only part of the cache's key)."""
    return _Encoded(item_dict(i))


def _encoded_note(n) -> _Encoded:
    return _Encoded(note_dict(n))


class Encoder:
    """Handouts to JSON text, each distinct item and note encoded once (at most ``size`` kept).

    Rows that share a computed handout share its items and notes (the same tuple): their
    encoded list is found by identity first, then each item by value.
    """

    def __init__(self, size: int = FRAGMENTS):
        self.size = size
        from cachetools import LRUCache

        # each distinct item and note encoded once: functools' cache, whose look-up is written
        # in C, as a long list looks up an item or note some twenty times a row (with cachetools'
        # look-up, written in Python, a 2,000-row ndjson run took a tenth more instructions)
        self._items = lru_cache(maxsize=size)(_encoded_item)
        self._notes = lru_cache(maxsize=size)(_encoded_note)
        self._lists: LRUCache = LRUCache(size)  # id(tuple) -> (the tuple, kept alive; its _List)
        self._keys: dict[str, str] = {}

    def _item(self, i) -> _Encoded:
        # the offsets tell apart equal-looking times in the hour that repeats when clocks go back
        return self._items(i, i.start.utcoffset(), i.end.utcoffset() if i.end is not None else None)

    def _note(self, n) -> _Encoded:
        return self._notes(n)

    def _list(self, values: tuple, encode) -> _List:
        held = self._lists.get(id(values))
        if held is not None and held[0] is values:
            return held[1]
        encoded = _List([encode(v) for v in values])
        self._lists[id(values)] = (values, encoded)
        return encoded

    def _dict(self, h: Handout) -> dict:
        return handout_dict(
            h, items=lambda t: self._list(t, self._item), notes=lambda t: self._list(t, self._note)
        )

    def _key(self, name: str) -> str:
        quoted = self._keys.get(name)
        if quoted is None:
            quoted = self._keys[name] = _dumps(name, None)
        return quoted

    def line(self, h: Handout) -> str:
        """One handout as one compact line (ndjson), with its newline."""
        parts = []
        for name, value in self._dict(h).items():
            text = value.compact if isinstance(value, _List) else _dumps(value, None)
            parts.append(f"{self._key(name)}:{text}")
        return "{" + ",".join(parts) + "}\n"

    def element(self, h: Handout, level: int = 1) -> str:
        """One handout indented as an element of a list at ``level``
        (``json.dumps(..., indent=2)``)."""
        inner = "\n" + " " * (INDENT * (level + 1))
        deeper = "\n" + " " * (INDENT * (level + 2))
        parts = []
        for name, value in self._dict(h).items():
            if isinstance(value, _List):
                text = value.indented(inner, deeper)
            else:
                text = _dumps(value, INDENT).replace("\n", inner)
            parts.append(f"{inner}{self._key(name)}: {text}")
        return "{" + ",".join(parts) + "\n" + " " * (INDENT * level) + "}"


def stream_batch(handouts: Iterable[Handout], ndjson: bool = False) -> Iterator[str]:
    """The batch's JSON text in pieces, one handout at a time, as the handouts come."""
    encoder = Encoder()
    if ndjson:
        for h in handouts:
            yield encoder.line(h)
        return
    first = True
    for h in handouts:
        yield ("[\n" if first else ",\n") + " " * INDENT + encoder.element(h)
        first = False
    yield "[]\n" if first else "\n]\n"


def render_batch(batch: Batch, ndjson: bool = False, **options) -> str:
    return "".join(stream_batch(batch.handouts, ndjson))
