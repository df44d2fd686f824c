"""The language layer: every word a patient or a nurse reads goes through here.

- :mod:`mesocare.lang.tags`: which languages and regions, and how tags are read (no Babel);
- :mod:`mesocare.lang.language`: one locale's dates and times (CLDR via Babel), phrase
  grammar (:mod:`mesocare.lang.grammar`), gettext catalog and typography;
- :mod:`mesocare.lang.catalog`: the gettext catalogs (``mesocare/locales/*/LC_MESSAGES``);
- :mod:`mesocare.lang.texts`: rule and note texts per language (``instructions/lang/*.yaml``).

``get(tag)`` returns one cached Language per tag and process. Which language a handout or a
sheet is written in is decided here, once, where it is built: ``handout_language`` (the
patient's, else the clinic's) and ``clinic_language`` (a batch's cover sheet, its calendar and
outline, ``mesocare plan``: the clinic's). The decided Language then travels on the
``Handout`` (``h.lang``) and the ``Batch`` (``batch.lang``); nothing downstream reads a tag again.
"""

from __future__ import annotations

from functools import cache
from typing import Protocol

from mesocare.lang.language import Language
from mesocare.lang.tags import (
    DEFAULT_TAG,
    LANGUAGE_NAMES,
    LANGUAGES,
    LanguageError,
    NotATag,
    Tag,
    parse_tag,
    short_tag,
)


class _Tagged(Protocol):
    """A request or a clinic, as far as its language goes (no import of the model)."""

    @property
    def language(self) -> str | None: ...


__all__ = [
    "DEFAULT_TAG",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "Language",
    "LanguageError",
    "NotATag",
    "Tag",
    "clinic_language",
    "get",
    "handout_language",
    "parse_tag",
    "short_tag",
]


def get(tag: str | None = None) -> Language:
    """The Language for a tag (``None``: the default, en-GB). Raises LanguageError (NotATag
    for ``''`` and other values that are no tag)."""
    return _get(parse_tag(tag).tag if tag is not None else DEFAULT_TAG)


@cache
def _get(canonical: str) -> Language:
    return Language(parse_tag(canonical)).check()


def clinic_language(clinic: _Tagged) -> Language:
    """The clinic's language (config ``language:``): what its staff read, whatever the patients
    do: a batch's cover sheet, the batch calendar and the PDF outline, ``mesocare plan``."""
    return get(clinic.language)


def handout_language(request: _Tagged, clinic: _Tagged) -> Language:
    """A handout's language: the patient's (the request's tag), else the clinic's."""
    return get(request.language) if request.language else clinic_language(clinic)
