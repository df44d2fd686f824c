"""Rules: load, validate and overlay the YAML files that encode every instruction.

A rule file is a YAML mapping of ``rules`` (dated instructions: id, phase, window, areas, text,
resume, asks, forbids...), ``notes`` (undated paragraphs: what to expect...) and ``disable``
(ids of rules or notes to remove: a clinic's folder uses this).
``mesocare.rule_schema`` reads and validates files (safe YAML, pydantic; every error names the
file, the line and the field). Folders are applied in order: ours first, then the clinic's,
where a new id adds a rule, an existing id replaces ours and ``disable`` removes one.

The effective rule set is cached as JSON in the user's cache folder, keyed by the files'
content, so a normal run does not import PyYAML or build the pydantic models (about 70 ms).
``MESOCARE_NO_CACHE=1`` turns the cache off; ``MESOCARE_CACHE_DIR`` moves it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

from mesocare import rule_cache
from mesocare.errors import RuleFileError
from mesocare.rule_model import NoteRule, Rule, RuleSet, Window


def rule_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


@dataclass(frozen=True)
class Placed:
    """Where a rule or note in force came from: its file, its entry and every field's line."""

    kind: str  # "rules" or "notes"
    index: int  # its place in the file's list
    spec: Any  # the validated rule_schema.RuleSpec or NoteSpec
    origin: str  # "mesocare" or "clinic"
    file: str
    lines: dict = field(repr=False)

    def line(self, *path) -> int | None:
        """The line of a field of this entry (the entry's own line when the field is absent)."""
        loc = (self.kind, self.index, *path)
        for cut in range(len(loc), 1, -1):
            if loc[:cut] in self.lines:
                return self.lines[loc[:cut]]
        return None


@dataclass
class Overlay:
    """Folders laid over each other: the rules and notes in force, where each came from,
    and every error found. A file with a schema error still gives its valid entries, so that
    ``rules check`` can report their other problems in the same run."""

    rules: dict[str, Rule] = field(default_factory=dict)
    notes: dict[str, NoteRule] = field(default_factory=dict)
    placed: dict[str, Placed] = field(default_factory=dict)
    disabled: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    errors: list[RuleFileError] = field(default_factory=list)


