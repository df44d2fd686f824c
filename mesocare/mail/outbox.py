"""``send`` and ``remind`` without the command line: plan, render, deliver, record.

1. ``plan_handouts`` / ``plan_reminders`` read nothing but their arguments and the sent log:
   one ``Job`` per message to send (new, updated, or forced with ``resend``), and the
   counts for the summary (already sent, without an address, nothing to remind).
2. ``rendered`` builds each job's message bytes (the PDF and calendar file for handouts),
   in worker processes for long lists, at most a few ahead of the sender: memory stays flat.
3. ``deliver`` sends them in order over one connection and writes each to the sent log the
   moment the server accepted it; ``write_eml`` writes them to a folder instead.

Nothing here prints: progress goes to a callback, and the ``Report`` says what happened,
row by row, without a name or an address.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from mesocare.batch import build_batch
from mesocare.output import handout_stem
from mesocare.errors import MesocareError
from mesocare.mail import messages as m
from mesocare.mail.sentlog import Record, SentLog
from mesocare.mail.settings import valid_address
from mesocare.model import Clinic, Handout, RowProblem, Schedule
from mesocare.rules import RuleSet


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
    already_sent: int = 0
    past: int = 0  # appointments before today: no handout sent
    nothing_to_remind: int = 0
    considered: int = 0  # appointments in the run (after --date)

    @property
    def errors(self) -> list[RowProblem]:
        return [p for p in self.problems if p.error]


def _language(handout: Handout) -> str:
    """The message's language tag: the handout's (the patient's, else the clinic's)."""
    return handout.language


def _rows(schedule: Schedule, ruleset: RuleSet, clinic: Clinic, today: date, day: date | None, plan: Plan):
    """(position, request, handout) for each good row, sorted by start; bad ones to plan.problems."""
    batch = build_batch(schedule, ruleset, clinic, today, day)
    plan.problems.extend(batch.problems)
    requests = {row.position: row.request for row in schedule.rows}
    for handout, position in zip(batch.handouts, batch.positions):
        yield position, requests[position], handout
    order = {row.position: n for n, row in enumerate(schedule.rows)}
    plan.without_address.sort(key=lambda p: order.get(p, 0))  # named in the schedule's order


def _address(request, position: str, plan: Plan) -> str | None:
    address = (request.email or "").strip()
    if not address:
        plan.without_address.append(position)
        return None
    if not valid_address(address):
        plan.problems.append(RowProblem(position, "email", "the email address is not valid: nothing sent"))
        return None
    return address


def _decide(log: SentLog, key: str, content: m.Content, resend: bool) -> tuple[bool, int, m.Change | None]:
    """(send it?, which copy, what changed) from the sent log's record of this message."""
    record: Record | None = log.get(key, content.kind)
    if record is None:
        return True, 1, None
    if record.content_hash == content.hash:
        return resend, record.copies + 1, None
    if m.only_address_changed(record.facts, content.facts):
        return True, record.copies + 1, None
    return True, record.copies + 1, m.change_between(record.facts, content.facts)


def _thread(log: SentLog, key: str, kind: str) -> tuple[str, ...]:
    """The Message-IDs a new copy answers: the first copy's and the last one's (one if the same)."""
    record: Record | None = log.get(key, kind)
    if record is None:
        return ()
    first = record.first_message_id or record.message_id
    return (first,) if first == record.message_id else (first, record.message_id)


def _job(plan: Plan, seen: dict, log, resend, position, request, handout, address, content, reminder=None):
    key = m.appointment_key(request)
    first = seen.get((key, content.kind))
    if first is not None:
        plan.problems.append(RowProblem(position, None, f"the same appointment as {first}: one message only", error=False))
        return
    seen[(key, content.kind)] = position
    send, copy, change = _decide(log, key, content, resend)
    if not send:
        plan.already_sent += 1
        return
    plan.jobs.append(
        Job(position, key, content, handout, address, _language(handout),
            handout_stem(handout, position), copy, change, reminder,
            _thread(log, key, content.kind))
    )


