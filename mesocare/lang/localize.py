"""The words of each rule and note in the handout's language.

English reads the rule files' own ``name``, ``text`` and ``reason``. Every other language reads
them from the translation files (:mod:`mesocare.lang.texts`): ours for our rules, the clinic's
for the rules the clinic wrote or replaced. A rule without a text in the language asked for
is an error naming the rule, its file and the language; it is never printed in English.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from mesocare.errors import RuleFileError
from mesocare.lang.language import Language
from mesocare.lang.tags import LANGUAGE_NAMES

if TYPE_CHECKING:
    from mesocare.lang.texts import Texts


class MissingRuleText(RuleFileError):
    """A rule or note has no text in the handout's language."""


@dataclass(frozen=True)
class RuleWords:
    name: str
    text: str
    reason: str
    resume: str | None = None  # what the patient may do again when the step ends


class Localizer:
    """Looks up rule and note words in one language for one set of rule folders."""

    def __init__(self, lang: Language, folders: tuple[tuple[str, str], ...] = ()):
        self.lang = lang
        self.folders = folders
        self._texts: Texts | None = None

    @property
    def texts(self):
        """Every translation file for this language (read on first use: English never needs
        them)."""
        if self._texts is None:
            from mesocare.lang.texts import load_texts

            self._texts = load_texts(self.lang, [(Path(f), origin) for f, origin in self.folders])
        return self._texts

    @property
    def english(self) -> bool:
        return self.lang.code == "en"

    def credit(self) -> dict | None:
        """Our translation record for this language (the clinic's files may add their own)."""
        if self.english:
            return None
        ours = [c for c in self.texts.credits if "by" in c]
        return ours[0] if ours else None

    def _missing(self, kind: str, item, field: str) -> MissingRuleText:
        lang = self.lang
        return MissingRuleText(
            item.file,
            item.line or None,
            field,
            f"{kind} '{item.id}' has no {LANGUAGE_NAMES[lang.code]} {field} for a handout in "
            f"{lang.tag}: "
            f"add it under {kind}s: in lang/{lang.code}.yaml in the folder of "
            f"{Path(item.file).name}",
        )

    def _regional(self, kind: str, item):
        """An English region's own words for one of its rules (lang/en-US.yaml: liters), or None."""
        if self.lang.is_default:
            return None
        return self.texts.entry(kind, item.id, item.origin)

    def rule(self, rule, units: str) -> RuleWords:
        if self.english:
            words = RuleWords(rule.name, rule.text_for(units), rule.reason, rule.resume)
            entry = self._regional("rule", rule)
            if entry is None:
                return words
            text = (
                entry.text_for(units)
                if units != "us" or entry.text_us or not rule.text_us
                else None
            )
            return RuleWords(
                entry.name or words.name,
                text or words.text,
                entry.reason or words.reason,
                (entry.resume or words.resume) if rule.resume else None,
            )
        entry = self.texts.entry("rule", rule.id, rule.origin)
        if entry is None or not entry.text:
            raise self._missing("rule", rule, "text")
        text = entry.text_for(units)
        if units == "us" and rule.text_us and not entry.text_us:
            raise self._missing("rule", rule, "text.us")
        if not entry.name:
            raise self._missing("rule", rule, "name")
        if not entry.reason:
            raise self._missing("rule", rule, "reason")
        # no resume text in this language: the calendar says the step is over, by name
        return RuleWords(entry.name, text, entry.reason, entry.resume if rule.resume else None)

    def note(self, note, units: str) -> str:
        if self.english:
            entry = self._regional("note", note)
            own = (
                entry.text_for(units)
                if entry is not None and (units != "us" or entry.text_us or not note.text_us)
                else None
            )
            return own or note.text_for(units)
        entry = self.texts.entry("note", note.id, note.origin)
        if entry is None or not entry.text:
            raise self._missing("note", note, "text")
        if units == "us" and note.text_us and not entry.text_us:
            raise self._missing("note", note, "text.us")
        return entry.text_for(units)

    def problems(self, ruleset) -> list[MissingRuleText]:
        """Every rule and note without its words in this language (for ``rules check``)."""
        out: list[MissingRuleText] = []
        if self.english:
            return out
        for r in ruleset.rules:
            entry = self.texts.entry("rule", r.id, r.origin)
            for field in ("name", "text", "reason"):
                if entry is None or not getattr(entry, field):
                    out.append(self._missing("rule", r, field))
            if r.text_us and entry is not None and entry.text and not entry.text_us:
                out.append(self._missing("rule", r, "text.us"))
        for n in ruleset.notes:
            entry = self.texts.entry("note", n.id, n.origin)
            if entry is None or not entry.text:
                out.append(self._missing("note", n, "text"))
            elif n.text_us and not entry.text_us:
                out.append(self._missing("note", n, "text.us"))
        return out


