"""Messages to patients, built without sending anything: pure functions of a handout.

- ``appointment_key``: what identifies an appointment in the sent log (the booking id,
  else the patient id with the date and time, else a hash of the address with them).
- ``handout_content`` / ``reminder_content``: the facts a message carries and their hash.
  The hash covers what the patient is told (date, time, areas, technique, each
  instruction's window and words, the notes) and the address; not today's date, so
  statuses moving from "upcoming" to "started" never make a message "changed".
- ``reminder_items``: the instructions starting on a day (a before-window that starts that
  day, after-care that starts later than the appointment's end), and the day-of items when
  the appointment is the next day.
- ``message_id``: derived from the content, so a rerun sends the very same message;
  ``attachment_names``: the PDF's and calendar file's names in the patient's language.

The message itself (its words and bytes) is built by ``mesocare.mail.letters``.

No name or address is ever put in a key, a log line or an error here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from mesocare.dates import same, zone
from mesocare.lang.ui import N_
from mesocare.model import Handout, Item, Request

HANDOUT = "handout"
REMINDER = "reminder"


def reminder_kind(day: date) -> str:
    return f"{REMINDER}:{day.isoformat()}"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def address_hash(address: str) -> str:
    return _digest("address", address.strip().lower())[:24]


def appointment_key(request: Request) -> str:
    """``booking:ID``; else ``patient:ID|2024-06-10|10:00``; else ``address:HASH|date|time``."""
    when = (
        f"{request.date.isoformat()}|"
        f"{request.time.strftime('%H:%M') if request.time else 'all-day'}"
    )
    if request.appointment_id and request.appointment_id.strip():
        return "booking:" + " ".join(request.appointment_id.split())
    if request.patient_id and request.patient_id.strip():
        return f"patient:{' '.join(request.patient_id.split())}|{when}"
    return f"address:{address_hash(request.email or '')}|{when}"


def _local(dt: datetime, h: Handout) -> datetime:
    return dt.astimezone(zone(h.timezone))


def _item_facts(items) -> list:
    return [
        [i.rule, i.phase, i.start.isoformat(), i.end.isoformat() if i.end else None, i.text]
        for i in items
    ]


def patient_hash(h: Handout, address: str) -> str:
    """Who the patient is, hashed (never the plain name): the booking system's patient id,
    else the name with the address."""
    if h.patient_id and h.patient_id.strip():
        return _digest("patient-id", " ".join(h.patient_id.split()))[:24]
    name = " ".join((h.patient_name or "").split()).casefold()
    return _digest("patient", name, address.strip().lower())[:24]


def appointment_facts(h: Handout, address: str) -> dict:
    """What an update message compares: when, where on the body, how, to whom and for whom
    (both hashed); ``_content`` adds ``plan``, the hash of everything the patient is told."""
    start = _local(h.start, h)
    return {
        "date": start.date().isoformat(),
        "time": start.strftime("%H:%M") if h.timed else None,
        "areas": list(h.areas),
        "technique": h.technique,
        "address": address_hash(address),
        "patient": patient_hash(h, address),
    }


@dataclass(frozen=True)
class Content:
    """What one message says, in short: its facts and their hash (the sent log keeps both)."""

    kind: str
    facts: dict
    hash: str


def _content(kind: str, h: Handout, address: str, language: str | None, items, notes) -> Content:
    facts = appointment_facts(h, address)
    payload = {
        "kind": kind,
        "facts": {k: v for k, v in facts.items() if k not in ("address", "patient")},
        "language": language,
        "prescribed": list(h.prescribed),
        "course": [d.isoformat() for d in h.course.sessions]
        + [h.course.end.isoformat() if h.course.end else ""],
        "items": _item_facts(items),
        "notes": [[n.id, n.text] for n in notes],
        "clinic": [h.clinic.name, h.clinic.phone],
    }
    facts["plan"] = _digest(json.dumps(payload, sort_keys=True, ensure_ascii=False))[:32]
    return Content(kind, facts, _digest(facts["plan"], facts["address"], facts["patient"]))


def legacy_hash(content: Content) -> str:
    """The hash a sent log written before ``patient`` was a fact holds for the same message."""
    return _digest(content.facts["plan"], content.facts["address"])


def same_patient(old: dict, new: dict) -> bool:
    """The message recorded (``old`` facts) went to the patient of ``new``. A record from
    before the patient was compared counts as the same patient only at the same address."""
    if "patient" in old:
        return old["patient"] == new.get("patient")
    return old.get("address") == new.get("address")


def handout_content(h: Handout, address: str, language: str | None = None) -> Content:
    return _content(HANDOUT, h, address, language, h.items, h.notes)


@dataclass(frozen=True)
class Reminder:
    """The instructions of one day for one appointment."""

    day: date
    before: tuple[Item, ...]  # before-windows starting that day
    day_of: tuple[Item, ...]  # the day-of items, when the appointment is the next day
    after: tuple[Item, ...]  # after-care starting that day, later than the appointment's end

    @property
    def items(self) -> tuple[Item, ...]:
        return self.before + self.day_of + self.after

    def __bool__(self) -> bool:
        return bool(self.items)


def reminder_items(h: Handout, day: date) -> Reminder:
    appointment_day = _local(h.start, h).date()
    before = tuple(i for i in h.items if i.phase == "before" and _local(i.start, h).date() == day)
    day_of = (
        tuple(i for i in h.items if i.phase == "day")
        if appointment_day == day + timedelta(days=1)
        else ()
    )
    after = tuple(
        i
        for i in h.items
        if i.phase == "after"
        and _local(i.start, h).date() == day
        and i.start > h.end
        and not same(i.start, h.end)
    )
    return Reminder(day, before, day_of, after)


def reminder_content(
    h: Handout, reminder: Reminder, address: str, language: str | None = None
) -> Content:
    return _content(reminder_kind(reminder.day), h, address, language, reminder.items, ())


@dataclass(frozen=True)
class Change:
    """How an appointment changed since the message we sent before (None fields: unchanged)."""

    was_date: date | None = None  # the appointment moved from this day...
    was_time: str | None = None  # ...and/or this time
    moved: bool = False
    areas: bool = False


def change_between(old: dict, new: dict) -> Change:
    moved = (old.get("date"), old.get("time")) != (new.get("date"), new.get("time"))
    return Change(
        was_date=date.fromisoformat(old["date"]) if moved and old.get("date") else None,
        was_time=old.get("time") if moved else None,
        moved=moved,
        areas=sorted(old.get("areas") or []) != sorted(new.get("areas") or []),
    )


def only_address_changed(old: dict, new: dict) -> bool:
    """The same plan sent to a corrected address: a first message there, not an update."""
    return old.get("plan") == new.get("plan") and old.get("address") != new.get("address")


def first_step(h: Handout) -> Item | None:
    """The first thing to do: the earliest before or day-of item not yet over, else the first
    one."""
    open_ = [i for i in h.items if i.phase in ("before", "day") and i.status != "passed"]
    if open_:
        return min(open_, key=lambda i: (i.start.timestamp(), i.phase != "before"))
    return h.items[0] if h.items else None


def message_id(key: str, content: Content, copy: int, sender: str) -> str:
    """The same for the same appointment, content and copy number: a rerun after a crash
    sends the very message again, which most mail systems then show once."""
    domain = sender.rsplit("@", 1)[-1]
    return f"<{_digest(key, content.kind, content.hash, str(copy))[:32]}.mesocare@{domain}>"


PDF_NAME = N_("instructions-%(date)s.pdf")
ICS_NAME = N_("appointment-%(date)s.ics")
_UNSAFE = '/\\:*?"<>|'


def _file_name(text: str, fallback: str) -> str:
    """A translated file name made safe to save: no folder separators, no control characters."""
    text = " ".join(text.split())
    name = "".join("-" if c in _UNSAFE or not c.isprintable() else c for c in text)
    return name.strip(" .-") or fallback


def attachment_names(h: Handout) -> tuple[str, str]:
    """The PDF's and the calendar file's names in the patient's language
    (``consignes-2024-06-10.pdf``; non-ASCII names are sent RFC 2231-encoded)."""
    lang = h.lang
    day = _local(h.start, h).date().isoformat()
    return (
        _file_name(lang._(PDF_NAME, date=day), f"instructions-{day}.pdf"),
        _file_name(lang._(ICS_NAME, date=day), f"appointment-{day}.ics"),
    )
