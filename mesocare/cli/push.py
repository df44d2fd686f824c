"""`mesocare push`: each appointment's record into the clinic's system, exactly once."""

from __future__ import annotations

from typing import Annotated

import typer

from mesocare.cli.context import Context
from mesocare.cli.options import (
    ClinicOpt,
    DateOpt,
    DebugOpt,
    InputFormatOpt,
    LangOpt,
    ScheduleArg,
    TodayOpt,
    TzOpt,
)
from mesocare.errors import ConfigError, ExitCode, InputError

TARGETS = ("mllp", "fhir")


def push(
    ctx: typer.Context,
    schedule: ScheduleArg,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help=(
                "mllp (the interface engine) or fhir (the FHIR server); default: "
                "the one the config's ehr: section sets."
            ),
        ),
    ] = None,
    date_: DateOpt = None,
    input_format: InputFormatOpt = None,
    _tz: TzOpt = None,
    _today: TodayOpt = None,
    _clinic: ClinicOpt = None,
    _debug: DebugOpt = False,
    _lang: LangOpt = None,
):
    """Deliver each appointment's handout into the clinic's record, exactly once: an HL7 v2
    MDM^T02 to the interface engine over MLLP, or a FHIR R4 transaction to the FHIR server
    (config ehr:). Exit 3 while anything is not delivered (run again: only what is missing
    goes)."""
    raise typer.Exit(int(run(ctx.obj, schedule, to, date_, input_format)))


def _target(clinic, to: str | None) -> str:
    ehr = clinic.ehr
    configured = [t for t in TARGETS if ehr is not None and getattr(ehr, t) is not None]
    if to is not None:
        wanted = to.strip().lower()
        if wanted not in TARGETS:
            raise InputError(f"--to '{to}' is not known: use mllp or fhir.")
        if wanted not in configured:
            raise ConfigError(
                f"the clinic config has no ehr: {wanted}: section, so nothing can be pushed there."
            )
        return wanted
    if not configured:
        raise ConfigError(
            "the clinic config has no ehr: section (mllp: or fhir:), so nothing can be pushed."
        )
    if len(configured) > 1:
        raise InputError("the clinic config sets both ehr: mllp: and fhir:: choose one with --to.")
    return configured[0]


def run(
    context: Context, schedule: str, to: str | None, date_: str | None, input_format: str | None
) -> ExitCode:
    from mesocare.batch import BatchPlan
    from mesocare.cli.batch import _ids_required, open_schedule
    from mesocare.mail.sentlog import default_folder
    from mesocare.parse import parse_date
    from mesocare.push.deliver import push as deliver_all
    from mesocare.push.pushlog import PushLog, run_lock
    from mesocare.readers import stream_schedule

    clinic, today = context.clinic(), context.today()
    target = _target(clinic, to)
    day = parse_date(date_, "--date", today=today) if date_ else None
    folder = default_folder(clinic.state_dir)
    with open_schedule(schedule) as (source, filename):
        rows = stream_schedule(source, clinic, fmt=input_format, filename=filename)
        plan = BatchPlan(
            rows,
            context.ruleset(),
            clinic,
            today,
            day,
            lambda: rows.has_booking_dates,
            require=_ids_required,
        )
    with plan, run_lock(folder), PushLog(folder) as log:
        log.check_writable()
        if target == "mllp":
            from mesocare.push.deliver import mllp_deliverer
            from mesocare.push.mllp import Connection

            settings = clinic.ehr.mllp
            connection = Connection(settings)
            name = f"mllp://{settings.host}:{settings.port}"
            try:
                summary = deliver_all(plan, log, name, mllp_deliverer(connection, settings))
            finally:
                connection.close()
        else:
            from mesocare.push.fhir_client import fhir_deliverer

            settings = clinic.ehr.fhir
            summary = deliver_all(plan, log, settings.base_url, fhir_deliverer(settings))
    for outcome in summary.undelivered:
        context.err(str(outcome))
    for problem in plan.errors:
        context.err(f"skipped: {problem}")
    context.err(
        f"{summary.count('delivered')} delivered, {summary.count('unchanged')} already there,"
        f" {len(summary.undelivered)} not delivered, {len(plan.errors)} rows skipped."
    )
    if summary.undelivered:
        context.err(
            "Run mesocare push again (the same command) to deliver what is missing; "
            "what the engine or server rejected needs fixing there or in the schedule first."
        )
    return ExitCode.SKIPPED_ROWS if summary.undelivered or plan.errors else ExitCode.OK
