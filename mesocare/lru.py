"""A bounded table of values made on first use, the least recently used dropped first.

Shared by the batch's handout cache and the streamed JSON's encoded items: many rows of a
day's list share a time and area, so their work is done once and memory stays bounded.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

V = TypeVar("V")


def get_or_make(table: OrderedDict, key: Hashable, make: Callable[[], V], size: int) -> V:
    """``table[key]``, made by ``make()`` when missing; past ``size`` entries the oldest goes."""
    value = table.get(key)
    if value is None:
        value = table[key] = make()
        if len(table) > size:
            table.popitem(last=False)
    else:
        table.move_to_end(key)
    return value
