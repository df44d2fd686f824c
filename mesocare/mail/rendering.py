"""Each planned message's bytes: the text, and for a handout its PDF and calendar file;
long lists are rendered by worker processes, a few chunks ahead of the sender."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

from mesocare.mail import messages as m

if TYPE_CHECKING:
    from mesocare.mail.outbox import Job


@dataclass(frozen=True)
class Envelope:
    """The sender's side of every message in a run."""

    sender: str
    date: datetime  # the Date header (aware)
    reply_to: str | None = None


def message_id(job: Job, envelope: Envelope) -> str:
    return m.message_id(job.key, job.content, job.copy, envelope.sender)


def render_job(job: Job, envelope: Envelope) -> bytes:
    """The message's bytes; a handout carries its PDF and its calendar file."""
    attachments: tuple = ()
    if job.reminder is None:
        from mesocare.render import render

        pdf_name, ics_name = m.attachment_names(job.handout)
        pdf = render(job.handout, "pdf")
        ics = cast(str, render(job.handout, "ics")).encode("utf-8")  # a text format
        # the part's method parameter must match the calendar's METHOD (only with the clinic's address)
        method = (("method", "PUBLISH"),) if b"\r\nMETHOD:PUBLISH\r\n" in ics else ()
        attachments = (
            (pdf_name, "application", "pdf", pdf, ()),
            (ics_name, "text", "calendar", ics, (*method, ("charset", "utf-8"))),
        )
    letter = m.Letter(
        handout=job.handout, kind=job.kind, to=job.to, sender=envelope.sender, date=envelope.date,
        message_id=message_id(job, envelope), language=job.language, change=job.change,
        reminder=job.reminder, reply_to=envelope.reply_to, attachments=attachments,
    )
    return m.build_message(letter)


def _render_chunk(jobs: list[Job], envelope: Envelope) -> list[bytes]:
    return [render_job(job, envelope) for job in jobs]


CHUNK = 8  # messages per task sent to a worker process


def _workers(jobs: list[Job]) -> int:
    heavy = sum(1 for j in jobs if j.reminder is None)
    if heavy < 3 * CHUNK:
        return 1
    wanted = os.environ.get("MESOCARE_PDF_WORKERS", "").strip()
    count = int(wanted) if wanted.isdigit() and int(wanted) > 0 else min(os.cpu_count() or 1, 4)
    return max(1, count)


def rendered(jobs: list[Job], envelope: Envelope):
    """Each job's bytes, in order. Long lists are rendered by worker processes (spawned, like
    the PDF batch), at most two chunks per worker ahead of the caller."""
    n = _workers(jobs)
    if n <= 1:
        for job in jobs:
            yield render_job(job, envelope)
        return
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))
    pending: deque = deque()
    try:
        for start in range(0, len(jobs), CHUNK):
            pending.append(pool.submit(_render_chunk, jobs[start : start + CHUNK], envelope))
            if len(pending) >= 2 * n:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
