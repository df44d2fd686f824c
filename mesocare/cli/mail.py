"""`mesocare send` and `mesocare remind`: email each patient their handout and their reminders,
once (mesocare.mail does the work; this module parses, reads the clock and the password,
and prints)."""

from __future__ import annotations

import os
from datetime import timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mesocare.cli.context import Context
from mesocare.cli.options import (
    ClinicOpt,
    DebugOpt,
    InputFormatOpt,
    ScheduleArg,
    TodayOpt,
    TzOpt,
)

if TYPE_CHECKING:
    from mesocare.cli.progress import Progress

DryRunOpt = Annotated[
    Path | None,
    typer.Option(
        "--dry-run",
        metavar="DIR",
        help=(
            "Write the messages as .eml files in DIR instead of sending them (the sent log "
            "is only read)."
        ),
    ),
]
ResendOpt = Annotated[
    bool,
    typer.Option(
        "--resend", help="Send again to every row given, even if the same message was sent before."
    ),
]
UnconfirmedOpt = Annotated[
    bool,
    typer.Option(
        "--resend-unconfirmed",
        help="Send again, once, the messages the mail server took without answering (named as"
        " unconfirmed in an earlier summary): only when its log shows they never arrived.",
    ),
]


def send(
    ctx: typer.Context,
    schedule: ScheduleArg,
    date_: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="Only this day's appointments: YYYY-MM-DD, today or tomorrow (clinic's zone).",
        ),
    ] = None,
    input_format: InputFormatOpt = None,
    dry_run: DryRunOpt = None,
    resend: ResendOpt = False,
    resend_unconfirmed: UnconfirmedOpt = False,
    _tz: TzOpt = None,
    _today: TodayOpt = None,
    _clinic: ClinicOpt = None,
    _debug: DebugOpt = False,
):
    """Email each patient with an address their handout (PDF) and calendar file, once.

    A rerun sends nothing new; a changed appointment or plan gets one updated message.
    Rows without an address are counted: print theirs. Exit 3: some messages were not
    sent (each row is named); run again later.
    """
    forcing = (resend, resend_unconfirmed)
    raise typer.Exit(run(ctx.obj, "send", schedule, date_, input_format, dry_run, forcing))


def remind(
    ctx: typer.Context,
    schedule: ScheduleArg,
    date_: Annotated[
        str,
        typer.Option(
            "--date",
            help="The day whose instructions to send: YYYY-MM-DD or today (clinic's zone).",
        ),
    ],
    input_format: InputFormatOpt = None,
    dry_run: DryRunOpt = None,
    resend: ResendOpt = False,
    resend_unconfirmed: UnconfirmedOpt = False,
    _tz: TzOpt = None,
    _today: TodayOpt = None,
    _clinic: ClinicOpt = None,
    _debug: DebugOpt = False,
):
    """Email each patient the instructions that start on --date, in one short message.

    A before-window that starts that day, and the day-of items the day before the
    appointment. Run it every morning from cron; each reminder goes once.
    """
    forcing = (resend, resend_unconfirmed)
    raise typer.Exit(run(ctx.obj, "remind", schedule, date_, input_format, dry_run, forcing))


def run(
    context: Context,
    command: str,
    schedule: str,
    date_: str | None,
    input_format: str | None,
    dry_run: Path | None,
    forcing: tuple[bool, bool],
) -> int:
    """``forcing``: (--resend, --resend-unconfirmed)."""
    from mesocare.cli.batch import open_schedule
    from mesocare.config.mail import PASSWORD_ENV
    from mesocare.errors import OutputError
    from mesocare.mail.outbox import run as run_mail
    from mesocare.parse import parse_date
    from mesocare.readers import read_schedule
    from mesocare.workers import wanted

    wanted()  # a bad MESOCARE_PDF_WORKERS stops the run before anything is read or sent
    clinic, today = context.clinic(), context.today()
    day = parse_date(date_, "--date", today=today) if date_ else None
    if dry_run is not None and dry_run.exists() and not dry_run.is_dir():
        raise OutputError(f"{dry_run}: is not a folder.")
    folder = dry_run  # made once the first message is whole: a run that fails first makes none
    with open_schedule(schedule) as (
        source,
        filename,
    ):  # a CSV row by row, others up to their limit
        parsed = read_schedule(source, clinic, fmt=input_format, filename=filename)
    progress = _Progress(context, "Sending" if folder is None else "Writing")
    try:
        return run_mail(
            command,
            parsed,
            context.ruleset(),
            clinic,
            today,
            day=day,
            resend=forcing[0],
            resend_unconfirmed=forcing[1],
            dry_run=folder,
            now=context.clock(timezone.utc),
            err=context.err,
            progress=progress,
            password=os.environ.get(PASSWORD_ENV) or None,
        )
    finally:
        progress.stop()


class _Progress:
    """The shared progress bar, made when the count is known."""

    def __init__(self, context: Context, label: str):
        self.context, self.label = context, label
        self.bar: Progress | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            from mesocare.cli.progress import Progress

            self.bar = Progress(total, self.context.stderr_is_tty)
        self.bar(done, total)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
