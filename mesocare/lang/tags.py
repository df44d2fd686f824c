"""Language tags: which languages mesocare writes, and how a tag such as ``pt_br`` is read.

Every tag mesocare reads (``--lang``, the clinic config, every schedule reader) is parsed
here, by langcodes (BCP 47: ``fr-Latn-FR`` is French in France, ``de-DE-u-fw-sun`` German in
Germany; ISO 639-2 ``fre``, ``ger``; old forms such as ``iw``). No Babel here. langcodes
itself is imported only for a tag that is not written exactly as one of ours (``fr``,
``fr-CA``, ``pt-BR``...): its import costs a run about 40 ms.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from mesocare.errors import InputError

DEFAULT_TAG = "en-GB"
# language -> its default region
LANGUAGES: dict[str, str] = {"en": "GB", "fr": "FR", "es": "ES", "it": "IT", "pt": "PT", "de": "DE"}
# the English names, for messages and the manual (the handout itself uses CLDR's own names)
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "de": "German",
}
# the regions we write our own words for, besides each language's default (pt-BR.yaml, en-US)
SHIPPED_REGIONS = ("en-US", "fr-CA", "es-MX", "pt-BR")
# our tags as we write them (fr, fr-FR, pt-BR): read without importing langcodes, which reads
# each of them the same way (a test checks it)
_OURS: dict[str, tuple[str, str | None]] = {
    **{code: (code, None) for code in LANGUAGES},
    **{f"{code}-{region}": (code, region) for code, region in LANGUAGES.items()},
    **{tag: (tag[:2], tag[3:]) for tag in SHIPPED_REGIONS},
}
SCRIPT = "Latn"  # the script every language we write is written in


class LanguageError(InputError):
    """A language tag mesocare cannot read or does not write."""


@dataclass(frozen=True)
class Tag:
    language: str  # "fr"
    region: str  # "CA"

    @property
    def tag(self) -> str:
        """BCP 47 spelling: fr-CA."""
        return f"{self.language}-{self.region}"

    @property
    def babel(self) -> str:
        """Babel / gettext spelling: fr_CA."""
        return f"{self.language}_{self.region}"

    def __str__(self) -> str:
        return self.tag


class NotATag(LanguageError):
    """A value that is no BCP 47 language tag at all (``''``, ``Zelda``, ``fr--FR``)."""


def supported_words() -> str:
    return ", ".join(LANGUAGES)


def parse_tag(value: str) -> Tag:
    """``fr``, ``FR``, ``fr_ca``, ``fr-CA``, ``fra``, ``fr-Latn-FR``, ``de-DE-u-fw-sun`` -> Tag.

    NotATag for a value that is no tag; LanguageError for a language (or script) we do not
    write. The region is not checked here (that needs CLDR); :func:`mesocare.lang.get` checks it.
    """
    language, region = read_tag(value)
    return Tag(language, region or LANGUAGES[language])


def short_tag(value: str, subject: str | None = None) -> str:
    """The tag as its writer meant it, in canonical form: ``fre`` -> ``fr``, ``pt_br`` ->
    ``pt-BR``, ``fr-Latn-FR`` -> ``fr-FR`` (no region added). Raises like :func:`parse_tag`;
    with ``subject`` ("the language") the message names it instead of quoting the value (a
    schedule's cell may hold a patient's name)."""
    language, region = read_tag(value, subject)
    return f"{language}-{region}" if region else language


def read_tag(value: str, subject: str | None = None) -> tuple[str, str | None]:
    """(language, region or None) of a tag mesocare writes in; see :func:`parse_tag`."""
    text = str(value).strip()
    if text in _OURS:
        return _OURS[text]
    found = _parse(text.replace("_", "-"))
    if isinstance(found, str):
        shown = subject or f"'{_short(text)}'"
        if found == "not a tag":
            raise NotATag(
                f"{shown} is not a language tag: write a language such as fr, or a language and "
                f"region such as fr-CA or pt-BR (mesocare writes {supported_words()})."
            )
        raise LanguageError(
            f"{shown} is not a language mesocare writes handouts in: use one of "
            f"{supported_words()}, optionally with a region such as fr-CA or pt-BR."
        )
    return found


@functools.lru_cache(maxsize=256)
def _parse(text: str) -> tuple[str, str | None] | str:
    """(language, region) of a tag, by langcodes; else why not: "not a tag" or "not ours"."""
    import langcodes

    try:
        parsed = langcodes.Language.get(text, normalize=True) if text else None
    except (ValueError, langcodes.LanguageTagError):
        parsed = None
    if parsed is None or not parsed.language or not parsed.is_valid():
        return "not a tag"
    if parsed.language not in LANGUAGES or parsed.script not in (None, SCRIPT):
        return "not ours"
    return parsed.language, parsed.territory


def _short(text: str) -> str:
    """A tag as quoted in a message: printable and short (it may come from a schedule file)."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= 20 else clean[:20] + "..."
