"""`mesocare batch`: handouts for a whole schedule, with a cover sheet of whom to phone first."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, BinaryIO

import typer

from mesocare.cli.context import Context
from mesocare.cli.options import (
    ClinicOpt,
    DateOpt,
    DebugOpt,
    FormatOpt,
    InputFormatOpt,
    LangOpt,
    LargePrintOpt,
    OutOpt,
    PaperOpt,
    ScheduleArg,
    TodayOpt,
    TzOpt,
    pick_format,
)
from mesocare.errors import ExitCode, FolderError, InputError, OutputError

FORMATS = ("pdf", "html", "text", "markdown", "json", "ndjson", "ics", "fhir", "hl7")
WITH_COVER = ("pdf", "html", "text", "markdown")  # one file for the list, a cover sheet first
STREAMED = ("json", "ndjson", "fhir", "hl7")  # written handout by handout, as they are made
RECORDS = (
    "fhir",
    "hl7",
)  # records for the clinic's system: rows without patient and appointment ids are skipped


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
    order: str = "time"

    @property
    def folder(self) -> bool:
        return self.out is not None and (
            self.out.endswith(("/", os.sep)) or Path(self.out).is_dir()
        )


def batch(
    ctx: typer.Context,
    schedule: ScheduleArg,
    date_: DateOpt = None,
    fmt: FormatOpt = None,
    out: OutOpt = None,
    input_format: InputFormatOpt = None,
    duplex: Annotated[
        bool,
        typer.Option(
            "--duplex", help="PDF: start every handout on an odd page; print on both sides."
        ),
    ] = False,
    print_: Annotated[
        bool,
        typer.Option(
            "--print",
            help=(
                "Send the PDF to a printer through CUPS (nothing is printed when no handout "
                "is due)."
            ),
        ),
    ] = False,
    printer: Annotated[
        str | None,
        typer.Option("--printer", help="The CUPS printer (default: the system's default printer)."),
    ] = None,
    order: Annotated[
        str,
        typer.Option(
            "--order",
            help=(
                "time (default: sorted by start, once the whole schedule is read) or input "
                "(ndjson, json and --out DIR/: in the schedule's order, "
                "each handout as soon as its row is read)."
            ),
        ),
    ] = "time",
    _paper: PaperOpt = None,
    _large_print: LargePrintOpt = False,
    _tz: TzOpt = None,
    _today: TodayOpt = None,
    _clinic: ClinicOpt = None,
    _debug: DebugOpt = False,
    _lang: LangOpt = None,
):
    """Print handouts for a whole schedule, with a cover sheet of whom to phone first.

    Formats: pdf, html, text, markdown, json, ndjson, ics, fhir (one FHIR R4 transaction
    Bundle per appointment, a line each) or hl7 (one HL7 v2 MDM^T02 message per appointment)
    (default: from --out, else text; pdf for a folder).
    """
    code = run(
        ctx.obj,
        BatchOptions(schedule, date_, fmt, out, input_format, duplex, print_, printer, order),
    )
    raise typer.Exit(int(code))


def choose_format(o: BatchOptions, is_tty: bool) -> str:
    if o.print_:
        if o.fmt and o.fmt.strip().lower() != "pdf":
            raise InputError("--print sends a PDF: leave out --format or use --format pdf.")
        return "pdf"
    if o.folder:
        fmt = pick_format(o.fmt, None, FORMATS, is_tty) if o.fmt else "pdf"
        if fmt == "ndjson":
            raise InputError(
                "--format ndjson makes one stream, not one file per patient: "
                "give --out FILE or no --out."
            )
        return fmt
    fmt = pick_format(o.fmt, o.out, FORMATS, is_tty)
    return "text" if fmt == "terminal" else fmt


def in_order(o: BatchOptions, fmt: str) -> bool:
    """``--order input``: handouts in the schedule's order, as its rows are read (the streamed
    outputs only: a cover sheet and a printed list are laid out in time order)."""
    order = (o.order or "").strip().lower()
    if order not in ("time", "input"):
        raise InputError(f"--order '{o.order}' is not an order: use time (the default) or input.")
    if order == "input" and not (o.folder or fmt in STREAMED):
        raise InputError(
            "--order input is for --format ndjson or json, or --out DIR/: "
            "a list with a cover sheet is in time order."
        )
    return order == "input"


@contextmanager
def open_schedule(source: str) -> Iterator[tuple[BinaryIO, str | None]]:
    """The schedule as an open binary file (stdin for ``-``) and its name, read as a stream."""
    if source == "-":
        yield sys.stdin.buffer, None
        return
    path = Path(source)
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed by `with f` below)
    except FileNotFoundError:
        raise InputError(f"{source}: the schedule file does not exist.") from None
    except IsADirectoryError:
        raise InputError(f"{source}: is a folder, not a schedule file.") from None
    except OSError as e:
        raise InputError(f"{source}: the schedule file cannot be read ({e.strerror}).") from None
    with f:
        yield f, path.name


def run(context: Context, o: BatchOptions) -> ExitCode:
    from mesocare.batch import BatchPlan
    from mesocare.parse import parse_date
    from mesocare.readers import stream_schedule

    fmt = choose_format(o, context.is_tty)
    if fmt == "pdf":
        from mesocare.workers import wanted

        wanted()  # a bad MESOCARE_PDF_WORKERS stops the run before anything is read
    clinic, today = context.clinic(), context.today()
    ruleset = context.ruleset()
    day = parse_date(o.date, "--date", today=today) if o.date else None
    streaming = in_order(o, fmt)
    # the whole schedule is read, row by row, and held light before the first handout is made
    # (with --order input: as the handouts are made, the file open until the last)
    with open_schedule(o.schedule) as (source, filename):
        schedule = stream_schedule(source, clinic, fmt=o.input_format, filename=filename)
        plan = BatchPlan(
            schedule,
            ruleset,
            clinic,
            today,
            day,
            lambda: schedule.has_booking_dates,
            in_order=streaming,
            require=_ids_required if fmt in RECORDS else None,
        )
        if streaming:
            return _written(context, o, fmt, plan)
    return _written(context, o, fmt, plan)


def _written(context: Context, o: BatchOptions, fmt: str, plan) -> ExitCode:
    """Write the plan's handouts as asked, then the summary on stderr."""
    from mesocare import output
    from mesocare.batch import summary
    from mesocare.render import render_batch

    day = plan.day
    with plan:
        handouts = _warned(context, plan)
        if o.out is not None and o.folder:
            write_folder(Path(o.out), fmt, plan, handouts)
        elif fmt in RECORDS:
            from mesocare.render.records import stream

            output.write(
                stream((h for h, _ in handouts), fmt),
                "-" if o.out is None else o.out,
                context.stdout_bytes(),
            )
        elif fmt in STREAMED:
            from mesocare.render.json_ import stream_batch

            text = stream_batch((h for h, _ in handouts), ndjson=fmt == "ndjson")
            output.write(text, "-" if o.out is None else o.out, context.stdout_bytes())
        elif fmt == "pdf":
            write_pdf(context, o, plan, handouts, day)
        else:
            batch_ = plan.batch(handouts)
            output.write(
                render_batch(batch_, fmt), "-" if o.out is None else o.out, context.stdout_bytes()
            )
        context.err(summary(plan, cover=not o.folder and fmt in WITH_COVER))
        return ExitCode.SKIPPED_ROWS if plan.errors else ExitCode.OK


