"""One lookup in a bounded cache (a cachetools ``LRUCache``): the value for a key, made when it
is missing."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def get_or_make(table: MutableMapping[K, V], key: K, make: Callable[[], V]) -> V:
    """``table[key]``, made by ``make()`` and kept when it is missing. A hit is one lookup (it
    makes the entry the most recently used); ``table.get`` would be two (``in``, then the item)
    and is a few per cent of a long ndjson run. Past the table's size, the least recently used
    entry goes."""
    try:
        return table[key]
    except KeyError:
        value = table[key] = make()
        return value
