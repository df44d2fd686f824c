"""A language's review checks: its glossary, English left in it, and its reading level.

The glossary of each language is shipped data, ``mesocare/lang/glossary/<language>.yaml``
(what every region of the language shares) and ``<language>-<REGION>.yaml`` (what one region
says its own way). Each names, per concept that recurs in our texts (anti-inflammatory
painkillers, sunscreen, bruise, shower, session...), the term to use and the terms to avoid
there: another region's word, a false friend, a word that means something else to a patient.
A region's entry for a concept replaces the language's.

``avoided(text, tag)`` lists the avoided terms a text uses; ``english_left(text)`` the English
words left in a text of another language; ``readability(text, code)`` the text's score on its
language's own formula (textstat), with the target it must meet. ``rules check`` runs all
three on a clinic's ``rules/lang/`` overlay (:func:`overlay_findings`); the tests run them on
every rendered handout of ours, in every language.

Pure: no clock, no printing; textstat and PyYAML are imported when first needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from mesocare.lang.tags import LANGUAGES

GLOSSARY_DIR = Path(__file__).resolve().parent / "glossary"

# Words of English that no sentence of French, Spanish, Italian, Portuguese or German uses:
# none is a word of those languages too (no "on", "do", "as", "no", "die", "sauna",
# "questions", "patients", "doctor", "stop"), a unit or a brand name. A handout in another
# language that shows one has English left in it.
ENGLISH_WORDS = frozenset(
    """
    the your you yours with and before after appointment appointments instructions
    treatment treated please call should which will what this that these those not don't
    days hours until from when while every each any other people there here aftercare
    reminder clinician week weeks take avoid drink water wear loose clothes sunscreen
    showers shower bath baths exercise
    """.split()  # noqa: SIM905 (a word list reads better as words)
)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


@dataclass(frozen=True)
class Term:
    """One concept in one language: the term to use and the ones to avoid."""

    concept: str
    use: str
    avoid: tuple[str, ...]
    why: str = ""


@dataclass(frozen=True)
class Hit:
    """An avoided term found in a text."""

    term: str
    concept: str
    use: str
    why: str

    def __str__(self) -> str:
        why = f" ({self.why})" if self.why else ""
        return f"'{self.term}': write '{self.use}' for {self.concept.replace('-', ' ')}{why}"


def glossary_files(tag: str) -> list[Path]:
    """The glossary files for a tag: the language's, then its region's (fr.yaml, fr-CA.yaml)."""
    code = tag.split("-")[0]
    names = [code] if tag == code else [code, tag]
    return [
        GLOSSARY_DIR / f"{name}.yaml" for name in names if (GLOSSARY_DIR / f"{name}.yaml").is_file()
    ]


@cache
def glossary(tag: str) -> dict[str, Term]:
    """concept -> Term for ``tag`` (``fr`` alone: what every French region shares)."""
    import yaml

    terms: dict[str, Term] = {}
    for path in glossary_files(tag):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for concept, value in (data.get("terms") or {}).items():
            avoid = value.get("avoid") or []
            terms[concept] = Term(
                concept,
                str(value["use"]),
                tuple(str(a) for a in avoid),
                str(value.get("why") or ""),
            )
    return terms


@cache
def _patterns(tag: str) -> tuple[tuple[re.Pattern, Term, str], ...]:
    out = []
    for term in glossary(tag).values():
        for word in term.avoid:
            out.append((re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE), term, word))
    return tuple(out)


def _plain(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").replace("’", "'").split())


def avoided(text: str, tag: str) -> list[Hit]:
    """Every avoided term of ``tag``'s glossary in ``text`` (case-insensitive, whole words)."""
    plain = _plain(text)
    return [
        Hit(word, t.concept, t.use, t.why)
        for pattern, t, word in _patterns(tag)
        if pattern.search(plain)
    ]


def english_left(text: str) -> list[str]:
    """The English words in a text of another language (sorted, each once)."""
    return sorted(
        {
            w
            for w in (m.group(0).lower() for m in _WORD.finditer(_plain(text)))
            if w in ENGLISH_WORDS
        }
    )


# ----------------------------------------------------------------------------- reading level
# Higher is easier on every scale below. "floor": every single text; "whole": a handout's prose
# or a whole set of texts. 60-70 is plain language on the Flesch-type scales (grade 8-9) and
# Gulpease 60 is easy for a reader with middle-school education.
FORMULAS: dict[str, tuple[str, float, float]] = {  # code -> (formula, whole, floor)
    "fr": ("Flesch reading ease (Kandel-Moles)", 70, 40),
    "es": ("Fernández Huerta", 70, 40),
    "it": ("Gulpease", 60, 50),
    "pt": ("Flesch reading ease (Martins et al.)", 60, 40),
    "de": ("Flesch reading ease (Amstad)", 60, 30),
}


