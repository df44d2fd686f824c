"""Every option that more than one command takes, declared once.

The options every command shares (--clinic, --tz, --today, --paper, --large-print, --debug) go
straight into the run's Context (context.py) as they are parsed; a command never sees them as
parameters. The others are plain typed values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mesocare.cli.context import Context
from mesocare.errors import InputError


def _store(field: str, check=None):
    def callback(ctx: typer.Context, param: typer.CallbackParam, value):
        if value is not None and not ctx.resilient_parsing:
            if check is not None:
                value = check(value)
            context = ctx.find_object(Context)
            if context is not None:
                setattr(context, field, value)
        return value

    return callback


def _shared(*names: str, field: str, help: str, check=None):
    return typer.Option(*names, help=help, callback=_store(field, check), expose_value=False)


def _language_tag(value: str) -> str:
    """--lang's value when it is a language tag; else a usage error naming the option (exit 2).
    Whether mesocare writes that language is the language layer's to say (exit 1)."""
    from mesocare.lang.tags import LanguageError, NotATag, read_tag

    try:
        read_tag(value)
    except NotATag:
        raise typer.BadParameter(
            "not a language tag: write a language such as fr, or a language and region such as "
            "fr-CA or pt-BR.",
            param_hint="'--lang'",
        ) from None
    except LanguageError:
        pass
    return value


# ---- into the Context
ClinicOpt = Annotated[
    str | None,
    _shared(
        "--clinic",
        field="clinic_file",
        help="The clinic's YAML config (default: $MESOCARE_CLINIC, else ./mesocare.yaml).",
    ),
]
TzOpt = Annotated[
    str | None, _shared("--tz", field="tz", help="The clinic's IANA time zone, e.g. Europe/London.")
]
TodayOpt = Annotated[
    str | None,
    _shared(
        "--today",
        field="today_opt",
        help="Take this date as today, YYYY-MM-DD (for reproducible runs).",
    ),
]
PaperOpt = Annotated[
    str | None,
    _shared(
        "--paper", field="paper", help="A4 or Letter, for html and pdf (default: the clinic's)."
    ),
]
DebugOpt = Annotated[bool, _shared("--debug", field="debug", help="Show a traceback on errors.")]
LangOpt = Annotated[
    str | None,
    _shared(
        "--lang",
        field="lang_opt",
        help=(
            "The handout's language, e.g. fr, es-MX, pt-BR, en-US (default: "
            "the clinic's language, else en-GB; in a batch, "
            "rows with their own language keep it)."
        ),
        check=_language_tag,
    ),
]
LargePrintOpt = Annotated[
    bool,
    _shared(
        "--large-print",
        field="large_print",
        help=(
            "Large print for html and pdf: 18 pt body text, larger headings (default: "
            "the clinic's print setting)."
        ),
    ),
]

# ---- plain values
ScheduleArg = Annotated[
    str,
    typer.Argument(
        help="The schedule: a CSV, iCalendar (.ics), FHIR JSON or HL7 v2 file, or - for stdin."
    ),
]
InputFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--input-format", help="csv, ics, fhir or hl7 (default: from the file name or its content)."
    ),
]
DateOpt = Annotated[
    str | None,
    typer.Option(
        "--date",
        help=(
            "The appointment's date (batch: only that day's): "
            "YYYY-MM-DD, today or tomorrow, in the clinic's zone."
        ),
    ),
]
SessionsOpt = Annotated[
    str | None, typer.Option("--sessions", help="Number of sessions in the course.")
]
EveryOpt = Annotated[
    str | None,
    typer.Option("--every", help="Time between sessions: 14d, 4w or 1m (calendar months)."),
]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", "-f", help="The output format (the command's help lists them)."),
]
OutOpt = Annotated[
    str | None,
    typer.Option(
        "--out",
        "-o",
        help=(
            "Write to this file (whole or not at all); - is stdout; batch: "
            "a folder ending in / for one file per patient."
        ),
    ),
]


def pick_text_or_json(fmt: str | None) -> str:
    value = (fmt or "text").strip().lower()
    if value not in ("text", "json"):
        raise InputError(f"--format '{fmt}' is not known: use text or json.")
    return value


def pick_format(fmt: str | None, out: str | None, allowed, is_tty: bool) -> str:
    """--format, else the --out file's extension, else terminal on a screen and text in a pipe."""
    from mesocare.render import format_for_extension

    if fmt:
        fmt = fmt.strip().lower()
        if fmt not in allowed:
            raise InputError(f"--format '{fmt}' is not known: use one of {', '.join(allowed)}.")
        return fmt
    if out is not None and out != "-":
        guessed = format_for_extension(Path(out).suffix)
        if guessed is not None and guessed in allowed:
            return guessed
        if not Path(out).exists() or Path(out).is_file():
            raise InputError(
                f"--out {out}: cannot tell the format from the file name; add --format."
            )
    return "terminal" if is_tty and out is None and "terminal" in allowed else "text"
