"""Rule files: load, validate and overlay the YAML that encodes every instruction.

A rule file is a YAML mapping with up to three lists:

    rules:    dated instructions (id, phase, window, areas, text, reason, source, basis...)
    notes:    undated paragraphs (what to expect, who should talk to us first...)
    disable:  ids of rules or notes to remove (a clinic's folder uses this)

Files are read with PyYAML's safe loader (the C one when available) and validated with
pydantic; every error names the file, the line and the field. Folders are applied in order:
ours first, then the clinic's, where a new id adds a rule, an existing id replaces ours and
``disable`` removes one. ``rules.schema.json`` next to our rule files is generated from the
models below (``mesocare rules schema``) so an editor can check a file as it is typed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mesocare.errors import RuleFileError
from mesocare.model import AREAS, NOTE_SECTIONS, TECHNIQUES

DURATION = re.compile(r"^(\d+)\s*([hdw])$")
DURATION_WORDS = {"h": "hours", "d": "days", "w": "weeks"}
UNTIL_WORDS = ("appointment", "course-end", "open")


# ----------------------------------------------------------------------------- file models


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _check_duration(value: str | None) -> str | None:
    if value is not None and not DURATION.match(value):
        raise ValueError(f"'{value}' is not a duration: write a number and h, d or w, for example 48h, 10d or 2w")
    return value


class WindowSpec(_Strict):
    """When an instruction applies. One start, at most one end:

    - ``before: 10d`` / ``before: 24h``: from that long before the appointment until it starts
    - ``on: treatment-day``: the whole day of treatment (``until: appointment`` ends it when
      the appointment starts)
    - ``after: 48h`` / ``after: 2w``: from the end of the appointment for that long
      (``after: open``: from the end of the appointment, with no set end)
    - ``after_rule: ID`` with ``until: 2w | course-end | open``: from the end of another
      rule's window
    """

    before: str | None = Field(None, description="10d, 24h, 2w: how long before the appointment")
    on: Literal["treatment-day"] | None = Field(None, description="treatment-day: the day of treatment")
    after: str | None = Field(None, description="48h, 2d, 2w, or open: how long after the appointment")
    after_rule: str | None = Field(None, description="the id of a rule whose window this one follows")
    until: str | None = Field(None, description="appointment (with on), or 2w / course-end / open (with after_rule)")

    @field_validator("before")
    @classmethod
    def _before(cls, v):
        return _check_duration(v)

    @field_validator("after")
    @classmethod
    def _after(cls, v):
        return v if v == "open" else _check_duration(v)

    @field_validator("until")
    @classmethod
    def _until(cls, v):
        if v is not None and v not in UNTIL_WORDS and not DURATION.match(v):
            raise ValueError(f"'{v}' is not an end: use a duration such as 2w, or appointment, course-end or open")
        return v

    @model_validator(mode="after")
    def _one_start(self):
        starts = [k for k in ("before", "on", "after", "after_rule") if getattr(self, k) is not None]
        if len(starts) != 1:
            raise ValueError("a window needs exactly one of before, on, after or after_rule")
        start = starts[0]
        if start in ("before", "after") and self.until is not None:
            raise ValueError(f"'until' cannot go with '{start}': the {start} duration already sets the end")
        if start == "on" and self.until not in (None, "appointment"):
            raise ValueError("with 'on: treatment-day', 'until' can only be 'appointment'")
        if start == "after_rule" and (self.until is None or self.until == "appointment"):
            raise ValueError("'after_rule' needs 'until': a duration such as 2w, course-end or open")
        return self

    def describe(self) -> str:
        """The window in short words, for tables: "10 days before", "48 hours after"."""
        if self.before:
            n, unit = DURATION.match(self.before).groups()
            return f"{_count(n, unit)} before"
        if self.on:
            return "treatment day" + (" until the appointment" if self.until else "")
        if self.after:
            if self.after == "open":
                return "after, open-ended"
            n, unit = DURATION.match(self.after).groups()
            return f"{_count(n, unit)} after"
        return f"after {self.after_rule} until {self.until}"


def _count(n: str, unit: str) -> str:
    """2 days, 1 day"""
    word = DURATION_WORDS[unit]
    return f"{n} {word[:-1] if n == '1' else word}"


Area = Literal["face", "neck", "body", "hands", "scalp"]
Technique = Literal["needle", "microneedling", "needleless"]


class UnitText(_Strict):
    metric: str = Field(min_length=1)
    us: str = Field(min_length=1)


class RuleSpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="a stable id, lower case with dashes")
    name: str = Field(min_length=1, description="a short noun phrase for banners: 'ginkgo biloba'")
    phase: Literal["before", "day", "after"]
    window: WindowSpec
    areas: list[Area] | None = Field(None, description="only for these areas (default: all)")
    exclude_areas: list[Area] = Field(default_factory=list, description="never for these areas")
    techniques: list[Technique] | None = Field(None, description="only for these techniques (default: all)")
    prescription: Literal["medrol", "lasix"] | None = Field(
        None, description="shown only when the clinician prescribed this medicine"
    )
    text: str | UnitText = Field(description="patient-facing text; metric/us variants where units matter")
    reason: str = Field(min_length=1, description="one line: why")
    source: str = Field(min_length=1, description="the source document (a file in sources/) or, for a clinic rule, its own source text")
    basis: Literal["clinic-policy", "evidence", "product-label"]
    reviewed_on: date | None = None
    reviewed_by: str | None = None

    @field_validator("text")
    @classmethod
    def _text(cls, v):
        if isinstance(v, str) and not v.strip():
            raise ValueError("text is empty")
        return v


class NoteSpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    section: Literal["expect", "after", "talk-first", "call-us", "caution"]
    text: str | UnitText
    source: str = Field(min_length=1)
    areas: list[Area] | None = None
    reviewed_on: date | None = None
    reviewed_by: str | None = None


class RuleFileSpec(_Strict):
    """A rule file: rules, notes, and ids to disable."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="mesocare rule file")
    rules: list[RuleSpec] = Field(default_factory=list)
    notes: list[NoteSpec] = Field(default_factory=list)
    disable: list[str] = Field(default_factory=list, description="ids of rules or notes to remove")