def write_folder(out: Path, fmt: str, plan, handouts) -> None:
    """One file per handout in the folder ``out`` (--out DIR/).

    Nothing is made before the first handout is rendered: a broken template (or anything else
    that stops the run at once) leaves no new folder. After that, a handout that cannot be
    rendered or written (a folder where its file must go, no permission, a name too long) is
    named in the summary by its row, the others are written, and the batch exits 3.
    """
    from mesocare import output
    from mesocare.errors import TemplateError
    from mesocare.render import render

    folder: Path | None = None
    written = False
    name = output.UniqueNames(fmt)
    for handout, position in handouts:
        try:
            data = render(handout, fmt)
        except TemplateError as e:
            if folder is None:  # the first handout: nothing was written, nothing is made
                raise
            plan.unwritten(position, f"the handout could not be made: {e}")
            continue
        if folder is None:
            folder = output.open_folder(out)
        try:
            output.write_in_folder(folder, name(output.handout_stem(handout, position)), data)
            written = True
        except OutputError as e:
            if isinstance(e, FolderError) and not written:  # the folder takes no file at all
                raise
            plan.unwritten(position, f"not written: {e}")


def _ids_required(request):
    from mesocare.ehr.ids import missing_ids

    return missing_ids(request.patient_id, request.appointment_id)


def write_pdf(context: Context, o: BatchOptions, plan, handouts, day) -> None:
    """The batch as one PDF, typeset piece by piece in a temporary folder, then written out
    (or printed)."""
    from mesocare import output, scratch
    from mesocare.cli.progress import Progress
    from mesocare.render.pdf import batch_pdf

    if o.out in (None, "-") and not o.print_ and context.is_tty:
        raise OutputError("a PDF is binary: give --out FILE.pdf, or pipe it to a file.")
    if o.print_ and not plan.rows:
        context.err("No handouts to print: nothing was sent to the printer.")
        return
    with scratch.folder("pdf") as folder:  # cleared by the next run if this one is killed
        progress = Progress(plan.rows, context.stderr_is_tty)
        try:
            path = batch_pdf(
                (h for h, _ in handouts),
                plan.cover,
                folder,
                duplex=o.duplex,
                progress=progress,
                total=plan.rows,
                dated=len(plan.days) > 1,
            )
        finally:
            progress.stop()
        if o.print_:
            send_to_printer(context, path, o, day)
        else:
            output.write(
                output.file_pieces(path), "-" if o.out is None else o.out, context.stdout_bytes()
            )


def _warned(context: Context, handouts):
    """The handouts, printing each one's warnings (and, at the first, the missing phone) on
    stderr."""
    for handout, position in handouts:
        context.warn_if_no_phone(handout.clinic)
        for warning in handout.warnings:
            context.warn(warning)
        yield handout, position


def send_to_printer(context: Context, pdf: Path, o: BatchOptions, day) -> None:
    """Queue the typeset PDF: the --out file when given (kept), else the run's temporary file
    itself (lp hands CUPS a copy; the temporary folder goes with the run)."""
    from mesocare import output
    from mesocare.printing import print_pdf

    path = pdf
    if o.out not in (None, "-"):
        output.write(output.file_pieces(pdf), o.out)
        path = Path(o.out)
    title = f"mesocare {day.isoformat()}" if day else "mesocare"
    job = print_pdf(path, printer=o.printer, duplex=o.duplex, title=title, kept=path != pdf)
    context.err(f"Sent to the printer: request {job}.")
