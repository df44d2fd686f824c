"""The emergency numbers of the clinic's country, printed on every handout beside the clinic's
phone (public safety, not clinical advice).

The numbers are data: ``instructions/emergency-numbers.json`` (from the clinical facts file),
keyed by ISO 3166-1 alpha-2 code. A country that is not listed, or no country at all, gives
no number, and the handout says "the emergency number" rather than guess.
"""

from __future__ import annotations

import json
from functools import lru_cache

from mesocare.resources import instructions_dir

FILE_NAME = "emergency-numbers.json"


@lru_cache(maxsize=1)
def _table() -> dict[str, tuple[str, ...]]:
    data = json.loads((instructions_dir() / FILE_NAME).read_text(encoding="utf-8"))
    return {code: tuple(numbers) for code, numbers in data["numbers"].items()}


def numbers(country: str | None) -> tuple[str, ...]:
    """("999", "112") for "GB"; () for an unknown country or None."""
    if not country:
        return ()
    return _table().get(country.upper(), ())


def known_countries() -> tuple[str, ...]:
    return tuple(sorted(_table()))