@dataclass(frozen=True)
class Reading:
    score: float
    formula: str
    target: float

    @property
    def ok(self) -> bool:
        return self.score >= self.target


def reading_score(text: str, code: str) -> float:
    """The text's score on its language's formula (textstat; pyphen's syllables, no download)."""
    import textstat

    textstat.set_lang(code)
    if code == "es":
        return float(textstat.fernandez_huerta(text))
    if code == "it":
        return float(textstat.gulpease_index(text))
    if code == "pt":  # textstat has no Portuguese Flesch: Martins et al.'s adaptation (+42)
        from textstat.backend.metrics._syllables_per_word import syllables_per_word
        from textstat.backend.metrics._words_per_sentence import words_per_sentence

        return (
            206.835 - 1.015 * words_per_sentence(text) - 84.6 * syllables_per_word(text, "pt") + 42
        )
    return float(textstat.flesch_reading_ease(text))


def readability(text: str, code: str, whole: bool = False) -> Reading:
    """``text``'s reading level in language ``code`` and the target it must reach."""
    formula, whole_target, floor = FORMULAS[code]
    return Reading(reading_score(text, code), formula, whole_target if whole else floor)


# ----------------------------------------------------------------------------- a clinic's overlay
def _tag_of(path: Path) -> str | None:
    """lang/fr.yaml -> fr, lang/fr-CA.yaml -> fr-CA; None for a file that names no language."""
    name = path.stem
    code = name.split("-")[0].split("_")[0].lower()
    if code not in LANGUAGES:
        return None
    if name == code:
        return code
    region = name[len(code) + 1 :].upper()
    return f"{code}-{region}"


def overlay_findings(folder: Path) -> list:
    """``rules check``: each text of a clinic's ``lang/`` files through its language's glossary,
    the English-left check and the reading level. One finding per problem, with file, line and
    field; a file that cannot be read is left to the translation checks, which report it."""
    from mesocare.errors import MesocareError
    from mesocare.findings import Finding
    from mesocare.lang.texts import display_path
    from mesocare.yamlload import load_yaml_with_lines, read_text

    out: list[Finding] = []
    lang_dir = folder / "lang"
    if not lang_dir.is_dir():
        return out
    for path in sorted(p for p in lang_dir.iterdir() if p.suffix in (".yaml", ".yml")):
        tag = _tag_of(path)
        if tag is None:
            continue
        display = display_path(path)
        try:
            data, lines = load_yaml_with_lines(read_text(path, display), display)
        except (MesocareError, OSError):
            continue
        if not isinstance(data, dict):
            continue
        for kind in ("rules", "notes"):
            section = data.get(kind)
            if not isinstance(section, dict):
                continue
            for item_id, value in section.items():
                if not isinstance(value, dict):
                    continue
                for where, text in _fields(value):
                    loc = (kind, item_id, *where)
                    out.extend(
                        _text_findings(
                            text,
                            tag,
                            display,
                            lines.get(loc) or lines.get(loc[:3]),
                            f"{item_id}." + ".".join(where),
                        )
                    )
    return out


def _fields(value: dict) -> list[tuple[tuple[str, ...], str]]:
    out: list[tuple[tuple[str, ...], str]] = []
    for field in ("name", "text"):
        v = value.get(field)
        if isinstance(v, str):
            out.append(((field,), v))
        elif isinstance(v, dict):
            out.extend(((field, k), t) for k, t in v.items() if isinstance(t, str))
    return out


def _text_findings(text: str, tag: str, file: str, line: int | None, field: str) -> list:
    from mesocare.findings import Finding

    code = tag.split("-")[0]
    out = []
    for hit in avoided(text, tag):
        out.append(Finding("error", file, line, field, f"the {tag} glossary avoids {hit}"))
    if code == "en":
        return out
    english = english_left(text)
    if english:
        out.append(
            Finding(
                "error", file, line, field, f"English left in the {tag} text: {', '.join(english)}"
            )
        )
    if field.endswith(".text") or ".text." in field:
        reading = readability(text, code)
        if not reading.ok:
            out.append(
                Finding(
                    "error",
                    file,
                    line,
                    field,
                    f"the text scores {reading.score:.0f} on {reading.formula}; "
                    f"aim for {reading.target:g} "
                    "or above: shorter sentences and shorter words",
                )
            )
    return out
