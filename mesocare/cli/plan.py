"""`mesocare plan`: a course's session dates, moved off closed days (mesocare.plan does the
work)."""

from __future__ import annotations

from typing import Annotated

import typer

from mesocare.cli.options import (
    ClinicOpt,
    DateOpt,
    DebugOpt,
    EveryOpt,
    FormatOpt,
    LangOpt,
    TodayOpt,
    TzOpt,
    pick_text_or_json,
)


def plan(
    ctx: typer.Context,
    date_: DateOpt,
    sessions: Annotated[str, typer.Option("--sessions", help="Number of sessions in the course.")],
    every: EveryOpt = None,
    fmt: FormatOpt = None,
    _clinic: ClinicOpt = None,
    _tz: TzOpt = None,
    _today: TodayOpt = None,
    _debug: DebugOpt = False,
    _lang: LangOpt = None,
):
    """List a course's session dates, moved off the clinic's closed weekdays and public holidays.

    Each session is counted from the first (31 January + 1 month is the end of February);
    one that falls on a closed day moves to the next open day. The first session never moves.
    Formats: text or json.
    """
    import json

    from mesocare import words
    from mesocare.lang import clinic_language
    from mesocare.parse import parse_date, parse_every, parse_sessions
    from mesocare.plan import plan_course

    context = ctx.obj
    fmt = pick_text_or_json(fmt)
    clinic = context.clinic()
    assert date_ is not None  # a required option: typer refuses a run without it
    first = parse_date(date_, "--date", today=context.today())
    interval = parse_every(every, "--every") if every else None
    course = plan_course(first, parse_sessions(sessions, "--sessions"), interval, clinic)
    if fmt == "json":
        context.echo(
            json.dumps(
                {
                    "timezone": clinic.timezone,
                    "every": every.strip() if every else None,
                    "sessions": [s.as_dict() for s in course.sessions],
                    "end": course.end.isoformat() if course.end else None,
                    "warnings": list(course.warnings),
                },
                indent=2,
            )
        )
    elif not (language := clinic_language(clinic)).is_default:
        from mesocare.plan import plan_lines

        for line in plan_lines(language, course, interval, clinic):
            context.echo(line)
    else:
        unit = {"d": "day", "w": "week", "m": "month"}[interval[1]] if interval else ""
        every_words = (
            ""
            if not interval
            else f", every {unit}"
            if interval[0] == 1
            else f", every {count(interval[0], unit)}"
        )
        context.echo(f"{count(course.count, 'session')}{every_words}; {course.closed_words}.")
        for s in course.sessions:
            line = f"{s.number:>3}  {words.day(s.date)}"
            if s.moved_from:
                line += f"  (moved from {words.day(s.moved_from)}: {s.reason})"
            context.echo(line)
        if course.end:
            context.echo(f"The course ends on {words.day(course.end)}.")
    for warning in course.warnings:
        context.warn(warning)


def count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
