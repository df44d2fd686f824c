"""Rule files as written: YAML read safely with line numbers, validated with pydantic.

Only needed when rule files are read (a cold start, ``rules check``, ``rules schema``): the
loaded rules themselves are plain dataclasses in ``mesocare.rules``, which caches them so
that a normal run imports neither PyYAML nor these models.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mesocare.errors import RuleFileError
from mesocare.rules import DURATION, UNTIL_WORDS


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


def field_name(loc: tuple) -> str:
    # ("rules", 3, "window", "before") -> "window.before"; ("rules", 3) -> "rules[4]"
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if len(parts) > 1 and parts[0] in ("rules", "notes", "disable"):
        parts = parts[1:]
    # pydantic adds union branch names ("str", "constrained-str", "UnitText", "list[...]")
    # to the path; our own keys are lower case words
    parts = [p for p in parts if re.fullmatch(r"[a-z_]+", p) and p != "str"]
    return ".".join(parts) if parts else (str(loc[0]) if loc else "")


def problem_words(err: dict) -> str:
    kind = err.get("type", "")
    if kind in _PYDANTIC_WORDS:
        return _PYDANTIC_WORDS[kind]
    msg = err.get("msg", "is not valid")
    msg = msg.removeprefix("Value error, ")
    if kind == "literal_error":
        got = err.get("input")
        return f"'{got}' is not allowed: {msg[0].lower()}{msg[1:]}"
    return msg[0].lower() + msg[1:] if msg else "is not valid"


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
            key = (loc[:2], field_name(loc))
            if key in seen:
                continue
            seen.add(key)
            out.append(RuleFileError(name, line_for(lines, loc), field_name(loc) or None, problem_words(err)))
        return out
    return spec, lines


def text_pair(text: str | UnitText) -> tuple[str, str | None]:
    if isinstance(text, UnitText):
        return text.metric, text.us
    return text, None
