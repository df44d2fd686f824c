"""Rule files as written: read with ``mesocare.yamlload`` (safe, limited, with lines) and
validated with pydantic models whose words come from ``mesocare.vocab``.

Only needed when rule files are read (a cold start, ``rules check``, ``rules schema``): the
loaded rules themselves are plain dataclasses in ``mesocare.rules``, which caches them so
that a normal run imports neither PyYAML nor these models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mesocare.errors import RuleFileError, YamlError
from mesocare.vocab import (
    UNTIL_WORDS,
    Area,
    Basis,
    Concept,
    Duration,
    NoteSection,
    Phase,
    Prescription,
    Technique,
)
from mesocare.yamlload import field_name, line_for, load_yaml_with_lines, problem_words, read_text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _check_duration(value: str | None) -> str | None:
    if value is not None:
        Duration.parse(value)  # ValueError with our sentence: not a duration, or too long
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
    on: Literal["treatment-day"] | None = Field(
        None, description="treatment-day: the day of treatment"
    )
    after: str | None = Field(
        None, description="48h, 2d, 2w, or open: how long after the appointment"
    )
    after_rule: str | None = Field(
        None, description="the id of a rule whose window this one follows"
    )
    until: str | None = Field(
        None, description="appointment (with on), or 2w / course-end / open (with after_rule)"
    )

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
        if v is not None and v not in UNTIL_WORDS:
            try:
                Duration.parse(v)
            except ValueError as e:
                if "too long" in str(e):
                    raise
                raise ValueError(
                    f"'{v}' is not an end: use a duration such as 2w, or appointment, "
                    "course-end or open"
                ) from None
        return v

    @model_validator(mode="after")
    def _one_start(self):
        starts = [
            k for k in ("before", "on", "after", "after_rule") if getattr(self, k) is not None
        ]
        if len(starts) != 1:
            raise ValueError("a window needs exactly one of before, on, after or after_rule")
        start = starts[0]
        if start in ("before", "after") and self.until is not None:
            raise ValueError(
                f"'until' cannot go with '{start}': the {start} duration already sets the end"
            )
        if start == "on" and self.until not in (None, "appointment"):
            raise ValueError("with 'on: treatment-day', 'until' can only be 'appointment'")
        if start == "after_rule" and (self.until is None or self.until == "appointment"):
            raise ValueError(
                "'after_rule' needs 'until': a duration such as 2w, course-end or open"
            )
        return self


class UnitText(_Strict):
    metric: str = Field(min_length=1)
    us: str = Field(min_length=1)


class RuleSpec(_Strict):
    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$", description="a stable id, lower case with dashes"
    )
    name: str = Field(min_length=1, description="a short noun phrase for banners: 'ginkgo biloba'")
    phase: Phase
    window: WindowSpec
    areas: list[Area] | None = Field(None, description="only for these areas (default: all)")
    exclude_areas: list[Area] = Field(default_factory=list, description="never for these areas")
    techniques: list[Technique] | None = Field(
        None, description="only for these techniques (default: all)"
    )
    prescription: Prescription | None = Field(
        None, description="shown only when the clinician prescribed this medicine"
    )
    text: str | UnitText = Field(
        description="patient-facing text; metric/us variants where units matter"
    )
    resume: str | None = Field(
        None,
        min_length=1,
        description="what the patient may do again when the window ends: 'You can shower again.'",
    )
    asks: list[Concept] = Field(
        default_factory=list, description="what the rule asks the patient to do or use"
    )
    forbids: list[Concept] = Field(
        default_factory=list, description="what the rule asks the patient to avoid"
    )
    reason: str = Field(min_length=1, description="one line: why")
    source: str = Field(
        min_length=1,
        description=(
            "the source document (a file in sources/) or, for a clinic rule, its own source text"
        ),
    )
    basis: Basis
    reviewed_on: date | None = None
    reviewed_by: str | None = None

    @field_validator("text")
    @classmethod
    def _text(cls, v):
        if isinstance(v, str) and not v.strip():
            raise ValueError("text is empty")
        return v

    @field_validator("reviewed_on")
    @classmethod
    def _reviewed(cls, v):
        return _review_day(v)


def _review_day(v: date | None) -> date | None:
    from mesocare.vocab import FIRST_DAY, LAST_DAY

    if v is not None and not FIRST_DAY <= v <= LAST_DAY:
        raise ValueError(
            f"{v.isoformat()} is outside the dates mesocare works with ({FIRST_DAY} to {LAST_DAY})"
        )
    return v


class NoteSpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    section: NoteSection
    text: str | UnitText
    source: str = Field(min_length=1)
    areas: list[Area] | None = None
    techniques: list[Technique] | None = None
    reviewed_on: date | None = None
    reviewed_by: str | None = None

    _reviewed = field_validator("reviewed_on")(classmethod(lambda cls, v: _review_day(v)))


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


@dataclass(frozen=True)
class RuleFileParts:
    """The entries of one file that validate, with the line of every value by path."""

    items: list[tuple[str, int, RuleSpec | NoteSpec]]  # ("rules" | "notes", index, spec)
    disable: list[tuple[int, str]]  # (index, id)
    lines: dict[tuple, int]


def read_rule_file(
    path: Path, display: str | None = None
) -> tuple[RuleFileParts | None, list[RuleFileError]]:
    """Read and validate one file: its valid parts (None when it cannot be read as a rule
    file at all) and every RuleFileError found, each naming file, line and field."""
    name = display or str(path)
    try:
        data, lines = load_yaml_with_lines(read_text(path, name), name)
    except OSError as e:
        return None, [RuleFileError(name, None, None, f"cannot be read ({e.__class__.__name__})")]
    except YamlError as e:
        return None, [RuleFileError(e.file, e.line, e.field, e.problem)]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [
            RuleFileError(
                name, 1, None, "a rule file must be a mapping with 'rules', 'notes' or 'disable'"
            )
        ]
    try:
        spec = RuleFileSpec.model_validate(data)
    except ValidationError as e:
        errors = []
        seen = set()
        for err in e.errors():
            loc = tuple(err["loc"])
            key = (loc[:2], field_name(loc))
            if key in seen:
                continue
            seen.add(key)
            errors.append(
                RuleFileError(
                    name, line_for(lines, loc), field_name(loc) or None, problem_words(err)
                )
            )
        return _valid_parts(data, lines), errors
    items: list = [("rules", i, r) for i, r in enumerate(spec.rules)] + [
        ("notes", i, n) for i, n in enumerate(spec.notes)
    ]
    return RuleFileParts(items, list(enumerate(spec.disable)), lines), []


def _valid_parts(data: dict, lines: dict[tuple, int]) -> RuleFileParts:
    """The entries of a file with schema errors that are valid on their own."""
    items: list = []
    for kind, model in (("rules", RuleSpec), ("notes", NoteSpec)):
        raw = data.get(kind)
        for i, value in enumerate(raw if isinstance(raw, list) else []):
            try:
                items.append((kind, i, model.model_validate(value)))
            except ValidationError:
                continue
    raw_disable = data.get("disable")
    disable = (
        [(i, d) for i, d in enumerate(raw_disable) if isinstance(d, str)]
        if isinstance(raw_disable, list)
        else []
    )
    return RuleFileParts(items, disable, lines)


def text_pair(text: str | UnitText) -> tuple[str, str | None]:
    if isinstance(text, UnitText):
        return text.metric, text.us
    return text, None
