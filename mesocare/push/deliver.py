"""``mesocare push``: each handout's record into the clinic's system, exactly once.

For each appointment (with its patient and appointment ids): skip it when the push log says
this target confirmed this document with the same content; else make the record, deliver it
and, once confirmed, write it down at once. A moved appointment (same document number, new
content) is delivered again and replaces the old one. Nothing here prints: the outcome of
each appointment is returned, named by its place in the schedule, never by the patient.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mesocare.ehr import ids
from mesocare.model import Handout
from mesocare.push.pushlog import PushLog

_SHOWN = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Outcome:
    position: str
    state: str  # delivered | unchanged | rejected | not-delivered
    words: str = ""  # why not, in one line (the engine's or server's own words, quoted)

    def __str__(self) -> str:
        return f"{self.position}: {self.state}" + (f" ({self.words})" if self.words else "")


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(o.state == state for o in self.outcomes)

    @property
    def undelivered(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.state in ("rejected", "not-delivered")]


def shown(words: str) -> str:
    """Another system's words on one line, at most 200 characters."""
    return _SHOWN.sub(" ", words).strip()[:200]


class Stop(Exception):
    """The target cannot be reached: the appointments left are not delivered this run."""

    def __init__(self, words: str):
        super().__init__(words)
        self.words = words


def push(
    handouts: Iterable[tuple[Handout, str]],
    log: PushLog,
    target: str,
    deliver: Callable[[Handout], tuple[bool, str, str]],
) -> Summary:
    """Deliver each handout's record to ``target`` with ``deliver(h)``, which returns
    (confirmed, reference, words) or raises ``Stop``. ``log`` must have been checked writable."""
    summary = Summary()
    stopped: str | None = None
    for h, position in handouts:
        number = ids.document_number(h)
        digest = ids.content_hash(h)
        done = log.get(target, number)
        if done is not None and done.content_hash == digest:
            summary.outcomes.append(Outcome(position, "unchanged"))
            continue
        if stopped is not None:
            summary.outcomes.append(Outcome(position, "not-delivered", stopped))
            continue
        try:
            confirmed, reference, words = deliver(h)
        except Stop as e:
            stopped = shown(e.words)
            summary.outcomes.append(Outcome(position, "not-delivered", stopped))
            continue
        if confirmed:
            log.record(target, number, digest, reference)
            summary.outcomes.append(Outcome(position, "delivered"))
        else:
            summary.outcomes.append(Outcome(position, "rejected", shown(words)))
    return summary


def mllp_deliverer(connection, settings) -> Callable[[Handout], tuple[bool, str, str]]:
    """``deliver`` for an interface engine: the MDM^T02 over ``connection``; AA confirms, AE
    and AR reject (with the engine's words), a lost connection or timeout stops the run."""
    from mesocare.ehr.hl7_mdm import Hl7Settings, control_id
    from mesocare.push.mllp import MllpLost
    from mesocare.render.records import hl7_message

    hl7 = Hl7Settings(
        receiving_application=settings.receiving_application,
        receiving_facility=settings.receiving_facility,
    )

    def deliver(h: Handout) -> tuple[bool, str, str]:
        message = hl7_message(h, hl7)
        try:
            ack = connection.send(message)
        except MllpLost as e:
            raise Stop(f"{e}; it is sent again on the next run") from None
        reference = control_id(ids.document_number(h), ids.content_hash(h)) if ack.accepted else ""
        return ack.accepted, reference, f"{ack.code}: {ack.text}" if ack.text else ack.code

    return deliver
