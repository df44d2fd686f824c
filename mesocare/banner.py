"""A warning at the top of a handout, in parts (a leaf: the model and the language layer
both use it, and neither imports the other for it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Banner:
    """A warning at the top of a handout: a short lead, then a list (the steps that started
    before the patient booked), then a closing sentence; each in the handout's language."""

    lead: str
    steps: tuple[str, ...] = ()
    closing: str = ""

    def as_dict(self) -> dict:
        return {"lead": self.lead, "steps": list(self.steps), "closing": self.closing}
