"""Rule and note texts per language: ``lang/<language>.yaml`` beside the rule files.

Ours are ``instructions/lang/fr.yaml``, ``es.yaml``... (and ``pt-BR.yaml`` for the words that
differ in Brazil); a clinic puts its own in ``<rules_dir>/lang/fr.yaml``. Each file holds, by
rule or note id, the words a patient reads (``name``, ``text``, ``reason``; ``text`` may be
``{metric: ..., us: ...}``) and a ``translation`` record (who translated it, when, and the
review it still needs). Later files override earlier ones entry by entry and field by field,
so a clinic corrects one text in one language without copying the rest.

A rule the clinic wrote or replaced takes its translations from the clinic's files only: our
French text for ``showers`` says what *our* English says, not what the clinic's says.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from mesocare.errors import RuleFileError
from mesocare.lang.tags import LANGUAGE_NAMES

RULE_FIELDS = ("name", "text", "reason", "resume")
NOTE_FIELDS = ("text",)


@dataclass(frozen=True)
class Entry:
    """One rule's (or note's) words in one language, and where they came from."""

    name: str | None = None
    text: str | None = None
    text_us: str | None = None
    reason: str | None = None
    resume: str | None = None  # what the patient may do again when the step ends
    file: str = ""
    origin: str = "mesocare"

    def text_for(self, units: str) -> str | None:
        return self.text_us if units == "us" and self.text_us else self.text


@dataclass
class Texts:
    """Every translated entry for one language, after overlaying the files."""

    language: str  # the tag asked for, fr-CA
    rules: dict[str, dict[str, Entry]] = field(default_factory=dict)  # id -> origin -> entry
    notes: dict[str, dict[str, Entry]] = field(default_factory=dict)
    credits: list[dict] = field(default_factory=list)  # each file's translation record
    files: list[str] = field(default_factory=list)
    digest: str = ""

    def entry(self, kind: str, item_id: str, origin: str) -> Entry | None:
        return (self.rules if kind == "rule" else self.notes).get(item_id, {}).get(origin)


def lang_files(folder: Path, code: str, tag: str) -> list[Path]:
    """The translation files for one language in one rule folder: fr.yaml, then fr-CA.yaml."""
    out = []
    for name in (code, tag):
        for ext in (".yaml", ".yml"):
            p = folder / "lang" / f"{name}{ext}"
            if p.is_file() and p not in out:
                out.append(p)
    return out


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _words(value, file: str, line: int | None, where: str) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, str):
        return " ".join(value.split()), None
    if (
        isinstance(value, dict)
        and set(value) <= {"metric", "us"}
        and all(isinstance(v, str) for v in value.values())
    ):
        metric, us = value.get("metric"), value.get("us")
        return (" ".join(metric.split()) if metric else None), (
            " ".join(us.split()) if us else None
        )
    raise RuleFileError(file, line, where, "must be a text, or metric: and us: texts")


def read_file(path: Path, texts: Texts, origin: str, typo) -> None:
    """Overlay one translation file onto ``texts``; raise RuleFileError naming file and line."""
    from mesocare.yamlload import load_yaml_with_lines, read_text

    display = display_path(path)
    try:
        content = read_text(path, display)
    except OSError as e:
        raise RuleFileError(
            display, None, None, f"cannot be read ({e.strerror or e.__class__.__name__})"
        ) from None
    raw = content.encode("utf-8")
    texts.files.append(display)
    data, lines = load_yaml_with_lines(content, display)
    if data is None:
        return
    if not isinstance(data, dict):
        raise RuleFileError(
            display, 1, None, "a translation file is a mapping with rules: and notes:"
        )
    unknown = set(data) - {"language", "translation", "rules", "notes"}
    if unknown:
        key = sorted(unknown)[0]
        raise RuleFileError(
            display,
            lines.get((key,)),
            key,
            "unknown key: use language, translation, rules and notes",
        )
    if data.get("translation") is not None:
        if not isinstance(data["translation"], dict):
            raise RuleFileError(
                display,
                lines.get(("translation",)),
                "translation",
                "must be a mapping with by:, date: and review:",
            )
        texts.credits.append(
            {k: str(v) for k, v in data["translation"].items()} | {"file": display}
        )
    for kind, fields, store in (
        ("rules", RULE_FIELDS, texts.rules),
        ("notes", NOTE_FIELDS, texts.notes),
    ):
        section = data.get(kind) or {}
        if not isinstance(section, dict):
            raise RuleFileError(
                display, lines.get((kind,)), kind, "must be a mapping from ids to texts"
            )
        for item_id, value in section.items():
            where = (kind, item_id)
            if not isinstance(value, dict):
                raise RuleFileError(
                    display,
                    lines.get(where),
                    str(item_id),
                    "must be a mapping of " + ", ".join(fields),
                )
            bad = set(value) - set(fields)
            if bad:
                key = sorted(bad)[0]
                raise RuleFileError(
                    display,
                    lines.get((*where, key)),
                    f"{item_id}.{key}",
                    "unknown key: use " + ", ".join(fields),
                )
            old = store.setdefault(str(item_id), {}).get(origin, Entry(file=display, origin=origin))
            text, text_us = _words(
                value.get("text"), display, lines.get((*where, "text")), f"{item_id}.text"
            )
            resume_at = lines.get((*where, "resume"))
            resume, _ = _words(value.get("resume"), display, resume_at, f"{item_id}.resume")
            name = value.get("name")
            reason = value.get("reason")
            store[str(item_id)][origin] = Entry(
                name=typo(" ".join(str(name).split())) if name is not None else old.name,
                text=typo(text) if text is not None else old.text,
                text_us=typo(text_us) if text_us is not None else old.text_us,
                reason=typo(" ".join(str(reason).split())) if reason is not None else old.reason,
                resume=typo(resume) if resume is not None else old.resume,
                file=display if text is not None else old.file,
                origin=origin,
            )
    texts.digest = hashlib.sha256(
        (texts.digest + hashlib.sha256(raw).hexdigest()).encode()
    ).hexdigest()


def load_texts(language, folders: list[tuple[Path, str]]) -> Texts:
    """Every translation file for ``language`` in the rule folders (ours, then the clinic's).

    The clinic's entry for one of our rules corrects ours field by field (its ``showers`` text
    with our name and reason); a rule the clinic wrote or replaced reads the clinic's alone."""
    texts = Texts(language=language.tag)
    for folder, origin in folders:
        for path in lang_files(folder, language.code, language.tag):
            read_file(path, texts, origin, language.typo)
    for store in (texts.rules, texts.notes):
        for by_origin in store.values():
            if "clinic" in by_origin:
                by_origin["mesocare"] = _overlay(by_origin.get("mesocare"), by_origin["clinic"])
    return texts


def _overlay(ours: Entry | None, theirs: Entry) -> Entry:
    """Our entry with every field the clinic's names taken from the clinic's."""
    if ours is None:
        return replace(theirs, origin="mesocare")
    fields = ("name", "text", "text_us", "reason")
    values = {f: getattr(theirs, f) for f in fields if getattr(theirs, f) is not None}
    if theirs.text is not None:
        values["file"] = theirs.file
    return replace(ours, **values)


def missing_message(kind: str, item_id: str, file: str, language) -> str:
    return (
        f"{kind} '{item_id}' has no {LANGUAGE_NAMES[language.code]} text ({language.tag}): "
        f"add it under {kind}s: in lang/{language.code}.yaml beside {file}"
    )
