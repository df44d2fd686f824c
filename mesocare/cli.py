"""The command line: parse, call the library, print. Nothing clinical is decided here.

One error boundary (``_run``): a MesocareError becomes one sentence on stderr and its exit
code; ``--debug`` shows the traceback instead. Usage errors exit 2 (click's own). The clock
is read here only, and handed to the core as ``today``.
"""

from __future__ import annotations

import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from mesocare import __version__
from mesocare.errors import ExitCode, InputError, MesocareError, OutputError

app = typer.Typer(
    name="mesocare",
    help="Dated pre- and aftercare handouts for mesotherapy appointments.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# --------------------------------------------------------------------------- plumbing


def _err(message: str) -> None:
    sys.stderr.write(message.rstrip() + "\n")
    sys.stderr.flush()


def _run(debug: bool, fn, *args, **kwargs):
    """Call ``fn``; turn a MesocareError into one line on stderr and its exit code."""
    try:
        return fn(*args, **kwargs)
    except MesocareError as e:
        if debug:
            raise
        _err(f"mesocare: {e}")
        raise typer.Exit(int(e.exit_code)) from None
    except KeyboardInterrupt:
        _err("mesocare: interrupted; no output file was written.")
        raise typer.Exit(130) from None


def _version(value: bool):
    if value:
        from mesocare.rules import load_ruleset
        from mesocare.resources import instructions_dir

        ruleset = load_ruleset([(instructions_dir(), "mesocare")])
        typer.echo(f"mesocare {__version__} (rule set {ruleset.version[:12]})")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and the rule-set hash.")
    ] = False,
):
    """Dated pre- and aftercare handouts for mesotherapy appointments.

    Start with: mesocare prep --date 2024-06-10 --time 10:00 --area face
    """


def load_context(clinic_file: str | None, tz: str | None, paper: str | None = None, today_opt: str | None = None):
    """The clinic (config + overrides), the rule set and today's date in the clinic's zone."""
    from mesocare.config import find_config, load_clinic, machine_zone, with_overrides
    from mesocare.parse import parse_date, parse_zone
    from mesocare.rules import load_ruleset
    from mesocare.resources import instructions_dir

    path = find_config(clinic_file, dict(os.environ), Path.cwd())
    clinic = load_clinic(path, default_zone=machine_zone())
    if paper is not None:
        wanted = {"a4": "A4", "letter": "Letter"}.get(paper.strip().lower())
        if wanted is None:
            raise InputError(f"paper '{paper}' is not known: use A4 or Letter.")
        paper = wanted
    clinic = with_overrides(clinic, timezone=parse_zone(tz, "--tz") if tz else None, paper=paper)
    folders = [(instructions_dir(), "mesocare")]
    if clinic.rules_dir:
        folders.append((Path(clinic.rules_dir), "clinic"))
    ruleset = load_ruleset(folders)
    if today_opt:
        today = parse_date(today_opt, "--today")
    else:
        from mesocare.dates import zone

        today = datetime.now(zone(clinic.timezone)).date()
    return clinic, ruleset, today


def write_output(data: str | bytes, out: Path | None) -> None:
    """Write to a file atomically (a temporary file renamed into place), or to stdout."""
    if out is None:
        if isinstance(data, bytes):
            if sys.stdout.isatty():
                raise OutputError("this format is binary: give --out FILE to save it, or pipe it to a file.")
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(data)
            sys.stdout.flush()
        return
    atomic_write(out, data)


def atomic_write(out: Path, data: str | bytes) -> None:
    import tempfile

    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{out}: the folder {folder} does not exist.")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=folder)
    except OSError as e:
        raise OutputError(f"{out}: cannot write in {folder} ({e.strerror}).") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise OutputError(f"{out}: cannot be written ({e.strerror}).") from None
        raise


def pick_format(fmt: str | None, out: Path | None, allowed) -> str:
    from mesocare.render import format_for_extension

    if fmt:
        fmt = fmt.strip().lower()
        if fmt not in allowed:
            raise InputError(f"--format '{fmt}' is not known: use one of {', '.join(allowed)}.")
        return fmt
    if out is not None and not str(out).endswith(os.sep):
        guessed = format_for_extension(out.suffix)
        if guessed in allowed:
            return guessed
        raise InputError(f"--out {out}: cannot tell the format from the file name; add --format.")
    return "terminal" if sys.stdout.isatty() and "terminal" in allowed else "text"


# --------------------------------------------------------------------------- prep

PREP_FORMATS = ("terminal", "text", "markdown", "html", "json", "pdf", "ics")


