"""The business identifiers every record mesocare files carries, and the codes it uses.

A handout's documents are keyed by the appointment and the rule set's version: posting the
same day twice finds the same records (nothing duplicated), a moved appointment keeps its key
(its plan is replaced), and a new rule set makes a new document (the old one stays on file as
what the patient was given then).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from urllib.parse import quote

from mesocare.model import Handout

SYSTEM = "urn:mesocare"  # our identifier systems are urn:mesocare:<kind>
DOCUMENT_SYSTEM = f"{SYSTEM}:handout"
CAREPLAN_SYSTEM = f"{SYSTEM}:careplan"
RULESET_SYSTEM = f"{SYSTEM}:rule-set"
RULE_SYSTEM = f"{SYSTEM}:rule"
PATIENT_SYSTEM = f"{SYSTEM}:patient-id"  # a schedule's patient id (CSV, iCalendar, HL7 PID-3)
APPOINTMENT_SYSTEM = f"{SYSTEM}:appointment-id"
PLAN_URL = f"{SYSTEM}:PlanDefinition:mesotherapy-care"  # the canonical url of our PlanDefinition

# LOINC 69730-0 "Instructions" (scale Doc, class DOC.ONTOLOGY): "instructions given to a
# patient ... not resuming normal activities, potential complications, use of medications,
# follow-up" (https://loinc.org/69730-0/). A Doc-scale LOINC code, so inside US Core's
# DocumentReference type value set.
LOINC = "http://loinc.org"
INSTRUCTIONS = ("69730-0", "Instructions")
VERSION_CHARS = 12  # of the rule set's sha256 in identifiers (48 bits: collisions not a concern)


def short_version(rules_version: str) -> str:
    return rules_version[:VERSION_CHARS]


def document_number(h: Handout) -> str:
    """The same for the same appointment and rule-set version, whatever the day it is made.

    Kept to 64 characters of [A-Za-z0-9.-] (an HL7 TXA-12 entity id and a FHIR id fit it):
    the appointment id is hashed, so nothing the booking system put in it leaks or breaks.
    """
    appointment = h.appointment_id or ""
    digest = hashlib.sha256(f"{appointment}\x1f{h.rules_version}".encode()).hexdigest()[:20]
    return f"MC-{digest}-{short_version(h.rules_version)}"


def resource_uuid(kind: str, number: str) -> str:
    """A stable urn:uuid for a resource in a transaction Bundle (its fullUrl)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{SYSTEM}:{kind}:{number}')}"


def identifier_query(system: str, value: str) -> str:
    """``identifier=system|value`` for a search or conditional url: FHIR's search escapes
    (backslash before ``\\ | , $``), then percent-encoding, so an id with ``&``, ``#``, a space
    or ``|`` in it cannot change the query."""

    def escaped(text: str) -> str:
        return quote("".join("\\" + c if c in "\\|,$" else c for c in text), safe=":/")

    return f"identifier={escaped(system)}|{escaped(value)}"


def missing_ids(patient_id: str | None, appointment_id: str | None) -> tuple[str, str] | None:
    """(field, problem) when a record cannot be filed: it needs whose chart and which visit."""
    if not patient_id:
        return "patient_id", "no patient id: a record for the clinic's system needs one"
    if not appointment_id:
        return "appointment_id", "no appointment id: a record for the clinic's system needs one"
    return None


def content_hash(h: Handout) -> str:
    """What the record says, without the day it was made or the steps' status (which change
    from one day to the next): the appointment, the language, the rule set and every step."""
    facts = {
        "start": h.start.isoformat(),
        "end": h.end.isoformat(),
        "language": h.language,
        "rules": h.rules_version,
        "patient": h.patient_id,
        "areas": list(h.areas),
        "items": [
            (i.rule, i.start.isoformat(), i.end.isoformat() if i.end else None, i.text)
            for i in h.items
        ],
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()
