"""One message's words and bytes: pure functions of a ``Letter`` (a handout, who sends it to
whom, and what it follows).

- ``texts``: the subject, plain text and HTML, every sentence from the templates in
  ``templates/mail/`` (``_sentences.j2`` holds them all; the clinic's own first).
- ``build_message``: the RFC 5322 bytes. The MIME boundaries are derived from the content,
  so the same input gives the same bytes. An update answers the messages before it
  (``In-Reply-To``, ``References``), so mail programs show them as one thread; header lines
  are folded at 78 characters and encoded words kept within RFC 2047's 75; attachments are
  named in the patient's language (RFC 2231).

What to send and its hashes are in ``mesocare.mail.messages``. No name or address is ever put
in a log line or an error here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from mesocare.mail.messages import (
    HANDOUT,
    REMINDER,
    Change,
    Reminder,
    _digest,
    _local,
    first_step,
)
from mesocare.model import Handout


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
        "patient": " ".join(h.patient_name.split())
        if h.patient_name and h.patient_name.strip()
        else None,
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
        "dated": letter.reminder is not None and h.today != letter.reminder.day,
        "language": html_lang(lang),
        "replies": bool(
            letter.reply_to
        ),  # replies reach someone: do not ask the patient not to reply
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
        return _Sentences(
            for_language(environment(clinic_dir), lang).get_template("mail/_sentences.j2").module
        )


def texts(letter: Letter) -> tuple[str, str, str]:
    """Subject, plain text and HTML in the handout's language, from the templates (the
    clinic's own first)."""
    from mesocare.render.templating import render_template

    base = "handout" if letter.kind == HANDOUT else REMINDER
    clinic_dir = letter.handout.clinic.templates_dir
    lang = letter.handout.lang  # the handout's (the patient's, else the clinic's)
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
    seed = _digest(letter.message_id, subject)[
        :24
    ]  # "=_" never occurs in base64 or quoted-printable
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
    alternative = MIMEMultipart(
        "alternative", boundary=f"=_mesocare_{seed}_1", _subparts=[plain, rich]
    )
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
