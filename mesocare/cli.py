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


def load_clinic_only(clinic_file: str | None, tz: str | None, paper: str | None = None):
    """The clinic: its config (--clinic, $MESOCARE_CLINIC, ./mesocare.yaml) with --tz and --paper."""
    from mesocare.config import find_config, load_clinic, with_overrides
    from mesocare.parse import parse_zone

    zone_name = parse_zone(tz, "--tz") if tz else None
    path = find_config(clinic_file, dict(os.environ), Path.cwd())
    clinic = load_clinic(path, default_zone=zone_name)
    if paper is not None:
        wanted = {"a4": "A4", "letter": "Letter"}.get(paper.strip().lower())
        if wanted is None:
            raise InputError(f"paper '{paper}' is not known: use A4 or Letter.")
        paper = wanted
    return with_overrides(clinic, timezone=zone_name, paper=paper)


def today_in(clinic, today_opt: str | None) -> date:
    """--today, else the current date in the clinic's zone (the only place the clock is read)."""
    from mesocare.parse import parse_date

    if today_opt:
        return parse_date(today_opt, "--today")
    from mesocare.dates import zone

    return datetime.now(zone(clinic.timezone)).date()


def load_context(clinic_file: str | None, tz: str | None, paper: str | None = None, today_opt: str | None = None):
    """The clinic, the rule set (ours, then the clinic's folder) and today in the clinic's zone."""
    from mesocare.rules import load_ruleset
    from mesocare.resources import instructions_dir

    clinic = load_clinic_only(clinic_file, tz, paper)
    folders = [(instructions_dir(), "mesocare")]
    if clinic.rules_dir:
        folders.append((Path(clinic.rules_dir), "clinic"))
    return clinic, load_ruleset(folders), today_in(clinic, today_opt)


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