def plan_handouts(schedule: Schedule, ruleset: RuleSet, clinic: Clinic, today: date, log: SentLog,
                  day: date | None = None, resend: bool = False) -> Plan:
    """One handout message per appointment (on ``day`` when given) with an address, not yet
    sent or changed since; appointments before today are counted, not sent."""
    plan, seen = Plan(), {}
    for position, request, handout in _rows(schedule, ruleset, clinic, today, day, plan):
        plan.considered += 1
        if request.date < today:
            plan.past += 1
            continue
        address = _address(request, position, plan)
        if address is None:
            continue
        content = m.handout_content(handout, address, _language(handout))
        _job(plan, seen, log, resend, position, request, handout, address, content)
    return plan


def plan_reminders(schedule: Schedule, ruleset: RuleSet, clinic: Clinic, today: date, log: SentLog,
                   day: date, resend: bool = False) -> Plan:
    """One reminder per appointment with instructions starting on ``day`` (any appointment date)."""
    plan, seen = Plan(), {}
    for position, request, handout in _rows(schedule, ruleset, clinic, today, None, plan):
        plan.considered += 1
        reminder = m.reminder_items(handout, day)
        if not reminder:
            plan.nothing_to_remind += 1
            continue
        address = _address(request, position, plan)
        if address is None:
            continue
        content = m.reminder_content(handout, reminder, address, _language(handout))
        _job(plan, seen, log, resend, position, request, handout, address, content, reminder)
    return plan


# --------------------------------------------------------------------------- rendering


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
        ics = render(job.handout, "ics", sequence=job.sequence, stamp=envelope.date).encode("utf-8")
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
        sender_name=envelope.sender_name, thread=job.thread,
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


# --------------------------------------------------------------------------- delivering


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
    stopped: str | None = None  # why the run stopped early (the server could not be reached)


def deliver(plan: Plan, sender, log: SentLog, envelope: Envelope, progress=None) -> Report:
    """Send every job in order; record each in the log as soon as the server accepted it."""
    from mesocare.mail.smtp import MailServerError, ServerUnreachable

    report = Report()
    total = len(plan.jobs)
    stream = rendered(plan.jobs, envelope)
    try:
        for done, job in enumerate(plan.jobs, start=1):
            raw = next(stream)
            try:
                outcome = sender.send(raw, job.to)
            except MailServerError as e:  # unreachable, login refused, certificate: stop, name every row left
                report.stopped = str(e)
                why = "the mail server could not be reached" if isinstance(e, ServerUnreachable) else "the run stopped first"
                report.failures.extend(Failure(j.position, why, False) for j in plan.jobs[done - 1 :])
                break
            if outcome.sent:
                # nothing between the server's acceptance and this commit
                try:
                    log.record(job.key, job.kind, job.content.hash, job.content.facts, message_id(job, envelope), job.copy)
                except MesocareError as e:
                    raise MesocareError(
                        f"{job.position}: the message was sent, but {e} It may be sent again on the next run."
                    ) from None
                report.sent += 1
                report.updated += job.updated
            else:
                report.failures.append(Failure(job.position, outcome.answer, outcome.permanent))
            if progress is not None:
                progress(done, total)
    finally:
        stream.close()
    return report


def kind_suffix(job: Job) -> str:
    return "instructions" if job.reminder is None else f"reminder-{job.reminder.day.isoformat()}"