def overlay(folders: list[tuple[Path, str]]) -> Overlay:
    """Load folders in order, each laid over the ones before; record every error."""
    from mesocare.rule_schema import RuleSpec, read_rule_file, text_pair

    out = Overlay()
    errors, rules, notes = out.errors, out.rules, out.notes
    for folder, origin in folders:
        if not folder.is_dir():
            errors.append(RuleFileError(str(folder), None, None, "is not a folder of rule files"))
            continue
        seen_here: dict[str, str] = {}
        for path in rule_files(folder):
            display = display_name(path)
            out.files.append(display)
            parts, file_errors = read_rule_file(path, display)
            errors.extend(file_errors)
            if parts is None:
                continue
            lines = parts.lines
            for kind, i, spec in parts.items:
                line = lines.get((kind, i), 0)
                if spec.id in seen_here:
                    errors.append(
                        RuleFileError(
                            display,
                            lines.get((kind, i, "id")),
                            "id",
                            f"duplicate id '{spec.id}' (also in {seen_here[spec.id]})",
                        )
                    )
                    continue
                seen_here[spec.id] = f"{display}, line {line}"
                text, text_us = text_pair(spec.text)
                if isinstance(spec, RuleSpec):  # kind "rules"; a replaced id keeps its place
                    rules[spec.id] = Rule(
                        id=spec.id,
                        name=spec.name,
                        phase=spec.phase,
                        window=Window(**spec.window.model_dump()),
                        areas=tuple(spec.areas) if spec.areas is not None else None,
                        exclude_areas=tuple(spec.exclude_areas),
                        techniques=tuple(spec.techniques) if spec.techniques is not None else None,
                        prescription=spec.prescription,
                        text=text,
                        text_us=text_us,
                        reason=spec.reason,
                        source=spec.source,
                        basis=spec.basis,
                        reviewed_on=spec.reviewed_on,
                        reviewed_by=spec.reviewed_by,
                        origin=origin,
                        file=display,
                        line=line,
                        resume=spec.resume,
                        asks=tuple(spec.asks),
                        forbids=tuple(spec.forbids),
                    )
                else:
                    notes[spec.id] = NoteRule(
                        id=spec.id,
                        section=spec.section,
                        text=text,
                        text_us=text_us,
                        source=spec.source,
                        areas=tuple(spec.areas) if spec.areas is not None else None,
                        reviewed_on=spec.reviewed_on,
                        reviewed_by=spec.reviewed_by,
                        origin=origin,
                        file=display,
                        line=line,
                        techniques=tuple(spec.techniques) if spec.techniques is not None else None,
                    )
                out.placed[spec.id] = Placed(kind, i, spec, origin, display, lines)
            for i, rid in parts.disable:
                if rid not in rules and rid not in notes:
                    errors.append(
                        RuleFileError(
                            display,
                            lines.get(("disable", i)),
                            "disable",
                            f"no rule or note has the id '{rid}'",
                        )
                    )
                    continue
                rules.pop(rid, None)
                notes.pop(rid, None)
                out.placed.pop(rid, None)
                out.disabled.append(rid)
    # references between rules
    for r in rules.values():
        ref = r.window.after_rule
        if ref is None:
            continue
        if ref not in rules:
            errors.append(
                RuleFileError(
                    r.file,
                    r.line,
                    "window.after_rule",
                    f"rule '{r.id}' follows '{ref}', which does not exist",
                )
            )
            continue
        target = rules[ref].window
        if target.after == "open" or target.until in ("open", "course-end"):
            errors.append(
                RuleFileError(
                    r.file,
                    r.line,
                    "window.after_rule",
                    f"rule '{r.id}' starts after '{ref}', which has no fixed end",
                )
            )
    errors.extend(_cycles(rules))
    return out


def collect(folders: list[tuple[Path, str]]) -> tuple[RuleSet | None, list[RuleFileError]]:
    """Load folders in order, overlaying later ones on earlier; return the set and every error."""
    o = overlay(folders)
    if o.errors:
        return None, o.errors
    ordered = tuple(o.rules.values())
    notes = tuple(o.notes.values())
    return (
        RuleSet(
            rules=ordered,
            notes=notes,
            version=ruleset_hash(ordered, notes),
            reviewed_on=_latest(ordered, notes),
            files=tuple(o.files),
            disabled=tuple(o.disabled),
        ),
        [],
    )


def _latest(rules: tuple[Rule, ...], notes: tuple[NoteRule, ...]) -> date | None:
    entries: tuple[Rule | NoteRule, ...] = (*rules, *notes)
    return max((x.reviewed_on for x in entries if x.reviewed_on), default=None)


def _cycles(rules: dict[str, Rule]) -> list[RuleFileError]:
    out = []
    for r in rules.values():
        seen = {r.id}
        cur = r.window.after_rule
        while cur is not None and cur in rules:
            if cur in seen:
                out.append(
                    RuleFileError(
                        r.file,
                        r.line,
                        "window.after_rule",
                        f"rule '{r.id}' is part of a loop of after_rule references",
                    )
                )
                break
            seen.add(cur)
            cur = rules[cur].window.after_rule
    return out


