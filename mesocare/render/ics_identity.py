"""Who and what a calendar event is, as its UID: the clinic, the patient (never written out),
the appointment (its booking id, else its local day) and the event (see ``ics_events``)."""

from __future__ import annotations

import hashlib
import re

from mesocare.dates import zone
from mesocare.model import Handout

UID_DOMAIN = "mesocare"


def patient_key(h: Handout) -> str:
    """Who the events are for, as part of a UID: the id, else the folded name (never written)."""
    if h.patient_id and h.patient_id.strip():
        return "id:" + h.patient_id.strip()
    if h.patient_name and h.patient_name.strip():
        return "name:" + " ".join(h.patient_name.split()).casefold()
    # nobody named: the appointment itself is all there is to go by
    return "anonymous:" + h.start.isoformat() + ":" + "+".join(h.areas)


def uid(clinic: str, patient: str, appointment: str, event: str) -> str:
    """A stable UID: the same clinic, patient, appointment and event give the same one."""
    raw = "\x1f".join(("mesocare-ics/1", clinic, patient, appointment, event))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40] + "@" + UID_DOMAIN


_KEY_CLEAN = re.compile(r"\s+")


def appointment_key(h: Handout, key: str | None) -> str:
    """The appointment, as part of a UID: the booking id when known, else its local date."""
    key = key or h.appointment_id
    if key:
        return "key:" + _KEY_CLEAN.sub(" ", key.strip())
    return "date:" + h.start.astimezone(zone(h.timezone)).date().isoformat()
