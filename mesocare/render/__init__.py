"""One renderer per output format, behind two functions.

Each format is a module in this package with ``render(handout, **options)`` and, for the
formats a batch can use, ``render_batch(batch, **options)``; both return ``str`` (text
formats) or ``bytes`` (pdf). Adding a format is adding one module and one line here.
Heavy libraries (rich, jinja2, typst, icalendar) are imported only inside those modules.
"""

from __future__ import annotations

from importlib import import_module

from mesocare.errors import InputError
from mesocare.model import Batch, Handout

# format name -> module name
FORMATS: dict[str, str] = {
    "terminal": "terminal",
    "text": "text",
    "markdown": "markdown",
    "html": "html",
    "json": "json_",
    "pdf": "pdf",
    "ics": "ics",
    "fhir": "fhir",
    "hl7": "hl7",
}
BATCH_FORMATS: dict[str, str] = {
    "pdf": "pdf",
    "html": "html",
    "text": "text",
    "markdown": "markdown",
    "json": "json_",
    "ndjson": "json_",
    "ics": "ics",
    "fhir": "fhir",
    "hl7": "hl7",
}
EXTENSIONS: dict[str, str] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".pdf": "pdf",
    ".ics": "ics",
    ".hl7": "hl7",
}
BINARY = {"pdf"}


def format_for_extension(suffix: str) -> str | None:
    return EXTENSIONS.get(suffix.lower())


def render(handout: Handout, fmt: str, **options) -> str | bytes:
    if fmt not in FORMATS:
        raise InputError(f"format '{fmt}' is not known: use one of {', '.join(FORMATS)}.")
    return import_module(f"mesocare.render.{FORMATS[fmt]}").render(handout, **options)


def render_batch(batch: Batch, fmt: str, **options) -> str | bytes:
    if fmt not in BATCH_FORMATS:
        raise InputError(
            f"format '{fmt}' cannot hold a batch: use one of {', '.join(BATCH_FORMATS)}."
        )
    module = import_module(f"mesocare.render.{BATCH_FORMATS[fmt]}")
    if fmt == "ndjson":
        options["ndjson"] = True
    return module.render_batch(batch, **options)
