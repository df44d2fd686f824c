"""`mesocare batch`: handouts for a whole schedule, with a cover sheet of whom to phone first."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, BinaryIO, Optional

import typer

from mesocare.cli.context import Context
from mesocare.cli.options import ClinicOpt, DateOpt, DebugOpt, LangOpt, FormatOpt, OutOpt, PaperOpt, TodayOpt, TzOpt, pick_format
from mesocare.errors import ExitCode, InputError, OutputError

FORMATS = ("pdf", "html", "text", "markdown", "json", "ndjson", "ics")
WITH_COVER = ("pdf", "html", "text", "markdown")  # one file for the list, a cover sheet first


@dataclass(frozen=True)
class BatchOptions:
    schedule: str
    date: str | None
    fmt: str | None
    out: str | None
    input_format: str | None
    duplex: bool
    print_: bool
    printer: str | None

    @property
    def folder(self) -> bool:
        return self.out is not None and (self.out.endswith(("/", os.sep)) or Path(self.out).is_dir())


def batch(
    ctx: typer.Context,
    schedule: Annotated[str, typer.Argument(help="The schedule: a CSV, iCalendar (.ics), FHIR JSON or HL7 v2 file, or - for stdin.")],
    date_: DateOpt = None,
    fmt: FormatOpt = None,
    out: OutOpt = None,
    input_format: Annotated[Optional[str], typer.Option("--input-format", help="csv, ics, fhir or hl7 (default: from the file name or its content).")] = None,
    duplex: Annotated[bool, typer.Option("--duplex", help="PDF: start every handout on an odd page; print on both sides.")] = False,
    print_: Annotated[bool, typer.Option("--print", help="Send the PDF to a printer through CUPS (nothing is printed when no handout is due).")] = False,
    printer: Annotated[Optional[str], typer.Option("--printer", help="The CUPS printer (default: the system's default printer).")] = None,
    _paper: PaperOpt = None,
    _tz: TzOpt = None,
    _today: TodayOpt = None,
    _clinic: ClinicOpt = None,
    _debug: DebugOpt = False,
    _lang: LangOpt = None,
):
    """Print handouts for a whole schedule, with a cover sheet of whom to phone first.

    Formats: pdf, html, text, markdown, json, ndjson or ics (default: from --out, else text;
    pdf for a folder).
    """
    code = run(ctx.obj, BatchOptions(schedule, date_, fmt, out, input_format, duplex, print_, printer))
    raise typer.Exit(int(code))


def choose_format(o: BatchOptions, is_tty: bool) -> str:
    if o.print_:
        if o.fmt and o.fmt.strip().lower() != "pdf":
            raise InputError("--print sends a PDF: leave out --format or use --format pdf.")
        return "pdf"
    if o.folder:
        fmt = pick_format(o.fmt, None, FORMATS, is_tty) if o.fmt else "pdf"
        if fmt == "ndjson":
            raise InputError("--format ndjson makes one stream, not one file per patient: give --out FILE or no --out.")
        return fmt
    fmt = pick_format(o.fmt, o.out, FORMATS, is_tty)
    return "text" if fmt == "terminal" else fmt


def read_schedule_bytes(source: str) -> tuple[BinaryIO, str | None]:
    """The schedule as a binary stream (never read whole here: a CSV is read row by row, the
    other formats up to their limit, so /dev/zero or an endless pipe is one sentence)."""
    if source == "-":
        return sys.stdin.buffer, None
    path = Path(source)
    try:
        return path.open("rb"), path.name
    except FileNotFoundError:
        raise InputError(f"{source}: the schedule file does not exist.") from None
    except OSError as e:
        raise InputError(f"{source}: the schedule file cannot be read ({e.strerror}).") from None


def run(context: Context, o: BatchOptions) -> ExitCode:
    from mesocare import output
    from mesocare.batch import build_batch, summary
    from mesocare.parse import parse_date
    from mesocare.readers import read_schedule
    from mesocare.render import BINARY, render, render_batch

    fmt = choose_format(o, context.is_tty)
    clinic, today = context.clinic(), context.today()
    ruleset = context.ruleset()
    day = parse_date(o.date, "--date", today=today) if o.date else None
    data, filename = read_schedule_bytes(o.schedule)
    with data if filename else open(os.devnull, "rb"):  # close the file read, never stdin
        schedule = read_schedule(data, clinic, fmt=o.input_format, filename=filename)
    batch_ = build_batch(schedule, ruleset, clinic, today, day)

    if o.folder:
        folder = output.open_folder(Path(o.out))
        stems = [output.handout_stem(h, p) for h, p in zip(batch_.handouts, batch_.positions)]
        for handout, name in zip(batch_.handouts, output.unique_names(stems, fmt)):
            output.write_in_folder(folder, name, render(handout, fmt))
    elif o.print_ and not batch_.handouts:
        context.err("No handouts to print: nothing was sent to the printer.")
    else:
        if o.out in (None, "-") and not o.print_ and fmt in BINARY and context.is_tty:
            raise OutputError("a PDF is binary: give --out FILE.pdf, or pipe it to a file.")
        from mesocare.cli.progress import Progress

        progress = Progress(len(batch_.handouts), context.stderr_is_tty)
        try:
            options = {"duplex": o.duplex, "progress": progress} if fmt == "pdf" else {}
            data_out = render_batch(batch_, fmt, **options)
        finally:
            progress.stop()
        if o.print_:
            send_to_printer(context, data_out, o, day)
        elif o.out in (None, "-"):
            output.write(data_out, "-", context.stdout_bytes())
        else:
            output.write(data_out, o.out)
    if batch_.handouts:
        context.warn_if_no_phone(clinic)
    for handout in batch_.handouts:
        for warning in handout.warnings:
            context.warn(warning)
    context.err(summary(batch_, cover=not o.folder and fmt in WITH_COVER))
    return ExitCode.SKIPPED_ROWS if batch_.errors else ExitCode.OK


def send_to_printer(context: Context, pdf: bytes, o: BatchOptions, day) -> None:
    import tempfile

    from mesocare import output
    from mesocare.printing import print_pdf

    if o.out not in (None, "-"):
        output.write(pdf, o.out)
        path = Path(o.out)
    else:
        fd, name = tempfile.mkstemp(prefix="mesocare-", suffix=".pdf")
        with os.fdopen(fd, "wb") as f:
            f.write(pdf)
        path = Path(name)
    title = f"mesocare {day.isoformat()}" if day else "mesocare"
    job = print_pdf(path, printer=o.printer, duplex=o.duplex, title=title)  # on failure the PDF is kept
    context.err(f"Sent to the printer: request {job}.")
    if o.out in (None, "-"):
        path.unlink(missing_ok=True)
