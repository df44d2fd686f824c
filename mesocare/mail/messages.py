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
- ``build_message``: the RFC 5322 bytes. Every sentence comes from the templates in
  ``templates/mail/`` (``_sentences.j2`` holds them all); the MIME boundaries and the
  Message-ID are derived from the content, so the same input gives the same bytes. An
  update answers the messages before it (``In-Reply-To``, ``References``), so mail programs
  show them as one thread; header lines are folded at 78 characters and encoded words kept
  within RFC 2047's 75; attachments are named in the patient's language (RFC 2231).

No name or address is ever put in a key, a log line or an error here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
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
    when = f"{request.date.isoformat()}|{request.time.strftime('%H:%M') if request.time else 'all-day'}"
    if request.appointment_id and request.appointment_id.strip():
        return "booking:" + " ".join(request.appointment_id.split())
    if request.patient_id and request.patient_id.strip():
        return f"patient:{' '.join(request.patient_id.split())}|{when}"
    return f"address:{address_hash(request.email or '')}|{when}"


def _local(dt: datetime, h: Handout) -> datetime:
    return dt.astimezone(zone(h.timezone))


def _item_facts(items) -> list:
    return [[i.rule, i.phase, i.start.isoformat(), i.end.isoformat() if i.end else None, i.text] for i in items]


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
        "course": [d.isoformat() for d in h.course.sessions] + [h.course.end.isoformat() if h.course.end else ""],
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
    day_of = tuple(i for i in h.items if i.phase == "day") if appointment_day == day + timedelta(days=1) else ()
    after = tuple(
        i for i in h.items
        if i.phase == "after" and _local(i.start, h).date() == day and i.start > h.end and not same(i.start, h.end)
    )
    return Reminder(day, before, day_of, after)


def reminder_content(h: Handout, reminder: Reminder, address: str, language: str | None = None) -> Content:
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
    """The first thing to do: the earliest before or day-of item not yet over, else the first one."""
    open_ = [i for i in h.items if i.phase in ("before", "day") and i.status != "passed"]
    if open_:
        return min(open_, key=lambda i: (i.start.timestamp(), i.phase != "before"))
    return h.items[0] if h.items else None


@dataclass(frozen=True)
class Letter:
    """Everything one message needs besides the rendered attachments."""

    handout: Handout
    kind: str
    to: str
    sender: str
    date: datetime  # the Date header
    message_id: str
    language: str = "en"
    change: Change | None = None
    reminder: Reminder | None = None
    reply_to: str | None = None
    attachments: tuple = field(default=())  # (filename, maintype, subtype, bytes, params)
    sender_name: str | None = None  # the display name of email.from; else the clinic's name
    thread: tuple[str, ...] = ()  # Message-IDs this copy follows: the first one's, then the last's


def message_id(key: str, content: Content, copy: int, sender: str) -> str:
    """The same for the same appointment, content and copy number: a rerun after a crash
    sends the very message again, which most mail systems then show once."""
    domain = sender.rsplit("@", 1)[-1]
    return f"<{_digest(key, content.kind, content.hash, str(copy))[:32]}.mesocare@{domain}>"


def language(h: Handout):
    """The handout's language (the patient's, else the clinic's): the message is in it too."""
    from mesocare import lang as languages

    return languages.get(h.language)


def _context(letter: Letter, lang) -> dict:
    from mesocare.render.view import html_lang

    h = letter.handout
    start = _local(h.start, h)
    change = letter.change
    day = start.date()
    return {
        # the appointment has begun: before today, or today and earlier than the message
        "past": day < h.today or (day == h.today and h.start <= letter.date),
        "clinic": h.clinic,
        "patient": " ".join(h.patient_name.split()) if h.patient_name and h.patient_name.strip() else None,
        "day": lang.day(start.date()),
        "time": lang.clock(start) if h.timed else None,
        "areas": h.areas,
        "technique": h.technique,
        "first": first_step(h),
        "banners": h.shown_banners,
        "emergency": h.emergency,
        "change": change,
        "was_day": lang.day(change.was_date) if change and change.was_date else None,
        "reminder": letter.reminder,
        "reminder_day": lang.day(letter.reminder.day) if letter.reminder else None,
        # sent on another day than the reminder's own: name the days, not "today"/"tomorrow"
        "dated": bool(letter.reminder) and h.today != letter.reminder.day,
        "language": html_lang(lang.tag),
        "replies": bool(letter.reply_to),  # replies reach someone: do not ask the patient not to reply
        "pdf_name": next((a[0] for a in letter.attachments if a[2] == "pdf"), None),
        "ics_name": next((a[0] for a in letter.attachments if a[2] == "calendar"), None),
    }


class _Sentences:
    """The macros of ``mail/_sentences.j2``, called as plain functions: each returns plain
    text, which an HTML template then escapes like any other value. (Called from a template
    directly, a macro's result counts as safe markup, and a name typed as ``<b>Ana</b>``
    would reach the HTML unescaped.)"""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name: str):
        macro = getattr(self._module, name)
        return lambda *args, **kwargs: str(macro(*args, **kwargs))


def sentences(clinic_dir: str | None, lang) -> _Sentences:
    """The sentences in ``lang`` (the clinic's ``mail/_sentences.j2`` first, then ours)."""
    from mesocare.lang.jinja import for_language
    from mesocare.render.templating import environment, template_errors

    with template_errors("mail/_sentences.j2", clinic_dir):
        return _Sentences(for_language(environment(clinic_dir), lang).get_template("mail/_sentences.j2").module)