def localizer(language: Language, folders: tuple[tuple[str, str], ...]) -> Localizer:
    """One Localizer per language, rule folders and state of their translation files, per
    process (a file edited since is read again)."""
    english = language.is_default  # the rule files' own words: no files to watch
    return _localizer(language, folders, () if english else _stamp(folders))


def _stamp(folders: tuple[tuple[str, str], ...]) -> tuple:
    out = []
    for folder, _origin in folders:
        try:
            for entry in sorted((Path(folder) / "lang").iterdir()):
                st = entry.stat()
                out.append((str(entry), st.st_mtime_ns, st.st_size))
        except OSError:
            continue
    return tuple(out)


@lru_cache(maxsize=32)
def _localizer(language: Language, folders: tuple[tuple[str, str], ...], stamp: tuple) -> Localizer:
    return Localizer(language, folders)


def localized_ruleset(ruleset, loc: Localizer):
    """The rule set with every name, text and reason in ``loc``'s language (for ``rules list
    --lang``). A rule without a text in that language raises MissingRuleText."""
    from dataclasses import replace

    if loc.english:
        return ruleset
    rules = []
    for r in ruleset.rules:
        words = loc.rule(r, "metric")
        us = loc.rule(r, "us").text if r.text_us else None
        rules.append(replace(r, name=words.name, text=words.text, text_us=us, reason=words.reason))
    notes = [
        replace(n, text=loc.note(n, "metric"), text_us=loc.note(n, "us") if n.text_us else None)
        for n in ruleset.notes
    ]
    return replace(ruleset, rules=tuple(rules), notes=tuple(notes))


def translation_findings(ruleset, folders, tags) -> list:
    """``rules check``: every rule and note without its words in each of the clinic's languages."""
    from mesocare import lang
    from mesocare.findings import Finding

    out = []
    for tag in tags:
        loc = Localizer(lang.get(tag), tuple((str(f), origin) for f, origin in folders))
        for p in loc.problems(ruleset):
            out.append(Finding("error", p.file, p.line, p.field, p.problem))
    return out


def clinic_translations(ruleset, folders) -> tuple[list, list[str]]:
    """``rules check``: the clinic's translation files (``lang/*.yaml`` in its rule folders),
    whatever languages the config lists. Returns the findings (a file that does not read, one
    named for no language we write, an id that is no rule or note in force: its text is never
    used) and one line per file saying what it holds."""
    from mesocare import lang
    from mesocare.errors import MesocareError
    from mesocare.findings import Finding
    from mesocare.lang.texts import Texts, display_path, read_file

    findings: list = []
    loaded: list[str] = []
    ids = {"rules": {r.id for r in ruleset.rules}, "notes": {n.id for n in ruleset.notes}}
    for folder, origin in folders:
        if origin != "clinic":
            continue
        for path in sorted((*Path(folder).glob("lang/*.yaml"), *Path(folder).glob("lang/*.yml"))):
            shown = display_path(path)
            try:
                language = lang.get(path.stem)
                texts = Texts(language=language.tag)
                read_file(path, texts, origin, language.typo)
            except MesocareError as e:
                problem = getattr(e, "problem", None) or str(e)
                line, field = getattr(e, "line", None), getattr(e, "field", None)
                findings.append(Finding("error", shown, line, field, problem))
                continue
            for kind, store in (("rules", texts.rules), ("notes", texts.notes)):
                for item_id in sorted(set(store) - ids[kind]):
                    findings.append(
                        Finding(
                            "warning",
                            shown,
                            None,
                            f"{kind}.{item_id}",
                            f"'{item_id}' is not a {kind[:-1]} in force, "
                            "so this text is never used",
                        )
                    )
            loaded.append(
                f"{shown}: {language.english_name} ({language.tag}), texts for "
                f"{_count(len(texts.rules), 'rule')} and {_count(len(texts.notes), 'note')}"
            )
    return findings, loaded


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
