"""Language tags: which languages mesocare writes, and how a tag such as ``pt_br`` is read.

Pure and cheap: no Babel here, so the default path never imports it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mesocare.errors import InputError

DEFAULT_TAG = "en-GB"
# language -> its default region
LANGUAGES: dict[str, str] = {"en": "GB", "fr": "FR", "es": "ES", "it": "IT", "pt": "PT", "de": "DE"}
# the English names, for messages and the README (the handout itself uses CLDR's own names)
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese", "de": "German",
}
# ISO 639-2 (HL7 PID-15 and other systems send these)
ALIASES: dict[str, str] = {
    "eng": "en", "fre": "fr", "fra": "fr", "spa": "es", "ita": "it", "por": "pt", "ger": "de", "deu": "de",
}
_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|[0-9]{3}))?$")


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


def supported_words() -> str:
    return ", ".join(LANGUAGES)


def parse_tag(value: str) -> Tag:
    """``fr``, ``FR``, ``fr_ca``, ``fr-CA``, ``fra`` -> Tag. Unknown languages raise LanguageError.

    The region is not checked here (that needs CLDR); :func:`mesocare.lang.get` checks it.
    """
    text = str(value).strip()
    m = _TAG.match(text)
    if not m:
        raise LanguageError(
            f"'{_short(text)}' is not a language tag: write a language such as fr, or a language "
            f"and region such as fr-CA or pt-BR (mesocare writes {supported_words()})."
        )
    lang = m.group(1).lower()
    lang = ALIASES.get(lang, lang)
    if lang not in LANGUAGES:
        raise LanguageError(
            f"'{_short(text)}' is not a language mesocare writes handouts in: use one of "
            f"{supported_words()}, optionally with a region such as fr-CA or pt-BR."
        )
    region = (m.group(2) or LANGUAGES[lang]).upper()
    return Tag(lang, region)


def _short(text: str) -> str:
    """A tag as quoted in a message: printable and short (it may come from a schedule file)."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= 20 else clean[:20] + "..."
