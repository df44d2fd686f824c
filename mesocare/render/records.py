"""What a handout files in the clinic's record: its PDF and plain text, rendered as ``prep``
renders them, and the instant the record says it was made (``render.source_date.stamp``: the
same rule as the PDF's own date, so a record made twice on a day is the same record)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mesocare.errors import InputError
from mesocare.model import Handout


@dataclass(frozen=True)
class Parts:
    pdf: bytes
    text: str
    made: datetime


def parts(h: Handout) -> Parts:
    from mesocare.ehr.ids import missing_ids
    from mesocare.render import pdf as pdf_renderer
    from mesocare.render import text as text_renderer
    from mesocare.render.source_date import stamp

    lacking = missing_ids(h.patient_id, h.appointment_id)
    if lacking is not None:
        field, _ = lacking
        flag = "--" + field.replace("_", "-")
        raise InputError(
            f"{flag} is needed: a record for the clinic's system says whose chart and which visit."
        )
    return Parts(pdf_renderer.render(h), text_renderer.render(h), stamp(h.today))


def fhir_json(h: Handout, indent: int | None = 2) -> str:
    import json

    from mesocare.ehr.fhir_bundle import bundle

    p = parts(h)
    separators = None if indent else (",", ":")
    data = bundle(h, p.pdf, p.text, p.made)
    return json.dumps(data, ensure_ascii=False, indent=indent, separators=separators)


def hl7_message(h: Handout, settings=None) -> str:
    from mesocare.ehr.hl7_mdm import Hl7Settings, message

    p = parts(h)
    return message(h, p.pdf, p.text, p.made, settings or Hl7Settings())


def stream(handouts, fmt: str):
    """A batch's records as they are made: ndjson (one Bundle a line) or HL7 messages."""
    for h in handouts:
        yield fhir_json(h, indent=None) + "\n" if fmt == "fhir" else hl7_message(h)