def rule_file_json_schema() -> dict[str, Any]:
    schema = RuleFileSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://mesocare.example/schemas/rules.schema.json"
    return schema


# ----------------------------------------------------------------------------- loaded rules


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    phase: str
    window: WindowSpec
    areas: tuple[str, ...] | None
    exclude_areas: tuple[str, ...]
    techniques: tuple[str, ...] | None
    prescription: str | None
    text: str  # metric text (or the only text)
    text_us: str | None
    reason: str
    source: str
    basis: str
    reviewed_on: date | None
    reviewed_by: str | None
    origin: str  # "mesocare" or "clinic"
    file: str
    line: int

    def applies(self, areas: tuple[str, ...], technique: str, prescribed: tuple[str, ...]) -> bool:
        if self.prescription is not None and self.prescription not in prescribed:
            return False
        if self.techniques is not None and technique not in self.techniques:
            return False
        if any(a in self.exclude_areas for a in areas):
            return False
        if self.areas is not None and not any(a in self.areas for a in areas):
            return False
        return True

    def text_for(self, units: str) -> str:
        return self.text_us if units == "us" and self.text_us else self.text


@dataclass(frozen=True)
class NoteRule:
    id: str
    section: str
    text: str
    text_us: str | None
    source: str
    areas: tuple[str, ...] | None
    reviewed_on: date | None
    reviewed_by: str | None
    origin: str
    file: str
    line: int

    def text_for(self, units: str) -> str:
        return self.text_us if units == "us" and self.text_us else self.text


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    notes: tuple[NoteRule, ...]
    version: str  # sha256 hex of the effective set
    reviewed_on: date | None  # the latest review date
    files: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @property
    def clinic_rules(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.rules if r.origin == "clinic") + tuple(
            n.id for n in self.notes if n.origin == "clinic"
        )


# ----------------------------------------------------------------------------- YAML with lines


_LOADER = None


def _yaml_loader():
    """The safe loader (the C one when available), with YAML 1.2 booleans: only true/false.

    YAML 1.1 reads on/off/yes/no as booleans, which would turn the window key ``on`` (or a
    value such as ``no``) into True/False.
    """
    global _LOADER
    if _LOADER is None:
        import re as _re

        import yaml

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class Loader(base):  # type: ignore[misc, valid-type]
            pass

        Loader.yaml_implicit_resolvers = {
            first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
            for first, resolvers in base.yaml_implicit_resolvers.items()
        }
        Loader.add_implicit_resolver(
            "tag:yaml.org,2002:bool", _re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
        )
        _LOADER = Loader
    return _LOADER


