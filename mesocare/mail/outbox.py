"""``send`` and ``remind`` without the command line: plan, render, deliver, record.

1. ``plan_handouts`` / ``plan_reminders`` read nothing but their arguments and the sent log:
   one ``Job`` per message to send (new, updated, or forced with ``resend``), and the
   counts for the summary (already sent, without an address, nothing to remind, held as
   unconfirmed). Another patient behind a known booking id is a new appointment.
2. ``rendered`` (``mesocare.mail.rendering``) builds each job's message bytes (the PDF and
   calendar file for handouts), in worker processes for long lists, at most a few ahead of
   the sender: memory stays flat.
3. ``deliver`` sends them in order over one connection and writes each to the sent log the
   moment the server accepted it (or took its data without answering: ``unconfirmed``), once
   the log has shown it can record; ``write_eml`` writes them to a folder instead.
4. ``summary`` and ``exit_code`` (``mesocare.mail.summary``) say what happened.

Nothing here prints: progress goes to a callback, and the ``Report`` says what happened,
row by row, without a name or an address.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from mesocare.addresses import valid_address
from mesocare.batch import build_batch
from mesocare.errors import MesocareError, OutputError
from mesocare.mail import messages as m
from mesocare.mail.jobs import Failure, Job, Plan, Report
from mesocare.mail.rendering import Envelope, message_id, render_job, rendered
from mesocare.mail.sentlog import ACCEPTED, UNCONFIRMED, Record, SentLog
from mesocare.mail.summary import counted, exit_code, summary
from mesocare.model import Clinic, Handout, RowProblem, Schedule
from mesocare.output import handout_stem
from mesocare.rules import RuleSet


def _language(handout: Handout) -> str:
    """The message's language tag: the handout's (the patient's, else the clinic's)."""
    return handout.lang.tag


def _rows(
    schedule: Schedule, ruleset: RuleSet, clinic: Clinic, today: date, day: date | None, plan: Plan
):
    """(position, request, handout) for each good row, sorted by start; bad ones to
    plan.problems."""
    batch = build_batch(schedule, ruleset, clinic, today, day)
    plan.problems.extend(batch.problems)
    requests = {row.position: row.request for row in schedule.rows}
    for handout, position in zip(batch.handouts, batch.positions, strict=True):
        yield position, requests[position], handout
    order = {row.position: n for n, row in enumerate(schedule.rows)}
    plan.without_address.sort(key=lambda p: order.get(p, 0))  # named in the schedule's order


def _address(request, position: str, plan: Plan) -> str | None:
    address = (request.email or "").strip()
    if not address:
        plan.without_address.append(position)
        return None
    if not valid_address(address):
        plan.problems.append(
            RowProblem(position, "email", "the email address is not valid: nothing sent")
        )
        return None
    return address


def _decide(
    record: Record | None, content: m.Content, resend: bool, resend_unconfirmed: bool
) -> tuple[bool | None, int, m.Change | None]:
    """(send it?, which copy, what changed) from the sent log's record of this message;
    None for "no": a message sent before without the server's answer, held."""
    if record is None:
        return True, 1, None
    if not m.same_patient(record.facts, content.facts):  # a booking id reused for someone else
        return True, record.copies + 1, None
    legacy = "patient" not in record.facts
    if record.content_hash == (m.legacy_hash(content) if legacy else content.hash):
        if record.unconfirmed and not resend:  # the very message again (same Message-ID), if asked
            return (True if resend_unconfirmed else None), record.copies, None
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


def _job(
    plan: Plan,
    seen: dict,
    log,
    forcing: tuple[bool, bool],
    position,
    request,
    handout,
    address,
    content,
    reminder=None,
):
    """Plan one message; ``forcing`` is (--resend, --resend-unconfirmed)."""
    resend, resend_unconfirmed = forcing
    key = m.appointment_key(request)
    first = seen.get((key, content.kind))
    if first is not None:
        plan.problems.append(
            RowProblem(
                position, None, f"the same appointment as {first}: one message only", error=False
            )
        )
        return
    seen[(key, content.kind)] = position
    send, copy, change = _decide(log.get(key, content.kind), content, resend, resend_unconfirmed)
    if send is None:
        plan.unconfirmed.append(position)
        return
    if not send:
        plan.already_sent += 1
        return
    plan.jobs.append(
        Job(
            position,
            key,
            content,
            handout,
            address,
            _language(handout),
            handout_stem(handout, position),
            copy,
            change,
            reminder,
            _thread(log, key, content.kind),
        )
    )


def plan_handouts(
    schedule: Schedule,
    ruleset: RuleSet,
    clinic: Clinic,
    today: date,
    log: SentLog,
    day: date | None = None,
    resend: bool = False,
    resend_unconfirmed: bool = False,
) -> Plan:
    """One handout message per appointment (on ``day`` when given) with an address, not yet
    sent or changed since; appointments before today are counted, not sent. A message sent
    before without the server's answer is held unless ``resend_unconfirmed``."""
    plan = Plan()
    seen: dict[tuple, str] = {}  # (appointment key, kind) -> the row that planned it
    for position, request, handout in _rows(schedule, ruleset, clinic, today, day, plan):
        plan.considered += 1
        if request.date < today:
            plan.past += 1
            continue
        address = _address(request, position, plan)
        if address is None:
            continue
        content = m.handout_content(handout, address, _language(handout))
        forcing = (resend, resend_unconfirmed)
        _job(plan, seen, log, forcing, position, request, handout, address, content)
    return plan


