"""Each planned message's bytes: the text, and for a handout its PDF and calendar file;
long lists are rendered by worker processes, a few chunks ahead of the sender."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

from mesocare.mail import messages as m
from mesocare.mail.letters import Letter, build_message

if TYPE_CHECKING:
    from mesocare.mail.jobs import Job


@dataclass(frozen=True)
class Envelope:
    """The sender's side of every message in a run."""

    sender: str
    date: datetime  # the Date header (aware), and when the calendar files were made (DTSTAMP)
    reply_to: str | None = None
    sender_name: str | None = None  # the display name of ``email.from`` (else the clinic's name)


def message_id(job: Job, envelope: Envelope) -> str:
    return m.message_id(job.key, job.content, job.copy, envelope.sender)


def render_job(job: Job, envelope: Envelope) -> bytes:
    """The message's bytes; a handout carries its PDF and its calendar file."""
    attachments: tuple = ()
    if job.reminder is None:
        from mesocare.render import render

        pdf_name, ics_name = m.attachment_names(job.handout)
        pdf = render(job.handout, "pdf")
        # each copy newer than the one before by RFC 5546's rules: SEQUENCE, then DTSTAMP
        ics = cast(
            str,
            render(job.handout, "ics", sequence=job.sequence, stamp=envelope.date, message=True),
        ).encode("utf-8")
        # the part's method parameter must match the calendar's METHOD (only with the clinic's
        # address)
        method = (("method", "PUBLISH"),) if b"\r\nMETHOD:PUBLISH\r\n" in ics else ()
        attachments = (
            (pdf_name, "application", "pdf", pdf, ()),
            (ics_name, "text", "calendar", ics, (*method, ("charset", "utf-8"))),
        )
    letter = Letter(
        handout=job.handout,
        kind=job.kind,
        to=job.to,
        sender=envelope.sender,
        date=envelope.date,
        message_id=message_id(job, envelope),
        language=job.language,
        change=job.change,
        reminder=job.reminder,
        reply_to=envelope.reply_to,
        attachments=attachments,
        sender_name=envelope.sender_name,
        thread=job.thread,
    )
    return build_message(letter)


def _render_chunk(jobs: list[Job], envelope: Envelope) -> list[bytes]:
    return [render_job(job, envelope) for job in jobs]


CHUNK = 8  # messages per task sent to a worker process


def _workers(jobs: list[Job]) -> int:
    heavy = sum(1 for j in jobs if j.reminder is None)
    if heavy < 3 * CHUNK:
        return 1
    from mesocare.workers import wanted

    return wanted()


def rendered(jobs: list[Job], envelope: Envelope):
    """Each job's bytes, in order. Long lists are rendered by worker processes (spawned, ended
    with this process: ``mesocare.workers``), at most two chunks per worker ahead of the caller."""
    from mesocare.workers import Pool

    n = _workers(jobs)
    if n <= 1:
        for job in jobs:
            yield render_job(job, envelope)
        return
    chunks = (((jobs[k : k + CHUNK], envelope), None) for k in range(0, len(jobs), CHUNK))
    with Pool(n) as pool:
        for raws, _ in pool.ordered(_render_chunk, chunks):
            yield from raws
