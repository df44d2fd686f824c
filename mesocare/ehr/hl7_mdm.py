"""A handout as an HL7 v2.5 MDM^T02 message: the document's notification and its content.

MSH, EVN, PID, PV1, TXA and two OBX: the PDF base64 in an encapsulated-data (ED) OBX, and the
plain text, one repetition a line, in a TX OBX. The document number (TXA-12) is the same for
the same appointment and rule-set version (``ids.document_number``); the patient (PID-3) and
the appointment (PV1-19) are the schedule's own ids (PID-3 and SCH-2/SCH-1 when it was HL7).
Every value is escaped by the message's encoding characters (``|^~\\&``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from mesocare.ehr import ids
from mesocare.model import Handout

VERSION = "2.5"
SEGMENT_END = "\r"
_ESCAPES = {"\\": "\\E\\", "|": "\\F\\", "^": "\\S\\", "&": "\\T\\", "~": "\\R\\"}
_SPECIAL = re.compile(r"[\\|^&~]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
CHARSET = "UNICODE UTF-8"  # MSH-18 (table 0211): names and texts are not ASCII
DOCUMENT_TYPE = "PI"  # TXA-2, user-defined table 0270: a local value, "patient instructions"


@dataclass(frozen=True)
class Hl7Settings:
    """Who sends and who receives (MSH-3 to MSH-6), from the clinic config's ``ehr.mllp``."""

    sending_application: str = "MESOCARE"
    sending_facility: str = "MESOCARE"
    receiving_application: str = ""
    receiving_facility: str = ""


def escape(value: str | None) -> str:
    """One value made safe for a field: the encoding characters escaped, line breaks and other
    control characters (which would end a segment) turned into a space."""
    if not value:
        return ""
    return _SPECIAL.sub(lambda m: _ESCAPES[m.group()], _CONTROL.sub(" ", value)).strip()


def hl7_time(dt: datetime) -> str:
    return dt.strftime("%Y%m%d%H%M%S%z")


def control_id(number: str, content: str) -> str:
    """MSH-10 (at most 20 characters): the same for the same document with the same content,
    whatever the day it is sent, so an engine recognises a message sent again after a lost
    ACK; a moved appointment's new content gets a new one."""
    return hashlib.sha256(f"{number}\x1f{content}".encode()).hexdigest()[:20].upper()


def _name(h: Handout) -> str:
    """PID-5: the schedule's name as the family-name component (mesocare does not split names)."""
    return escape(h.patient_name) or "UNKNOWN"


def message(
    h: Handout, pdf: bytes, text: str, made: datetime, settings: Hl7Settings = Hl7Settings()
) -> str:
    """The MDM^T02 message (segments ended by CR) for one handout with its ids."""
    number = ids.document_number(h)
    when = hl7_time(made)
    s = settings
    code, display = ids.INSTRUCTIONS
    observation = f"{code}^{escape(display)}^LN"
    lines = "~".join(escape(line) for line in text.splitlines())
    pdf64 = base64.b64encode(pdf).decode("ascii")
    segments = [
        "|".join(
            [
                "MSH",
                "^~\\&",
                escape(s.sending_application),
                escape(s.sending_facility),
                escape(s.receiving_application),
                escape(s.receiving_facility),
                when,
                "",
                "MDM^T02^MDM_T02",
                control_id(number, ids.content_hash(h)),
                "P",
                VERSION,
                "",
                "",
                "",
                "",
                "",
                CHARSET,
            ]
        ),
        f"EVN|T02|{when}",
        f"PID|1||{escape(h.patient_id)}^^^^MR||{_name(h)}",
        f"PV1|1|O|||||||||||||||||{escape(h.appointment_id)}",
        "|".join(
            [
                "TXA",
                "1",
                DOCUMENT_TYPE,
                "AP",
                when,
                "",
                hl7_time(h.start),
                "",
                "",
                "",
                "",
                "",
                escape(number),
                "",
                "",
                "",
                "",
                "DO",
                "",
                "AV",
            ]
        ),
        f"OBX|1|ED|{observation}|1|^AP^PDF^Base64^{pdf64}||||||F",
        f"OBX|2|TX|{observation}|2|{lines}||||||F",
    ]
    return SEGMENT_END.join(segments) + SEGMENT_END