def plan_reminders(
    schedule: Schedule,
    ruleset: RuleSet,
    clinic: Clinic,
    today: date,
    log: SentLog,
    day: date,
    resend: bool = False,
    resend_unconfirmed: bool = False,
) -> Plan:
    """One reminder per appointment with instructions starting on ``day`` (any appointment date)."""
    plan = Plan()
    seen: dict[tuple, str] = {}  # (appointment key, kind) -> the row that planned it
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
        forcing = (resend, resend_unconfirmed)
        _job(plan, seen, log, forcing, position, request, handout, address, content, reminder)
    return plan


# --------------------------------------------------------------------------- delivering


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
            except (
                MailServerError
            ) as e:  # unreachable, login refused, certificate: stop, name every row left
                report.stopped = str(e)
                why = (
                    "the mail server could not be reached"
                    if isinstance(e, ServerUnreachable)
                    else "the run stopped first"
                )
                report.failures.extend(
                    Failure(j.position, why, False) for j in plan.jobs[done - 1 :]
                )
                break
            if outcome.sent or outcome.unconfirmed:
                # nothing between the server's acceptance (or its silence after the data)
                # and this commit
                state = UNCONFIRMED if outcome.unconfirmed else ACCEPTED
                try:
                    log.record(
                        job.key,
                        job.kind,
                        job.content.hash,
                        job.content.facts,
                        message_id(job, envelope),
                        job.copy,
                        state=state,
                    )
                except MesocareError as e:  # stop at once: send nothing that cannot be recorded
                    raise MesocareError(
                        f"{job.position}: the message went to the mail server, but {e}"
                        " Nothing more was sent; this one message may be sent again on the next"
                        " run."
                    ) from None
                if outcome.unconfirmed:
                    report.unconfirmed.append(job.position)
                else:
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
    never outside it; one that cannot be written is a row problem, the others are written);
    the sent log is only read."""
    from mesocare import output

    report = Report()
    names = output.unique_names((f"{job.stem}.{kind_suffix(job)}" for job in plan.jobs), "eml")
    total = len(plan.jobs)
    for done, (job, name, raw) in enumerate(
        zip(plan.jobs, names, rendered(plan.jobs, envelope), strict=True), start=1
    ):
        if done == 1:
            output.open_folder(folder)  # made once the first message is whole
        try:
            report.written.append(output.write_in_folder(folder, name, raw))
            report.updated += job.updated
        except OutputError as e:  # a folder where the file must go...: the others are written
            plan.problems.append(RowProblem(job.position, None, f"not written: {e}"))
        if progress is not None:
            progress(done, total)
    return report


def run(
    command: str,
    schedule: Schedule,
    ruleset: RuleSet,
    clinic: Clinic,
    today: date,
    *,
    now: datetime,
    err,
    day: date | None = None,
    resend: bool = False,
    dry_run: Path | None = None,
    password: str | None = None,
    progress=None,
    resend_unconfirmed: bool = False,
) -> int:
    """The whole of ``send`` (command "send") or ``remind`` ("remind"): plan against the sent
    log, then send (or write .eml files to ``dry_run``), then the summary through ``err``.
    Returns the exit code. The server is not contacted when there is nothing to send."""
    from mesocare.dates import local_midnight, zone
    from mesocare.errors import ConfigError
    from mesocare.mail.sentlog import default_folder, run_lock
    from mesocare.mail.smtp import Sender

    if (
        clinic.mail_problem
    ):  # an address in the config that is not valid: nothing is sent or written
        raise ConfigError(clinic.mail_problem)
    settings = clinic.mail
    if settings is None and dry_run is None:
        raise ConfigError(
            "the clinic config has no email: settings with a host (the mail server), "
            "so nothing can be sent;"
            " see docs/email.md in the manual, or try --dry-run FOLDER first."
        )
    if command == "remind" and day is None:
        raise ConfigError("remind needs --date: the day whose instructions to send.")
    what = "handout message" if command == "send" else "reminder"
    folder = default_folder(clinic.state_dir)

    def make_plan(log: SentLog) -> Plan:
        if command == "send":
            return plan_handouts(
                schedule,
                ruleset,
                clinic,
                today,
                log,
                day=day,
                resend=resend,
                resend_unconfirmed=resend_unconfirmed,
            )
        assert day is not None
        return plan_reminders(
            schedule,
            ruleset,
            clinic,
            today,
            log,
            day=day,
            resend=resend,
            resend_unconfirmed=resend_unconfirmed,
        )

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
        with run_lock(
            folder,
            waiting=lambda: err("Another mesocare run is sending; waiting for it to finish."),
        ):
            with SentLog(folder) as log:
                plan = make_plan(log)
                if plan.jobs:
                    log.check_writable()  # a log that cannot record stops the run before any send
                    err(f"Sending {counted(len(plan.jobs), what)} through {settings.host}.")
                    with Sender(settings, password) as sender:
                        report = deliver(plan, sender, log, envelope, progress)
                else:
                    report = Report()
    err(summary(plan, report, what, dry_run=dry_run is not None))
    return exit_code(plan, report)


__all__ = [
    "Envelope",
    "Job",
    "Plan",
    "Report",
    "deliver",
    "exit_code",
    "plan_handouts",
    "plan_reminders",
    "render_job",
    "rendered",
    "run",
    "summary",
    "write_eml",
]