def write_eml(plan: Plan, folder: Path, envelope: Envelope, progress=None) -> Report:
    """Dry run: each message as ``STEM.KIND.eml`` in ``folder`` (written whole or not at all,
    never outside it); the sent log is only read."""
    from mesocare import output

    report = Report()
    names = output.unique_names((f"{job.stem}.{kind_suffix(job)}" for job in plan.jobs), "eml")
    total = len(plan.jobs)
    for done, (job, name, raw) in enumerate(zip(plan.jobs, names, rendered(plan.jobs, envelope)), start=1):
        report.written.append(output.write_in_folder(folder, name, raw))
        report.updated += job.updated
        if progress is not None:
            progress(done, total)
    return report


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def summary(plan: Plan, report: Report, what: str, dry_run: bool = False) -> str:
    """The lines for stderr: what was sent, what was not and why, per row; no names, no addresses."""
    lines: list[str] = []
    if dry_run:
        lines.append(f"{_n(len(report.written), what)} written as {_n(len(report.written), '.eml file')}, not sent"
                     + (f" ({report.updated} of them updates)." if report.updated else "."))
    else:
        lines.append(f"{_n(report.sent, what)} sent" + (f" ({report.updated} of them updates)." if report.updated else "."))
    if plan.already_sent:
        lines.append(f"{plan.already_sent} already sent before, unchanged: not sent again.")
    if plan.without_address:
        shown = plan.without_address[:20]
        more = f" and {len(plan.without_address) - len(shown)} more" if len(plan.without_address) > len(shown) else ""
        lines.append(f"{len(plan.without_address)} without an email address: print theirs ({', '.join(shown)}{more}).")
    if plan.past:
        lines.append(f"{plan.past} appointment{'s' if plan.past != 1 else ''} before today: not sent.")
    if plan.nothing_to_remind:
        lines.append(f"{plan.nothing_to_remind} with nothing starting that day.")
    if report.stopped:
        lines.append(f"Stopped: {report.stopped}")
    if report.failures:
        lines.append(f"{_n(len(report.failures), 'message')} not sent:")
        lines.extend(f"  {f}" for f in report.failures)
    errors = plan.errors
    notes = [p for p in plan.problems if not p.error]
    if errors:
        lines.append(f"{_n(len(errors), 'row')} skipped:")
        lines.extend(f"  {p}" for p in errors)
    if notes:
        lines.append("Notes:")
        lines.extend(f"  {p}" for p in notes)
    return "\n".join(lines)


def exit_code(plan: Plan, report: Report) -> int:
    from mesocare.errors import ExitCode

    return int(ExitCode.SKIPPED_ROWS) if (report.failures or plan.errors) else 0


def run(command: str, schedule: Schedule, ruleset: RuleSet, clinic: Clinic, today: date, *, now: datetime,
        err, day: date | None = None, resend: bool = False, dry_run: Path | None = None,
        password: str | None = None, progress=None) -> int:
    """The whole of ``send`` (command "send") or ``remind`` ("remind"): plan against the sent
    log, then send (or write .eml files to ``dry_run``), then the summary through ``err``.
    Returns the exit code. The server is not contacted when there is nothing to send."""
    from mesocare.dates import local_midnight, zone
    from mesocare.errors import ConfigError
    from mesocare.mail.sentlog import default_folder, run_lock
    from mesocare.mail.smtp import Sender

    settings = clinic.mail
    if settings is None and dry_run is None:
        raise ConfigError(
            "the clinic config has no email: settings with a host (the mail server), so nothing can be sent;"
            " see 'Email' in the README, or try --dry-run FOLDER first."
        )
    if command == "remind" and day is None:
        raise ConfigError("remind needs --date: the day whose instructions to send.")
    what = "handout message" if command == "send" else "reminder"
    folder = default_folder(clinic.state_dir)

    def make_plan(log: SentLog) -> Plan:
        if command == "send":
            return plan_handouts(schedule, ruleset, clinic, today, log, day=day, resend=resend)
        assert day is not None
        return plan_reminders(schedule, ruleset, clinic, today, log, day=day, resend=resend)

    sender_address = settings.sender if settings else (clinic.email or "clinic@example.invalid")
    reply_to = settings.reply_to if settings else None
    sender_name = settings.sender_name if settings else None
    if dry_run is not None:
        midnight = local_midnight(today, zone(clinic.timezone))
        envelope = Envelope(sender_address, midnight, reply_to, sender_name)
        with SentLog(folder, readonly=True) as log:
            plan = make_plan(log)
        report = write_eml(plan, dry_run, envelope, progress)
    else:
        assert settings is not None
        envelope = Envelope(sender_address, now, reply_to, sender_name)
        with run_lock(folder, waiting=lambda: err("Another mesocare run is sending; waiting for it to finish.")):
            with SentLog(folder) as log:
                plan = make_plan(log)
                if plan.jobs:
                    err(f"Sending {_n(len(plan.jobs), what)} through {settings.host}.")
                    with Sender(settings, password) as sender:
                        report = deliver(plan, sender, log, envelope, progress)
                else:
                    report = Report()
    err(summary(plan, report, what, dry_run=dry_run is not None))
    return exit_code(plan, report)


__all__ = [
    "Envelope", "Job", "Plan", "Report", "deliver", "exit_code", "plan_handouts", "plan_reminders",
    "render_job", "rendered", "run", "summary", "write_eml",
]