def texts(letter: Letter) -> tuple[str, str, str]:
    """Subject, plain text and HTML in the handout's language, from the templates (the
    clinic's own first)."""
    from mesocare.render.templating import render_template

    base = "handout" if letter.kind == HANDOUT else REMINDER
    clinic_dir = letter.handout.clinic.templates_dir
    lang = language(letter.handout)
    context = _context(letter, lang)
    context["s"] = sentences(clinic_dir, lang)
    subject = render_template(f"mail/{base}.subject.j2", clinic_dir, lang=lang, **context)
    text = render_template(f"mail/{base}.txt.j2", clinic_dir, lang=lang, **context)
    html = render_template(f"mail/{base}.html.j2", clinic_dir, lang=lang, **context)
    return _one_line(subject), text, html


def _one_line(text: str) -> str:
    """Line breaks and runs of spaces to one space (no-break spaces, as French puts before a
    colon, are kept)."""
    import re

    return re.sub(r"[ \t\r\n\f\v]+", " ", text).strip()


PDF_NAME = N_("instructions-%(date)s.pdf")
ICS_NAME = N_("appointment-%(date)s.ics")
_UNSAFE = "/\\:*?\"<>|"


def _file_name(text: str, fallback: str) -> str:
    """A translated file name made safe to save: no folder separators, no control characters."""
    text = " ".join(text.split())
    name = "".join("-" if c in _UNSAFE or not c.isprintable() else c for c in text)
    return name.strip(" .-") or fallback


def attachment_names(h: Handout) -> tuple[str, str]:
    """The PDF's and the calendar file's names in the patient's language
    (``consignes-2024-06-10.pdf``; non-ASCII names are sent RFC 2231-encoded)."""
    lang = language(h)
    day = _local(h.start, h).date().isoformat()
    return (
        _file_name(lang._(PDF_NAME, date=day), f"instructions-{day}.pdf"),
        _file_name(lang._(ICS_NAME, date=day), f"appointment-{day}.ics"),
    )


def build_message(letter: Letter) -> bytes:
    """The message as the bytes sent (CRLF line ends): multipart/mixed of a text/HTML
    alternative and the attachments; boundaries and Message-ID fixed by the content.

    Built with the email package's classic MIME classes (``compat32``): the same structure
    as ``EmailMessage`` gives, in half the time, which counts at a thousand messages a run.
    Header values have their whitespace collapsed and their addresses checked; lines are
    folded at 78 characters, and a header's encoded words are each at most 75 characters
    (RFC 2047 2), so strict readers and spam filters decode them. ``MIME-Version`` is on the
    message only, not on its parts."""
    import io
    from email import charset, encoders
    from email.generator import BytesGenerator
    from email.header import Header
    from email.mime.base import MIMEBase
    from email.mime.multipart import MIMEMultipart
    from email.mime.nonmultipart import MIMENonMultipart
    from email.policy import compat32
    from email.utils import format_datetime, formataddr

    from mesocare.addresses import parse_mailbox

    subject, text, html = texts(letter)
    seed = _digest(letter.message_id, subject)[:24]  # "=_" never occurs in base64 or quoted-printable
    utf8 = charset.Charset("utf-8")
    utf8.header_encoding = charset.SHORTEST
    utf8.body_encoding = charset.QP

    def part(maintype: str, subtype: str, **params) -> MIMEBase:
        p = MIMENonMultipart(maintype, subtype, **params)
        del p["MIME-Version"]  # only the message itself carries it
        return p

    plain, rich = part("text", "plain", charset="utf-8"), part("text", "html", charset="utf-8")
    plain.set_payload(text, utf8)
    rich.set_payload(html, utf8)
    for p in (plain, rich):
        del p["MIME-Version"]  # set_payload with a charset adds it back to the part
    alternative = MIMEMultipart("alternative", boundary=f"=_mesocare_{seed}_1", _subparts=[plain, rich])
    del alternative["MIME-Version"]
    msg = MIMEMultipart("mixed", boundary=f"=_mesocare_{seed}_0")
    msg.attach(alternative)
    for filename, maintype, subtype, data, params in letter.attachments:
        attachment = part(maintype, subtype, **dict(params))
        attachment.set_payload(data)
        encoders.encode_base64(attachment)
        # a non-ASCII name as RFC 2231 (filename*=utf-8''...), which every mail program reads
        name = filename if filename.isascii() else ("utf-8", "", filename)
        attachment.add_header("Content-Disposition", "attachment", filename=name)
        msg.attach(attachment)

    def header(text: str):
        # encoded words of at most 75 characters, folded between words (RFC 2047 2)
        return text if text.isascii() else Header(text, utf8, header_name="Subject")

    def address(field: str, name: str, addr: str):
        # the field's name counts in the first line's 78 characters
        if not name:
            return addr
        if name.isascii():
            return formataddr((name, addr))
        both = Header(name, utf8, header_name=field)
        both.append(f"<{addr}>", "us-ascii")
        return both

    name = letter.sender_name or letter.handout.clinic.name
    msg["From"] = address("From", " ".join(name.split()), letter.sender)
    msg["To"] = letter.to
    if letter.reply_to:
        found = parse_mailbox(letter.reply_to)
        msg["Reply-To"] = address("Reply-To", *found) if found else letter.reply_to
    msg["Subject"] = header(subject)
    msg["Date"] = format_datetime(letter.date)
    msg["Message-ID"] = letter.message_id
    if letter.thread:
        # a reply to the last copy; References: the first copy and the last (RFC 5322 3.6.4)
        msg["In-Reply-To"] = letter.thread[-1]
        msg["References"] = " ".join(letter.thread)
    msg["Auto-Submitted"] = "auto-generated"
    msg["Content-Language"] = letter.language
    out = io.BytesIO()
    policy = compat32.clone(linesep="\r\n", max_line_length=78)  # RFC 5322 2.1.1
    BytesGenerator(out, mangle_from_=False, policy=policy).flatten(msg)
    return out.getvalue()
