"""A handout as a FHIR R4 transaction Bundle: a DocumentReference (the PDF and its plain text)
and a CarePlan (one activity per dated step), each filed by a conditional update.

Every entry is ``PUT DocumentReference?identifier=system|value``: the server creates the
resource when none has that identifier and updates it when one has. Posting the same day
twice therefore files nothing twice, and a moved appointment (same identifier) replaces its
plan. (A conditional create, ``POST`` with ``ifNoneExist``, would never update a moved
appointment.) The identifier is the appointment's and the rule set's version (``ids``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime
from typing import Any

from mesocare.ehr import ids
from mesocare.ehr.plan_definition import canonical
from mesocare.model import Handout, Item

FORMAT_SYSTEM = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
CATEGORY_SYSTEM = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
_STATUS = {"upcoming": "not-started", "started": "in-progress", "passed": "completed"}


FHIR_ID = re.compile(r"[A-Za-z0-9.-]{1,64}")


def _from_fhir(h: Handout) -> bool:
    """The schedule was FHIR: its appointment is ``Appointment/<id>`` and both ids are FHIR ids
    (anything else, from any schedule, is looked up by identifier instead)."""
    appointment = h.appointment_id or ""
    kind, _, ident = appointment.partition("/")
    return (
        kind == "Appointment"
        and FHIR_ID.fullmatch(ident) is not None
        and FHIR_ID.fullmatch(h.patient_id or "") is not None
    )


def patient_reference(h: Handout) -> dict[str, Any]:
    """The patient: ``Patient/<id>`` when the schedule was FHIR, else a conditional reference by
    the schedule's patient id, which the server resolves to the patient filed under it."""
    if _from_fhir(h):
        return {"reference": f"Patient/{h.patient_id}"}
    return {"reference": f"Patient?{ids.identifier_query(ids.PATIENT_SYSTEM, h.patient_id or '')}"}


def appointment_reference(h: Handout) -> dict[str, Any]:
    if _from_fhir(h):
        return {"reference": h.appointment_id}
    return {"identifier": {"system": ids.APPOINTMENT_SYSTEM, "value": h.appointment_id}}


def _identifier(system: str, number: str) -> dict[str, str]:
    return {"system": system, "value": number}


def _title(h: Handout) -> str:
    return f"{h.clinic.name}: {h.start.date().isoformat()}"


def document_reference(h: Handout, pdf: bytes, text: str, made: datetime) -> dict[str, Any]:
    number = ids.document_number(h)
    title = _title(h)
    plain = text.encode("utf-8")

    def attachment(content_type: str, data: bytes) -> dict[str, Any]:
        return {
            "contentType": content_type,
            "language": h.language,
            "data": base64.b64encode(data).decode("ascii"),
            "size": len(data),
            "hash": base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"),  # R4: SHA-1
            "title": title,
            "creation": made.isoformat(timespec="seconds"),
        }

    fmt = {
        "system": FORMAT_SYSTEM,
        "code": "urn:ihe:iti:xds:2017:mimeTypeSufficient",
        "display": "mimeType Sufficient",
    }
    code, display = ids.INSTRUCTIONS
    return {
        "resourceType": "DocumentReference",
        "language": h.language,
        "identifier": [_identifier(ids.DOCUMENT_SYSTEM, number)],
        "status": "current",
        "docStatus": "final",
        "type": {
            "coding": [{"system": ids.LOINC, "code": code, "display": display}],
            "text": display,
        },
        "category": [
            {
                "coding": [
                    {
                        "system": CATEGORY_SYSTEM,
                        "code": "clinical-note",
                        "display": "Clinical Note",
                    }
                ]
            }
        ],
        "subject": patient_reference(h),
        "date": made.isoformat(timespec="seconds"),
        "author": [{"display": h.clinic.name}],
        "custodian": {"display": h.clinic.name},
        "description": "Pre- and aftercare instructions, "
        f"rule set {ids.short_version(h.rules_version)}",
        "content": [
            {"attachment": attachment("application/pdf", pdf), "format": fmt},
            {"attachment": attachment("text/plain; charset=utf-8", plain), "format": fmt},
        ],
        "context": {
            "period": {"start": h.start.isoformat(), "end": h.end.isoformat()},
            "related": [appointment_reference(h)],
        },
    }


def _activity(item: Item) -> dict[str, Any]:
    period = {"start": item.start.isoformat()}
    if item.end is not None:
        period["end"] = item.end.isoformat()
    return {
        "detail": {
            "code": {"coding": [{"system": ids.RULE_SYSTEM, "code": item.rule}], "text": item.name},
            "status": _STATUS[item.status],
            "scheduledPeriod": period,
            "description": f"{item.when}: {item.text}" if item.when else item.text,
        }
    }


def care_plan(h: Handout, document_url: str, made: datetime) -> dict[str, Any]:
    number = ids.document_number(h)
    last = max((i.end for i in h.items if i.end is not None), default=h.end)
    first = min((i.start for i in h.items), default=h.start)
    return {
        "resourceType": "CarePlan",
        "language": h.language,
        "identifier": [_identifier(ids.CAREPLAN_SYSTEM, number)],
        "instantiatesCanonical": [canonical(h.rules_version)],
        "status": "active",
        "intent": "plan",
        "title": _title(h),
        "subject": patient_reference(h),
        "period": {"start": first.isoformat(), "end": last.isoformat()},
        "created": made.isoformat(timespec="seconds"),
        "author": {"display": h.clinic.name},
        "supportingInfo": [{"reference": document_url}, appointment_reference(h)],
        "activity": [_activity(i) for i in h.items],
    }


def _entry(url: str, resource: dict[str, Any], system: str, number: str) -> dict[str, Any]:
    kind = resource["resourceType"]
    return {
        "fullUrl": url,
        "resource": resource,
        "request": {"method": "PUT", "url": f"{kind}?{ids.identifier_query(system, number)}"},
    }


def bundle(h: Handout, pdf: bytes, text: str, made: datetime) -> dict[str, Any]:
    """The transaction Bundle for one handout (needs its patient and appointment ids)."""
    number = ids.document_number(h)
    doc_url = ids.resource_uuid("DocumentReference", number)
    plan_url = ids.resource_uuid("CarePlan", number)
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            _entry(doc_url, document_reference(h, pdf, text, made), ids.DOCUMENT_SYSTEM, number),
            _entry(plan_url, care_plan(h, doc_url, made), ids.CAREPLAN_SYSTEM, number),
        ],
    }