def _index_lines(node, path: tuple, lines: dict[tuple, int]) -> None:
    """Record the line (1-based) where each value in the YAML tree starts, by path."""
    import yaml

    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[path + (key,)] = key_node.start_mark.line + 1
            _index_lines(value_node, path + (key,), lines)
            lines[path + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, path + (i,), lines)


def load_yaml_with_lines(text: str, file: str) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML safely; return the data and a map from path to line number."""
    import yaml

    loader = _yaml_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        problem = (e.problem or e.context or "cannot be read").strip()
        raise RuleFileError(file, line, None, f"not valid YAML: {problem}") from None
    except yaml.YAMLError as e:
        raise RuleFileError(file, None, None, f"not valid YAML: {e}") from None
    finally:
        loader.dispose()
    lines: dict[tuple, int] = {}
    _index_lines(node, (), lines)
    return data, lines


def line_for(lines: dict[tuple, int], loc: tuple) -> int | None:
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None


_PYDANTIC_WORDS = {
    "extra_forbidden": "unknown key",
    "missing": "is missing",
}


def _field_name(loc: tuple) -> str:
    # ("rules", 3, "window", "before") -> "window.before"; ("rules", 3) -> "rules[4]"
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if len(parts) > 1 and parts[0] in ("rules", "notes", "disable"):
        parts = parts[1:]
    # pydantic adds union branch names ("str", "constrained-str", "UnitText", "list[...]")
    # to the path; our own keys are lower case words
    parts = [p for p in parts if re.fullmatch(r"[a-z_]+", p) and p != "str"]
    return ".".join(parts) if parts else (str(loc[0]) if loc else "")


def _problem(err: dict) -> str:
    kind = err.get("type", "")
    if kind in _PYDANTIC_WORDS:
        return _PYDANTIC_WORDS[kind]
    msg = err.get("msg", "is not valid")
    msg = msg.removeprefix("Value error, ")
    if kind == "literal_error":
        got = err.get("input")
        return f"'{got}' is not allowed: {msg[0].lower()}{msg[1:]}"
    return msg[0].lower() + msg[1:] if msg else "is not valid"


@dataclass
class FileProblems:
    """Every problem found in a set of rule files (``rules check`` shows them all)."""

    errors: list[RuleFileError] = field(default_factory=list)


def parse_rule_file(path: Path, display: str | None = None) -> tuple[RuleFileSpec, dict[tuple, int]]:
    """Read and validate one file; raise RuleFileError for its first problem."""
    problems = parse_rule_file_all(path, display)
    if isinstance(problems, list):
        raise problems[0]
    return problems


def parse_rule_file_all(path: Path, display: str | None = None):
    """Read and validate one file: (spec, lines), or a list of every RuleFileError found."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return [RuleFileError(name, None, None, f"cannot be read ({e.__class__.__name__})")]
    try:
        data, lines = load_yaml_with_lines(text, name)
    except RuleFileError as e:
        return [e]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return [RuleFileError(name, 1, None, "a rule file must be a mapping with 'rules', 'notes' or 'disable'")]
    try:
        spec = RuleFileSpec.model_validate(data)
    except ValidationError as e:
        out = []
        seen = set()
        for err in e.errors():
            loc = tuple(err["loc"])
            key = (loc[:2], _field_name(loc))
            if key in seen:
                continue
            seen.add(key)
            out.append(RuleFileError(name, line_for(lines, loc), _field_name(loc) or None, _problem(err)))
        return out
    return spec, lines


def _text_pair(text: str | UnitText) -> tuple[str, str | None]:
    if isinstance(text, UnitText):
        return text.metric, text.us
    return text, None


