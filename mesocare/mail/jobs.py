"""What a ``send`` or ``remind`` run passes along: the ``Plan`` of ``Job``s (one message each)
that ``mesocare.mail.outbox`` makes, ``mesocare.mail.rendering`` renders and
``mesocare.mail.summary`` counts, and the ``Report`` of what was sent. Data only: no name or
address is in a position, an answer or a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mesocare.mail import messages as m
from mesocare.model import Handout, RowProblem


@dataclass(frozen=True)
class Job:
    """One message to send: for which row, to whom, what it says, and what came before."""

    position: str
    key: str
    content: m.Content
    handout: Handout
    to: str
    language: str
    stem: str  # the .eml file name, without a patient's name: 2024-06-10_1000_P-1042
    copy: int = 1  # 1 for the first message of this kind, 2 for the next...
    change: m.Change | None = None
    reminder: m.Reminder | None = None
    thread: tuple[str, ...] = ()  # the Message-IDs before this copy: the first, the last

    @property
    def sequence(self) -> int:
        """The calendar file's SEQUENCE: one more for every copy sent before (RFC 5546)."""
        return self.copy - 1

    @property
    def kind(self) -> str:
        return self.content.kind

    @property
    def updated(self) -> bool:
        return self.change is not None


@dataclass
class Plan:
    jobs: list[Job] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)  # from the schedule and the handouts
    without_address: list[str] = field(default_factory=list)  # positions
    unconfirmed: list[str] = field(default_factory=list)  # sent before without an answer: held
    already_sent: int = 0
    past: int = 0  # appointments before today: no handout sent
    nothing_to_remind: int = 0
    considered: int = 0  # appointments in the run (after --date)

    @property
    def errors(self) -> list[RowProblem]:
        return [p for p in self.problems if p.error]


@dataclass(frozen=True)
class Failure:
    position: str
    answer: str
    permanent: bool

    def __str__(self) -> str:
        if self.permanent:
            return f"{self.position}: refused by the mail server ({self.answer}); not retried"
        return f"{self.position}: not sent ({self.answer}); it will be tried again on the next run"


@dataclass
class Report:
    sent: int = 0
    updated: int = 0
    written: list[Path] = field(default_factory=list)  # dry run: the .eml files
    failures: list[Failure] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)  # data sent, no answer: maybe delivered
    stopped: str | None = None  # why the run stopped early (the server could not be reached)
