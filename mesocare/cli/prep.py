"""`mesocare prep`: one patient's handout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from mesocare.cli.context import Context
from mesocare.cli.options import (
    ClinicOpt,
    DateOpt,
    DebugOpt,
    EveryOpt,
    FormatOpt,
    LangOpt,
    LargePrintOpt,
    OutOpt,
    PaperOpt,
    SessionsOpt,
    TodayOpt,
    TzOpt,
    pick_format,
)
from mesocare.errors import OutputError

FORMATS = ("terminal", "text", "markdown", "html", "json", "pdf", "ics", "fhir", "hl7")


@dataclass(frozen=True)
class PrepOptions:
    date: str
    areas: list[str]
    time: str | None
    duration: str | None
    technique: str | None
    prescribed: list[str]
    sessions: str | None
    every: str | None
    course_end: str | None
    name: str | None
    patient_id: str | None
    appointment_id: str | None
    booked: str | None
    strict: bool
    fmt: str | None
    out: str | None


def prep(
    ctx: typer.Context,
    date_: DateOpt,
    area: Annotated[
        list[str],
        typer.Option(
            "--area", help="Treated area: face, neck, body, hands, scalp. Repeat for several."
        ),
    ],
    time_: Annotated[
        str | None,
        typer.Option(
            "--time",
            help=(
                "Start time, HH:MM on the 24-hour clock. Without it, "
                "days are counted conservatively."
            ),
        ),
    ] = None,
    duration: Annotated[
        str | None,
        typer.Option("--duration", help="Length in minutes (default: the clinic's, else 30)."),
    ] = None,
    technique: Annotated[
        str | None,
        typer.Option("--technique", help="needle (default), microneedling or needleless."),
    ] = None,
    prescribed: Annotated[
        list[str] | None,
        typer.Option(
            "--prescribed", help="A medicine the clinician prescribed: medrol or lasix. Repeatable."
        ),
    ] = None,
    sessions: SessionsOpt = None,
    every: EveryOpt = None,
    course_end: Annotated[
        str | None, typer.Option("--course-end", help="Date of the last session, YYYY-MM-DD.")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The patient's name, printed on the handout.")
    ] = None,
    patient_id: Annotated[
        str | None,
        typer.Option(
            "--patient-id",
            help="The patient's id in the clinic's system (JSON and calendar output).",
        ),
    ] = None,
    appointment_id: Annotated[
        str | None,
        typer.Option(
            "--appointment-id",
            help=(
                "The appointment's id in the booking system: "
                "keeps calendar entries stable when it moves."
            ),
        ),
    ] = None,
    booked: Annotated[
        str | None,
        typer.Option("--booked", help="The date the appointment was booked (default: today)."),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail (exit 1) when the appointment is in the past.")
    ] = False,
    fmt: FormatOpt = None,
    out: OutOpt = None,
    _tz: TzOpt = None,
    _today: TodayOpt = None,
    _clinic: ClinicOpt = None,
    _paper: PaperOpt = None,
    _large_print: LargePrintOpt = False,
    _debug: DebugOpt = False,
    _lang: LangOpt = None,
):
    """Print one patient's handout, with every deadline as a real date.

    Formats: terminal, text, markdown, html, json, pdf, ics, fhir (a FHIR R4 transaction
    Bundle) or hl7 (an HL7 v2 MDM^T02 message); fhir and hl7 need --patient-id and
    --appointment-id (default: from --out, else terminal on a screen, text otherwise).
    """
    assert date_ is not None  # a required option: typer refuses a run without it
    run(
        ctx.obj,
        PrepOptions(
            date_,
            area,
            time_,
            duration,
            technique,
            prescribed or [],
            sessions,
            every,
            course_end,
            name,
            patient_id,
            appointment_id,
            booked,
            strict,
            fmt,
            out,
        ),
    )


def run(context: Context, o: PrepOptions) -> None:
    from mesocare import output
    from mesocare.handout import build_handout
    from mesocare.render import BINARY, render

    fmt = pick_format(o.fmt, o.out, FORMATS, context.is_tty)
    clinic, today = context.clinic(), context.today()
    request = build_request(o, clinic, today)
    handout = build_handout(request, context.ruleset(), clinic, today, strict=o.strict)
    if fmt == "terminal" and o.out is None:
        from mesocare.render.terminal import renderables

        console = context.console()
        console.width = min(console.width, 100)
        console.print(renderables(handout))
    else:
        data = render(handout, fmt)
        if o.out is None or o.out == "-":
            if fmt in BINARY and context.is_tty:
                raise OutputError(
                    "this format is binary: give --out FILE to save it, or pipe it to a file."
                )
            output.write(data, "-", context.stdout_bytes())
        else:
            output.write(data, o.out)
    context.warn_if_no_phone(clinic)
    for warning in handout.warnings:
        context.warn(warning)


def build_request(o: PrepOptions, clinic, today):
    from mesocare.course import make_course
    from mesocare.model import Request
    from mesocare.parse import (
        parse_areas,
        parse_date,
        parse_duration_minutes,
        parse_every,
        parse_prescribed,
        parse_sessions,
        parse_technique,
        parse_time,
    )

    day = parse_date(o.date, "--date", today=today)
    return Request(
        date=day,
        areas=parse_areas(o.areas, "--area"),
        time=parse_time(o.time, "--time") if o.time else None,
        duration_minutes=parse_duration_minutes(o.duration, "--duration") if o.duration else None,
        technique=parse_technique(o.technique, "--technique"),
        prescribed=parse_prescribed(o.prescribed, "--prescribed"),
        course=make_course(
            day,
            sessions=parse_sessions(o.sessions, "--sessions") if o.sessions else None,
            every=parse_every(o.every, "--every") if o.every else None,
            course_end=parse_date(o.course_end, "--course-end") if o.course_end else None,
            clinic=clinic,
        ),
        name=o.name.strip() if o.name and o.name.strip() else None,
        patient_id=o.patient_id,
        appointment_id=o.appointment_id,
        booked=parse_date(o.booked, "--booked", today=today) if o.booked else today,
    )
