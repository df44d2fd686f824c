"""gettext catalogs for template and UI strings.

The ``.po`` files live in ``mesocare/locales/<lang>/LC_MESSAGES/mesocare.po`` (in the repo,
edited by translators); the wheel ships the compiled ``.mo`` beside them (compiled by the
build hook in ``hatch_build.py``). The msgids are the English (en-GB) text, so English needs
no catalog.

A region may have its own catalog (``pt_BR``) holding only the strings that differ; the
language's catalog (``pt``) answers the rest. A string missing from a language's catalogs is
an error, never English inside a French handout.
"""

from __future__ import annotations

import gettext
import io
from pathlib import Path

from mesocare.errors import TemplateError

DOMAIN = "mesocare"


def locales_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "locales"


def catalog_files(code: str) -> tuple[Path, Path]:
    folder = locales_dir() / code / "LC_MESSAGES"
    return folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


def _in_checkout() -> bool:
    return (locales_dir().parent.parent / "pyproject.toml").is_file()


def _load(code: str) -> gettext.GNUTranslations | None:
    """The compiled catalog (stdlib gettext, no Babel). In a checkout whose .po was edited
    since the last build, the .po is compiled in memory instead, so a translator sees the edit."""
    po, mo = catalog_files(code)
    stale = (
        _in_checkout()
        and po.is_file()
        and (not mo.is_file() or mo.stat().st_mtime_ns < po.stat().st_mtime_ns)
    )
    if mo.is_file() and not stale:
        with mo.open("rb") as f:
            return gettext.GNUTranslations(f)
    if po.is_file() and _in_checkout():
        return gettext.GNUTranslations(io.BytesIO(compile_po(po)))
    return None


def compile_po(po: Path) -> bytes:
    """The .mo bytes for a .po file (Babel's reader and writer; fuzzy entries are left out)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


class MissingTranslation(TemplateError):
    """A template or UI string has no text in the handout's language."""


class Catalog:
    """A region's catalog over its language's; a missing string raises MissingTranslation."""

    def __init__(self, language, chain: list[gettext.GNUTranslations]):
        self.language = language
        self.chain = chain

    def _find(self, key):
        for t in self.chain:
            # the stdlib has no public lookup that can fail (typeshed leaves _catalog out)
            value = t._catalog.get(key)  # type: ignore[attr-defined]  # noqa: SLF001
            if value:
                return value
        return None

    def gettext(self, message: str) -> str:
        value = self._find(message)
        if value is None:
            raise MissingTranslation(
                f"the {self.language.english_name} catalog has no text for the template string "
                f"'{message}': "
                f"add it to mesocare/locales/{self.language.code}/LC_MESSAGES/mesocare.po."
            )
        return value

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        for t in self.chain:
            if (singular, 0) in t._catalog:  # type: ignore[attr-defined]  # noqa: SLF001
                return t.ngettext(singular, plural, n)
        raise MissingTranslation(
            f"the {self.language.english_name} catalog has no text for the template string "
            f"'{singular}': "
            f"add it to mesocare/locales/{self.language.code}/LC_MESSAGES/mesocare.po."
        )


def regional(code: str) -> gettext.NullTranslations | None:
    """An English region's catalog (en_US): only the strings it says another way; gettext
    answers the msgid itself for the rest. None when the region has no catalog."""
    return _load(code)


def translations(language) -> Catalog:
    chain = [t for t in (_load(language.babel_name), _load(language.code)) if t is not None]
    if not chain:
        raise MissingTranslation(
            f"the {language.english_name} catalog (mesocare/locales/{language.code}) is missing "
            "from this installation."
        )
    return Catalog(language, chain)
