"""The language layer: every word a patient or a nurse reads goes through here.

- :mod:`mesocare.lang.tags`: which languages and regions, and how tags are read (no Babel);
- :mod:`mesocare.lang.language`: one locale's dates and times (CLDR via Babel), phrase
  grammar (:mod:`mesocare.lang.grammar`), gettext catalog and typography;
- :mod:`mesocare.lang.catalog`: the gettext catalogs (``mesocare/locales/*/LC_MESSAGES``);
- :mod:`mesocare.lang.texts`: rule and note texts per language (``instructions/lang/*.yaml``).

``get(tag)`` returns one cached Language per tag and process.
"""

from __future__ import annotations

from functools import cache

from mesocare.lang.language import Language
from mesocare.lang.tags import (
    DEFAULT_TAG, LANGUAGE_NAMES, LANGUAGES, LanguageError, NotATag, Tag, parse_tag, short_tag,
)

__all__ = [
    "DEFAULT_TAG", "LANGUAGES", "LANGUAGE_NAMES", "Language", "LanguageError", "NotATag", "Tag", "get",
    "parse_tag", "short_tag",
]


def get(tag: str | None = None) -> Language:
    """The Language for a tag (``None``: the default, en-GB). Raises LanguageError (NotATag
    for ``''`` and other values that are no tag)."""
    return _get(parse_tag(tag).tag if tag is not None else DEFAULT_TAG)


@cache
def _get(canonical: str) -> Language:
    return Language(parse_tag(canonical)).check()