# Options shared by several commands
ClinicOpt = Annotated[
    Optional[str], typer.Option("--clinic", help="The clinic's YAML config (default: $MESOCARE_CLINIC, else ./mesocare.yaml).")
]
TzOpt = Annotated[Optional[str], typer.Option("--tz", help="The clinic's IANA time zone, e.g. Europe/London.")]
TodayOpt = Annotated[Optional[str], typer.Option("--today", help="Take this date as today, YYYY-MM-DD (for reproducible runs).")]
PaperOpt = Annotated[Optional[str], typer.Option("--paper", help="A4 or Letter, for html and pdf (default: the clinic's).")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")]
FormatOpt = Annotated[Optional[str], typer.Option("--format", "-f", help="text (default) or json.")]



PREP_FORMATS = ("terminal", "text", "markdown", "html", "json", "pdf", "ics")


@app.command()
def prep(
    date_: Annotated[str, typer.Option("--date", help="Appointment date: YYYY-MM-DD, today or tomorrow (in the clinic's zone).")],
    area: Annotated[list[str], typer.Option("--area", help="Treated area: face, neck, body, hands, scalp. Repeat for several.")],
    time_: Annotated[Optional[str], typer.Option("--time", help="Start time, HH:MM on the 24-hour clock. Without it, days are counted conservatively.")] = None,
    duration: Annotated[Optional[str], typer.Option("--duration", help="Length in minutes (default: the clinic's, else 30).")] = None,
    tz: TzOpt = None,
    technique: Annotated[Optional[str], typer.Option("--technique", help="needle (default), microneedling or needleless.")] = None,
    prescribed: Annotated[Optional[list[str]], typer.Option("--prescribed", help="A medicine the clinician prescribed: medrol or lasix. Repeatable.")] = None,
    sessions: Annotated[Optional[str], typer.Option("--sessions", help="Number of sessions in the course (with --every).")] = None,
    every: Annotated[Optional[str], typer.Option("--every", help="Time between sessions: 14d, 4w or 1m (calendar months).")] = None,
    course_end: Annotated[Optional[str], typer.Option("--course-end", help="Date of the last session, YYYY-MM-DD.")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="The patient's name, printed on the handout.")] = None,
    patient_id: Annotated[Optional[str], typer.Option("--patient-id", help="The patient's id in the clinic's system (JSON and calendar output).")] = None,
    appointment_id: Annotated[Optional[str], typer.Option("--appointment-id", help="The appointment's id in the booking system: keeps calendar entries stable when it moves.")] = None,
    today: TodayOpt = None,
    booked: Annotated[Optional[str], typer.Option("--booked", help="The date the appointment was booked (default: today).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail (exit 1) when the appointment is in the past.")] = False,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", help="terminal, text, markdown, html, json, pdf or ics (default: from --out, else terminal on a screen, text otherwise).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write to this file (written whole or not at all).")] = None,
    clinic_file: ClinicOpt = None,
    paper: PaperOpt = None,
    debug: DebugOpt = False,
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
        appointment_id=o["appointment_id"],
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

        from mesocare.rulefile import rule_file_json_schema

        typer.echo(json.dumps(rule_file_json_schema(), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(schema_path("handout.schema.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- batch
# (batch command: lead's section)

BATCH_FORMATS = ("pdf", "html", "text", "markdown", "json", "ndjson", "ics")


@app.command()
def batch(
    schedule: Annotated[str, typer.Argument(help="The schedule: a CSV, iCalendar (.ics), FHIR JSON or HL7 v2 file, or - for stdin.")],
    date_: Annotated[Optional[str], typer.Option("--date", help="Only this day's appointments: YYYY-MM-DD, today or tomorrow (clinic's zone).")] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", help="pdf, html, text, markdown, json, ndjson or ics (default: from --out, else text).")] = None,
    out: Annotated[Optional[str], typer.Option("--out", "-o", help="One file for the whole list, or a folder (ending in /) for one file per patient.")] = None,
    input_format: Annotated[Optional[str], typer.Option("--input-format", help="csv, ics, fhir or hl7 (default: from the file name or its content).")] = None,
    duplex: Annotated[bool, typer.Option("--duplex", help="PDF: start every handout on an odd page; print on both sides.")] = False,
    print_: Annotated[bool, typer.Option("--print", help="Send the PDF to a printer through CUPS.")] = False,
    printer: Annotated[Optional[str], typer.Option("--printer", help="The CUPS printer (default: the system's default printer).")] = None,
    paper: PaperOpt = None,
    tz: TzOpt = None,
    today: TodayOpt = None,
    clinic_file: ClinicOpt = None,
    debug: DebugOpt = False,
):
    """Print handouts for a whole schedule, with a cover sheet of whom to phone first."""
    code = _run(debug, _batch, locals())
    if code:
        raise typer.Exit(code)


def _read_schedule_bytes(source: str) -> tuple[bytes, str | None]:
    if source == "-":
        return sys.stdin.buffer.read(), None
    path = Path(source)
    try:
        return path.read_bytes(), path.name
    except FileNotFoundError:
        raise InputError(f"{source}: the schedule file does not exist.") from None
    except OSError as e:
        raise InputError(f"{source}: the schedule file cannot be read ({e.strerror}).") from None


def _batch(o: dict) -> int:
    from mesocare.batch import build_batch, file_stem, summary
    from mesocare.parse import parse_date
    from mesocare.readers import read_schedule
    from mesocare.render import BINARY, render, render_batch

    out_arg: str | None = o["out"]
    folder = out_arg is not None and (out_arg.endswith(("/", os.sep)) or Path(out_arg).is_dir())
    out = Path(out_arg) if out_arg else None
    if o["print_"]:
        fmt = "pdf"
        if o["fmt"] and o["fmt"].lower() != "pdf":
            raise InputError("--print sends a PDF: leave out --format or use --format pdf.")
    elif folder:
        fmt = pick_format(o["fmt"], None, BATCH_FORMATS) if o["fmt"] else "pdf"
    else:
        fmt = pick_format(o["fmt"], out, BATCH_FORMATS)
        if fmt == "terminal":
            fmt = "text"
    if folder and fmt == "ndjson":
        raise InputError("--format ndjson makes one stream, not one file per patient: give --out FILE or no --out.")

    clinic, ruleset, today = load_context(o["clinic_file"], o["tz"], o["paper"], o["today"])
    day = parse_date(o["date_"], "--date", today=today) if o["date_"] else None
    data, filename = _read_schedule_bytes(o["schedule"])
    schedule = read_schedule(data, clinic, fmt=o["input_format"], filename=filename)
    batch_ = build_batch(schedule, ruleset, clinic, today, day)

    if folder:
        assert out is not None
        if not out.exists():
            try:
                out.mkdir(parents=True)
            except OSError as e:
                raise OutputError(f"{out}: the folder cannot be made ({e.strerror}).") from None
        ext = {"text": "txt", "markdown": "md"}.get(fmt, fmt)
        names = set()
        for handout, position in zip(batch_.handouts, batch_.positions):
            name = file_stem(handout, position)
            while name in names:
                name += "-2"
            names.add(name)
            atomic_write(out / f"{name}.{ext}", render(handout, fmt))
    else:
        if out is None and not o["print_"] and fmt in BINARY and sys.stdout.isatty():
            raise OutputError("a PDF is binary: give --out FILE.pdf, or pipe it to a file.")
        progress = _Progress(len(batch_.handouts))
        try:
            options = {"duplex": o["duplex"], "progress": progress} if fmt == "pdf" else {}
            data_out = render_batch(batch_, fmt, **options)
        finally:
            progress.stop()
        if o["print_"]:
            _print_batch(data_out, out, o["printer"], o["duplex"], day)
        else:
            write_output(data_out, out)
    for handout in batch_.handouts:
        for warning in handout.warnings:
            _err(f"mesocare: warning: {warning}")
    _err(summary(batch_))
    return int(ExitCode.SKIPPED_ROWS) if batch_.errors else 0


class _Progress:
    """A progress bar on stderr (rich), shown only when stderr is a terminal and the list is long."""

    def __init__(self, total: int):
        self.bar = None
        if total >= 50 and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("Typesetting", total=total)

    def __call__(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _print_batch(pdf: bytes, out: Path | None, printer: str | None, duplex: bool, day) -> None:
    import tempfile

    from mesocare.printing import print_pdf

    if out is not None:
        atomic_write(out, pdf)
        path = out
    else:
        fd, name = tempfile.mkstemp(prefix="mesocare-", suffix=".pdf")
        with os.fdopen(fd, "wb") as f:
            f.write(pdf)
        path = Path(name)
    title = f"mesocare {day.isoformat()}" if day else "mesocare"
    job = print_pdf(path, printer=printer, duplex=duplex, title=title)
    _err(f"Sent to the printer: request {job}.")
    if out is None:
        path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- clinic rules
# BEGIN clinic-rules section (init, rules check/list/show, plan)
def _pick_text_or_json(fmt: str | None) -> str:
    value = (fmt or "text").strip().lower()
    if value not in ("text", "json"):
        raise InputError(f"--format '{fmt}' is not known: use text or json.")
    return value


# ---- init


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="The clinic's folder (made if missing; default: this folder).")] = Path("."),
    name: Annotated[Optional[str], typer.Option("--name", help="The clinic's name, printed on handouts.")] = None,
    phone: Annotated[Optional[str], typer.Option("--phone", help="The clinic's phone number, printed on handouts.")] = None,
    tz: Annotated[Optional[str], typer.Option("--tz", help="The clinic's IANA time zone (default: this computer's).")] = None,
    debug: DebugOpt = False,
):
    """Start a clinic folder: a commented mesocare.yaml, and folders for its rules and templates.

    Never overwrites a file: one that is already there is left alone and named.
    """
    _run(debug, _init, folder, name, phone, tz)


def _init(folder: Path, name: str | None, phone: str | None, tz: str | None) -> None:
    from mesocare.config import CONFIG_NAME, machine_zone
    from mesocare.dates import zone
    from mesocare.parse import parse_zone
    from mesocare.scaffold import scaffold

    zone_name = parse_zone(tz, "--tz") if tz else machine_zone()
    today = datetime.now(zone(zone_name)).date()
    result = scaffold(
        folder,
        today,
        name=name.strip() if name and name.strip() else None,
        phone=phone.strip() if phone and phone.strip() else None,
        timezone=zone_name,
    )
    for path in result.created:
        typer.echo(f"created  {path}{os.sep if path.is_dir() else ''}")
    for path in result.skipped:
        typer.echo(f"skipped  {path} (already there, left as it was)")
    config = folder / CONFIG_NAME
    typer.echo("")
    typer.echo(f"Next: edit {config}, add rules in {folder / 'rules'}, then run:")
    typer.echo(f"  mesocare rules check --clinic {config}")


# ---- rules


rules_app = typer.Typer(
    help="The rules in force: check them, list them, show one, print the rule-file schema.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(rules_app, name="rules")


@rules_app.command("check")
def rules_check(
    folder: Annotated[
        Optional[Path],
        typer.Argument(help="The clinic's rule folder, or a clinic folder with its mesocare.yaml (default: the config's rules_dir)."),
    ] = None,
    clinic_file: ClinicOpt = None,
    tz: TzOpt = None,
    today: TodayOpt = None,
    fmt: FormatOpt = None,
    debug: DebugOpt = False,
):
    """Check our rules and the clinic's together; report every problem at once.

    Errors (exit 1): schema errors, duplicate ids, references to missing rules, windows that
    contradict each other, unknown areas or techniques, a missing source, text above reading
    grade 8. Warnings (printed, exit 0): reviews missing or older than 24 months.
    """
    code = _run(debug, _rules_check, folder, clinic_file, tz, today, fmt)
    raise typer.Exit(code)


def _rules_check(folder: Path | None, clinic_file: str | None, tz: str | None, today_opt: str | None, fmt: str | None) -> int:
    import json

    from mesocare.checks import check_rules, summary
    from mesocare.config import CONFIG_NAME
    from mesocare.resources import instructions_dir
    from mesocare.rules import collect

    fmt = _pick_text_or_json(fmt)
    if folder is not None and folder.is_dir() and (folder / CONFIG_NAME).is_file() and clinic_file is None:
        # a clinic folder made by init: use its config and its rules_dir
        clinic = load_clinic_only(str(folder / CONFIG_NAME), tz)
        clinic_rules = Path(clinic.rules_dir) if clinic.rules_dir else None
    else:
        clinic = load_clinic_only(clinic_file, tz)
        clinic_rules = folder if folder is not None else (Path(clinic.rules_dir) if clinic.rules_dir else None)
    today = today_in(clinic, today_opt)
    folders = [(instructions_dir(), "mesocare")]
    if clinic_rules is not None:
        folders.append((clinic_rules, "clinic"))
    findings = check_rules(folders, today)
    errors, warnings = summary(findings)
    ruleset, _ = collect(folders) if not errors else (None, [])
    if fmt == "json":
        payload = {
            "ok": errors == 0,
            "errors": errors,
            "warnings": warnings,
            "folders": [str(f) for f, _ in folders],
            "rules_version": ruleset.version if ruleset else None,
            "findings": [f.as_dict() for f in findings],
        }
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return 1 if errors else 0
    for finding in findings:
        typer.echo(str(finding))
    checked = " and ".join(str(f) for f, _ in folders)
    if errors:
        typer.echo(f"{_count(errors, 'error')}, {_count(warnings, 'warning')} in {checked}.")
        return 1
    assert ruleset is not None
    reviewed = ruleset.reviewed_on.isoformat() if ruleset.reviewed_on else "never"
    clinic_ids = ruleset.clinic_rules
    typer.echo(
        f"OK: {_count(len(ruleset.rules), 'rule')} and {_count(len(ruleset.notes), 'note')} in force"
        f" ({len(clinic_ids)} of the clinic's), {_count(warnings, 'warning')}."
    )
    typer.echo(f"Rule set {ruleset.version[:12]}, last reviewed {reviewed}.")
    return 0


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _areas_words(rule) -> str:
    parts = [", ".join(rule.areas) if rule.areas is not None else "all"]
    if rule.exclude_areas:
        parts.append("not " + ", ".join(rule.exclude_areas))
    if rule.techniques is not None:
        parts.append(", ".join(rule.techniques))
    if rule.prescription:
        parts.append(f"if prescribed {rule.prescription}")
    return "; ".join(parts)


def _rule_dict(rule) -> dict:
    return {
        "id": rule.id,
        "kind": "rule",
        "name": rule.name,
        "phase": rule.phase,
        "window": rule.window.as_dict(),
        "window_words": rule.window.describe(),
        "areas": list(rule.areas) if rule.areas is not None else None,
        "exclude_areas": list(rule.exclude_areas),
        "techniques": list(rule.techniques) if rule.techniques is not None else None,
        "prescription": rule.prescription,
        "text": rule.text,
        "text_us": rule.text_us,
        "reason": rule.reason,
        "source": rule.source,
        "basis": rule.basis,
        "reviewed_on": rule.reviewed_on.isoformat() if rule.reviewed_on else None,
        "reviewed_by": rule.reviewed_by,
        "origin": rule.origin,
        "file": rule.file,
        "line": rule.line,
    }


def _note_dict(note) -> dict:
    return {
        "id": note.id,
        "kind": "note",
        "section": note.section,
        "areas": list(note.areas) if note.areas is not None else None,
        "text": note.text,
        "text_us": note.text_us,
        "source": note.source,
        "reviewed_on": note.reviewed_on.isoformat() if note.reviewed_on else None,
        "reviewed_by": note.reviewed_by,
        "origin": note.origin,
        "file": note.file,
        "line": note.line,
    }


@rules_app.command("list")
def rules_list(
    clinic_file: ClinicOpt = None,
    fmt: FormatOpt = None,
    debug: DebugOpt = False,
):
    """List the rules and notes in force (ours, with the clinic's laid over them)."""
    _run(debug, _rules_list, clinic_file, fmt)


def _rules_list(clinic_file: str | None, fmt: str | None) -> None:
    import json

    fmt = _pick_text_or_json(fmt)
    _clinic, ruleset, _today = load_context(clinic_file, None)
    if fmt == "json":
        payload = {
            "rules_version": ruleset.version,
            "reviewed_on": ruleset.reviewed_on.isoformat() if ruleset.reviewed_on else None,
            "disabled": list(ruleset.disabled),
            "rules": [_rule_dict(r) for r in ruleset.rules],
            "notes": [_note_dict(n) for n in ruleset.notes],
        }
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    # piped or saved: wide enough for one line per rule (rich would assume 80 columns)
    wide = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
    console = Console(highlight=False, width=wide)
    keep = {"no_wrap": True}
    rules = Table(title="Rules", title_justify="left", caption="from: ours, or the clinic's own rule", caption_justify="left")
    for column, opts in (
        ("id", keep), ("phase", keep), ("window", {"min_width": 14}), ("areas", {"min_width": 8}), ("basis", {"min_width": 12}),
        ("source", {"overflow": "fold"}), ("reviewed", keep), ("from", keep),
    ):
        rules.add_column(column, **opts)
    phase_order = {"before": 0, "day": 1, "after": 2}
    for r in sorted(ruleset.rules, key=lambda r: phase_order.get(r.phase, 3)):
        rules.add_row(
            r.id, r.phase, r.window.describe(), _areas_words(r), r.basis, r.source,
            r.reviewed_on.isoformat() if r.reviewed_on else "-", "clinic" if r.origin == "clinic" else "ours",
        )
    console.print(rules)
    notes = Table(title="Notes", title_justify="left")
    for column, opts in (("id", keep), ("section", keep), ("areas", {}), ("source", {"overflow": "fold"}), ("reviewed", keep), ("from", keep)):
        notes.add_column(column, **opts)
    for n in ruleset.notes:
        notes.add_row(
            n.id, n.section, ", ".join(n.areas) if n.areas is not None else "all", n.source,
            n.reviewed_on.isoformat() if n.reviewed_on else "-", "clinic" if n.origin == "clinic" else "ours",
        )
    console.print(notes)
    reviewed = ruleset.reviewed_on.isoformat() if ruleset.reviewed_on else "never"
    disabled = f"; disabled: {', '.join(ruleset.disabled)}" if ruleset.disabled else ""
    console.print(f"Rule set {ruleset.version[:12]}, last reviewed {reviewed}{disabled}.")


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[str, typer.Argument(metavar="ID", help="A rule or note id, e.g. showers.")],
    clinic_file: ClinicOpt = None,
    fmt: FormatOpt = None,
    debug: DebugOpt = False,
):
    """Show one rule (or note) in full: window, areas, text, source, review, and where it is."""
    _run(debug, _rules_show, rule_id, clinic_file, fmt)


def _rules_show(rule_id: str, clinic_file: str | None, fmt: str | None) -> None:
    import difflib
    import json

    fmt = _pick_text_or_json(fmt)
    _clinic, ruleset, _today = load_context(clinic_file, None)
    wanted = rule_id.strip().lower()
    rule = ruleset.rule(wanted)
    note = next((n for n in ruleset.notes if n.id == wanted), None)
    if rule is None and note is None:
        ids = [r.id for r in ruleset.rules] + [n.id for n in ruleset.notes]
        close = difflib.get_close_matches(wanted, ids, n=3)
        hint = f" Did you mean {' or '.join(close)}?" if close else " See them all with: mesocare rules list"
        gone = " It is disabled by the clinic's rules." if wanted in ruleset.disabled else ""
        raise InputError(f"no rule or note has the id '{rule_id}'.{gone}{hint}")
    data = _rule_dict(rule) if rule is not None else _note_dict(note)
    if fmt == "json":
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    labels = {
        "window": None, "window_words": "window", "exclude_areas": "not for areas",
        "text_us": "text (US units)", "reviewed_on": "reviewed on", "reviewed_by": "reviewed by",
        "origin": "from",
    }
    for key, value in data.items():
        if key in ("window", "kind", "file", "line"):
            continue
        if value is None or value == []:
            if key in ("areas", "techniques"):
                value = "all"
            elif key in ("reviewed_on", "reviewed_by"):
                value = "-"
            else:
                continue
        if isinstance(value, list):
            value = ", ".join(value)
        typer.echo(f"{labels.get(key) or key}: {value}")
    typer.echo(f"file: {data['file']}, line {data['line']}")


@rules_app.command("schema")
def rules_schema():
    """Print the JSON Schema of rule files (for editors that check YAML as you type)."""
    import json

    from mesocare.rulefile import rule_file_json_schema

    typer.echo(json.dumps(rule_file_json_schema(), indent=2, ensure_ascii=False))


# ---- plan


@app.command()
def plan(
    date_: Annotated[str, typer.Option("--date", help="The first session: YYYY-MM-DD, today or tomorrow (in the clinic's zone).")],
    sessions: Annotated[str, typer.Option("--sessions", help="Number of sessions in the course.")],
    every: Annotated[Optional[str], typer.Option("--every", help="Time between sessions: 14d, 4w or 1m (calendar months).")] = None,
    clinic_file: ClinicOpt = None,
    tz: TzOpt = None,
    today: TodayOpt = None,
    fmt: FormatOpt = None,
    debug: DebugOpt = False,
):
    """List a course's session dates, moved off the clinic's closed weekdays and public holidays.

    Each session is counted from the first (31 January + 1 month is the end of February);
    one that falls on a closed day moves to the next open day. The first session never moves.
    """
    _run(debug, _plan, date_, sessions, every, clinic_file, tz, today, fmt)


def _plan(date_: str, sessions_opt: str, every_opt: str | None, clinic_file, tz, today_opt, fmt) -> None:
    import json

    from mesocare import words
    from mesocare.parse import parse_date, parse_every, parse_sessions
    from mesocare.schedule import closed_days_checker, make_course, session_dates

    fmt = _pick_text_or_json(fmt)
    clinic = load_clinic_only(clinic_file, tz)
    today = today_in(clinic, today_opt)
    first = parse_date(date_, "--date", today=today)
    count = parse_sessions(sessions_opt, "--sessions")
    every = parse_every(every_opt, "--every") if every_opt else None
    course = make_course(first, sessions=count, every=every, clinic=clinic)
    planned = session_dates(first, count, every, None) if every else (first,)
    closed = closed_days_checker(clinic)
    rows = []
    for number, (day, wanted) in enumerate(zip(course.sessions, planned), start=1):
        moved = day != wanted
        rows.append(
            {
                "session": number,
                "date": day.isoformat(),
                "moved_from": wanted.isoformat() if moved else None,
                "reason": _closed_reason(wanted, clinic) if moved and closed(wanted) else ("after the previous session" if moved else None),
            }
        )
    first_closed = _closed_reason(first, clinic) if closed(first) else None
    warnings = []
    if first_closed:
        warnings.append(
            f"the first session, {first.isoformat()}, is on a closed day ({first_closed}); it is the booked appointment and does not move."
        )
    if fmt == "json":
        typer.echo(
            json.dumps(
                {
                    "timezone": clinic.timezone,
                    "every": every_opt.strip() if every_opt else None,
                    "sessions": rows,
                    "end": course.end.isoformat() if course.end else None,
                    "warnings": warnings,
                },
                indent=2,
            )
        )
    else:
        closed_words = _closed_words(clinic)
        unit = {"d": "day", "w": "week", "m": "month"}[every[1]] if every else ""
        typer.echo(f"{_count(count, 'session')}" + (f", every {_count(every[0], unit)}" if every else "") + f"; {closed_words}.")
        for row in rows:
            line = f"{row['session']:>3}  {words.day(date.fromisoformat(row['date']))}"
            if row["moved_from"]:
                line += f"  (moved from {words.day(date.fromisoformat(row['moved_from']))}: {row['reason']})"
            typer.echo(line)
        if course.end:
            typer.echo(f"The course ends on {words.day(course.end)}.")
    for warning in warnings:
        _err(f"mesocare: warning: {warning}")


_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _closed_reason(day: date, clinic) -> str:
    if day.weekday() in clinic.closed_weekdays:
        return f"closed on {_WEEKDAY_NAMES[day.weekday()]}s"
    if clinic.holidays_country:
        import holidays

        name = holidays.country_holidays(clinic.holidays_country, subdiv=clinic.holidays_subdiv).get(day)
        if name:
            return f"public holiday: {name}"
    return "closed"


def _closed_words(clinic) -> str:
    parts = []
    if clinic.closed_weekdays:
        parts.append("closed on " + ", ".join(f"{_WEEKDAY_NAMES[d]}s" for d in sorted(clinic.closed_weekdays)))
    if clinic.holidays_country:
        region = f"-{clinic.holidays_subdiv}" if clinic.holidays_subdiv else ""
        parts.append(f"public holidays of {clinic.holidays_country}{region}")
    return " and ".join(parts) if parts else "no closed days set"


# END clinic-rules section


def main() -> None:
    """Entry point (``mesocare`` and ``python -m mesocare``).

    Leaves with ``os._exit`` once output is flushed: every file was already written and
    synced whole (``atomic_write``), and tearing the interpreter down costs a scripted run
    about a tenth of its time.
    """
    try:
        app()
        code = 0
    except BrokenPipeError:  # the reader went away (mesocare ... | head): stop quietly
        os._exit(1)
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            code = e.code or 0
        else:
            sys.stderr.write(f"{e.code}\n")
            code = 1
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        code = code or 1
    try:
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