@app.command()
def prep(
    date_: Annotated[str, typer.Option("--date", help="Appointment date: YYYY-MM-DD, today or tomorrow (in the clinic's zone).")],
    area: Annotated[list[str], typer.Option("--area", help="Treated area: face, neck, body, hands, scalp. Repeat for several.")],
    time_: Annotated[Optional[str], typer.Option("--time", help="Start time, HH:MM on the 24-hour clock. Without it, days are counted conservatively.")] = None,
    duration: Annotated[Optional[str], typer.Option("--duration", help="Length in minutes (default: the clinic's, else 30).")] = None,
    tz: Annotated[Optional[str], typer.Option("--tz", help="The clinic's IANA time zone, e.g. Europe/London.")] = None,
    technique: Annotated[Optional[str], typer.Option("--technique", help="needle (default), microneedling or needleless.")] = None,
    prescribed: Annotated[Optional[list[str]], typer.Option("--prescribed", help="A medicine the clinician prescribed: medrol or lasix. Repeatable.")] = None,
    sessions: Annotated[Optional[str], typer.Option("--sessions", help="Number of sessions in the course (with --every).")] = None,
    every: Annotated[Optional[str], typer.Option("--every", help="Time between sessions: 14d, 4w or 1m (calendar months).")] = None,
    course_end: Annotated[Optional[str], typer.Option("--course-end", help="Date of the last session, YYYY-MM-DD.")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="The patient's name, printed on the handout.")] = None,
    patient_id: Annotated[Optional[str], typer.Option("--patient-id", help="The patient's id in the clinic's system (JSON and calendar output).")] = None,
    today: Annotated[Optional[str], typer.Option("--today", help="Take this date as today, YYYY-MM-DD (for reproducible runs).")] = None,
    booked: Annotated[Optional[str], typer.Option("--booked", help="The date the appointment was booked (default: today).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail (exit 1) when the appointment is in the past.")] = False,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", help="terminal, text, markdown, html, json, pdf or ics (default: from --out, else terminal on a screen, text otherwise).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write to this file (written whole or not at all).")] = None,
    clinic_file: Annotated[Optional[str], typer.Option("--clinic", help="The clinic's YAML config (default: $MESOCARE_CLINIC, else ./mesocare.yaml).")] = None,
    paper: Annotated[Optional[str], typer.Option("--paper", help="A4 or Letter, for html and pdf (default: the clinic's).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")] = False,
):
    """Print one patient's handout, with every deadline as a real date."""
    _run(debug, _prep, locals())


def _prep(o: dict) -> None:
    from mesocare.handout import build_handout
    from mesocare.model import Request
    from mesocare.parse import (
        parse_areas, parse_date, parse_duration_minutes, parse_every, parse_prescribed,
        parse_sessions, parse_technique, parse_time,
    )
    from mesocare.render import render
    from mesocare.schedule import make_course

    out: Path | None = o["out"]
    fmt = pick_format(o["fmt"], out, PREP_FORMATS)
    clinic, ruleset, today = load_context(o["clinic_file"], o["tz"], o["paper"], o["today"])
    day = parse_date(o["date_"], "--date", today=today)
    request = Request(
        date=day,
        areas=parse_areas(o["area"], "--area"),
        time=parse_time(o["time_"], "--time") if o["time_"] else None,
        duration_minutes=parse_duration_minutes(o["duration"], "--duration") if o["duration"] else None,
        technique=parse_technique(o["technique"], "--technique"),
        prescribed=parse_prescribed(o["prescribed"] or [], "--prescribed"),
        course=make_course(
            day,
            sessions=parse_sessions(o["sessions"], "--sessions") if o["sessions"] else None,
            every=parse_every(o["every"], "--every") if o["every"] else None,
            course_end=parse_date(o["course_end"], "--course-end") if o["course_end"] else None,
            clinic=clinic,
        ),
        name=o["name"].strip() if o["name"] and o["name"].strip() else None,
        patient_id=o["patient_id"],
        booked=parse_date(o["booked"], "--booked", today=today) if o["booked"] else today,
    )
    handout = build_handout(request, ruleset, clinic, today, strict=o["strict"])
    if fmt == "terminal" and out is None:
        from rich.console import Console

        from mesocare.render.terminal import renderables

        console = Console(width=min(Console().width, 100))
        console.print(renderables(handout))
    else:
        write_output(render(handout, fmt), out)
    for warning in handout.warnings:
        _err(f"mesocare: warning: {warning}")


# --------------------------------------------------------------------------- schema


@app.command()
def schema(
    rules: Annotated[bool, typer.Option("--rules", help="Print the rule-file schema instead of the handout JSON schema.")] = False,
):
    """Print the JSON Schema of the JSON output (or of rule files)."""
    from mesocare.resources import schema_path

    if rules:
        import json

        from mesocare.rules import rule_file_json_schema

        typer.echo(json.dumps(rule_file_json_schema(), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(schema_path("handout.schema.json").read_text(encoding="utf-8"))


def main() -> None:
    """Entry point (``mesocare`` and ``python -m mesocare``)."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