def display_name(path: Path) -> str:
    """A short, stable name for a file in messages: relative to the working folder if inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_ruleset(folders: list[tuple[Path, str]], use_cache: bool = True) -> RuleSet:
    """Load and overlay rule folders; raise the first RuleFileError.

    A rule set read before from the same file contents comes from the cache.
    """
    key = _cache_key(folders) if use_cache and not os.environ.get("MESOCARE_NO_CACHE") else None
    if key is not None:
        cached = _cache_read(key)
        if cached is not None:
            return cached
    ruleset, errors = collect(folders)
    if errors:
        raise errors[0]
    assert ruleset is not None
    if key is not None:
        _cache_write(key, ruleset)
    return ruleset


# ----------------------------------------------------------------------------- the cache


def _cache_key(folders: list[tuple[Path, str]]) -> str | None:
    """A hash of everything the rule set depends on: the files' names and bytes, the order and
    origin of the folders, and this version of mesocare. None when a folder cannot be read
    (the cold path then reports it)."""
    from mesocare import __version__

    here = Path(__file__)
    code = [here, *(here.with_name(n) for n in ("rule_schema.py", "yamlload.py", "vocab.py"))]
    h = hashlib.sha256(f"{rule_cache.CACHE_FORMAT}\0{__version__}".encode())
    for p in code:
        h.update(f"\0{p.stat().st_mtime_ns}".encode())
    try:
        for folder, origin in folders:
            h.update(f"\0folder\0{origin}\0{folder.resolve()}".encode())
            for path in rule_files(folder):
                h.update(f"\0file\0{display_name(path)}\0".encode())
                h.update(path.read_bytes())
    except OSError:
        return None
    return h.hexdigest()


def _cache_read(key: str) -> RuleSet | None:
    if (data := rule_cache.read_entry(key)) is None:
        return None
    try:  # the bytes are the ones written (rule_cache checks their digest); anything else: files
        ruleset = _from_json(data)
        _ = [r.window.describe() for r in ruleset.rules]  # they parse
        return ruleset
    except Exception:  # noqa: BLE001
        return None


def _cache_write(key: str, ruleset: RuleSet) -> None:
    rule_cache.write_entry(key, _to_json(ruleset))


def _to_json(ruleset: RuleSet) -> dict:
    def row(x) -> dict:
        d = {f.name: getattr(x, f.name) for f in fields(x)}
        for k, v in d.items():
            if isinstance(v, date):
                d[k] = v.isoformat()
            elif isinstance(v, Window):
                d[k] = v.as_dict()
            elif isinstance(v, tuple):
                d[k] = list(v)
        return d

    return {
        "rules": [row(r) for r in ruleset.rules],
        "notes": [row(n) for n in ruleset.notes],
        "version": ruleset.version,
        "reviewed_on": ruleset.reviewed_on.isoformat() if ruleset.reviewed_on else None,
        "files": list(ruleset.files),
        "disabled": list(ruleset.disabled),
    }


def _from_json(data: dict) -> RuleSet:
    def fix(d: dict) -> dict:
        d = dict(d)
        for k in ("areas", "exclude_areas", "techniques", "asks", "forbids"):
            if k in d and d[k] is not None:
                d[k] = tuple(d[k])
        if d.get("reviewed_on"):
            d["reviewed_on"] = date.fromisoformat(d["reviewed_on"])
        if "window" in d:
            d["window"] = Window(**d["window"])
        return d

    rules = tuple(Rule(**fix(r)) for r in data["rules"])
    notes = tuple(NoteRule(**fix(n)) for n in data["notes"])
    return RuleSet(
        rules,
        notes,
        data["version"],
        _latest(rules, notes),
        tuple(data["files"]),
        tuple(data["disabled"]),
    )


def ruleset_hash(rules: tuple[Rule, ...], notes: tuple[NoteRule, ...]) -> str:
    """sha256 of the effective rules and notes, independent of file names and order."""

    def clean(d: dict) -> dict:
        d = {k: v for k, v in d.items() if k not in ("file", "line")}
        return d

    payload = {
        "rules": sorted(
            (clean(asdict(r)) | {"window": r.window.as_dict()} for r in rules),
            key=lambda d: d["id"],
        ),
        "notes": sorted((clean(asdict(n)) for n in notes), key=lambda d: d["id"]),
    }
    blob = json.dumps(
        payload, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
