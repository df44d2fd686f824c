"""The rules as data: a window, a dated rule, a note and the effective set (what
``mesocare.rules`` loads, overlays and caches)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

from mesocare.vocab import Duration


@dataclass(frozen=True)
class Window:
    """When an instruction applies (see ``rule_schema.WindowSpec`` for the forms)."""

    before: str | None = None
    on: str | None = None
    after: str | None = None
    after_rule: str | None = None
    until: str | None = None

    def describe(self) -> str:
        """The window in short words, for tables: "10 days before", "48 hours after"."""
        if self.before:
            return f"{Duration.parse(self.before).words()} before"
        if self.on:
            return "treatment day" + (" until the appointment" if self.until else "")
        if self.after:
            if self.after == "open":
                return "after, open-ended"
            return f"{Duration.parse(self.after).words()} after"
        return f"after {self.after_rule} until {self.until}"

    def as_dict(self) -> dict[str, str]:
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    phase: str
    window: Window
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
    resume: str | None = None  # what the patient may do again when the window ends
    asks: tuple[str, ...] = ()  # concepts (vocab.CONCEPTS) the rule asks for / forbids
    forbids: tuple[str, ...] = ()

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
    techniques: tuple[str, ...] | None = None  # only for these techniques (None: all)

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

    def followed(self, rule_id: str) -> Rule:
        """The rule an ``after_rule`` names (``overlay`` refuses a set where it is missing)."""
        rule = self.rule(rule_id)
        assert rule is not None, rule_id
        return rule

    @property
    def clinic_rules(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.rules if r.origin == "clinic") + tuple(
            n.id for n in self.notes if n.origin == "clinic"
        )