def rule_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def collect(folders: list[tuple[Path, str]]) -> tuple[RuleSet | None, list[RuleFileError]]:
    """Load folders in order, overlaying later ones on earlier; return the set and every error."""
    errors: list[RuleFileError] = []
    rules: dict[str, Rule] = {}
    notes: dict[str, NoteRule] = {}
    disabled: list[str] = []
    files: list[str] = []
    for folder, origin in folders:
        if not folder.is_dir():
            errors.append(RuleFileError(str(folder), None, None, "is not a folder of rule files"))
            continue
        seen_here: dict[str, str] = {}
        for path in rule_files(folder):
            display = _display(path)
            files.append(display)
            parsed = parse_rule_file_all(path, display)
            if isinstance(parsed, list):
                errors.extend(parsed)
                continue
            spec, lines = parsed
            for i, r in enumerate(spec.rules):
                line = lines.get(("rules", i), 0)
                if r.id in seen_here:
                    errors.append(
                        RuleFileError(display, lines.get(("rules", i, "id")), "id", f"duplicate id '{r.id}' (also in {seen_here[r.id]})")
                    )
                    continue
                seen_here[r.id] = f"{display}, line {line}"
                text, text_us = _text_pair(r.text)
                rules[r.id] = Rule(
                    id=r.id, name=r.name, phase=r.phase, window=r.window,
                    areas=tuple(r.areas) if r.areas is not None else None,
                    exclude_areas=tuple(r.exclude_areas),
                    techniques=tuple(r.techniques) if r.techniques is not None else None,
                    prescription=r.prescription, text=text, text_us=text_us, reason=r.reason,
                    source=r.source, basis=r.basis, reviewed_on=r.reviewed_on, reviewed_by=r.reviewed_by,
                    origin=origin, file=display, line=line,
                )
            for i, n in enumerate(spec.notes):
                line = lines.get(("notes", i), 0)
                if n.id in seen_here:
                    errors.append(
                        RuleFileError(display, lines.get(("notes", i, "id")), "id", f"duplicate id '{n.id}' (also in {seen_here[n.id]})")
                    )
                    continue
                seen_here[n.id] = f"{display}, line {line}"
                text, text_us = _text_pair(n.text)
                notes[n.id] = NoteRule(
                    id=n.id, section=n.section, text=text, text_us=text_us, source=n.source,
                    areas=tuple(n.areas) if n.areas is not None else None,
                    reviewed_on=n.reviewed_on, reviewed_by=n.reviewed_by,
                    origin=origin, file=display, line=line,
                )
            for i, rid in enumerate(spec.disable):
                if rid not in rules and rid not in notes:
                    errors.append(
                        RuleFileError(display, lines.get(("disable", i)), "disable", f"no rule or note has the id '{rid}'")
                    )
                    continue
                rules.pop(rid, None)
                notes.pop(rid, None)
                disabled.append(rid)
    # references between rules
    for r in rules.values():
        ref = r.window.after_rule
        if ref is None:
            continue
        if ref not in rules:
            errors.append(RuleFileError(r.file, r.line, "window.after_rule", f"rule '{r.id}' follows '{ref}', which does not exist"))
            continue
        target = rules[ref].window
        if target.after == "open" or target.until in ("open", "course-end"):
            errors.append(
                RuleFileError(r.file, r.line, "window.after_rule", f"rule '{r.id}' starts after '{ref}', which has no fixed end")
            )
    errors.extend(_cycles(rules))
    if errors:
        return None, errors
    ordered = tuple(rules.values())
    version = ruleset_hash(ordered, tuple(notes.values()))
    reviews = [x.reviewed_on for x in (*ordered, *notes.values()) if x.reviewed_on]
    return (
        RuleSet(
            rules=ordered, notes=tuple(notes.values()), version=version,
            reviewed_on=max(reviews) if reviews else None, files=tuple(files), disabled=tuple(disabled),
        ),
        [],
    )


def _cycles(rules: dict[str, Rule]) -> list[RuleFileError]:
    out = []
    for r in rules.values():
        seen = {r.id}
        cur = r.window.after_rule
        while cur is not None and cur in rules:
            if cur in seen:
                out.append(RuleFileError(r.file, r.line, "window.after_rule", f"rule '{r.id}' is part of a loop of after_rule references"))
                break
            seen.add(cur)
            cur = rules[cur].window.after_rule
    return out


def _display(path: Path) -> str:
    """A short, stable name for a file in messages: relative to the working folder if inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_ruleset(folders: list[tuple[Path, str]]) -> RuleSet:
    """Load and overlay rule folders; raise the first RuleFileError."""
    ruleset, errors = collect(folders)
    if errors:
        raise errors[0]
    assert ruleset is not None
    return ruleset


def ruleset_hash(rules: tuple[Rule, ...], notes: tuple[NoteRule, ...]) -> str:
    """sha256 of the effective rules and notes, independent of file names and order."""

    def clean(d: dict) -> dict:
        d = {k: v for k, v in d.items() if k not in ("file", "line")}
        return d

    payload = {
        "rules": sorted((clean(asdict(r)) | {"window": r.window.model_dump(exclude_none=True)} for r in rules), key=lambda d: d["id"]),
        "notes": sorted((clean(asdict(n)) for n in notes), key=lambda d: d["id"]),
    }
    blob = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
