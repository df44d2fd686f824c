"""The patient emails as mail programs read them (issue 23): parsed with ``email`` and
``policy.default``, header lines measured, the signature separator, MIME-Version, the
attachments' names, the tense of a reminder, threads, and the HTML without <body> styles."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from mesocare.config.clinic import load_clinic
from mesocare.mail import messages as m
from mesocare.mail.outbox import Envelope, render_job
from test_mail_messages import ENVELOPE, job_for, parse, request

TAGS = ("en-GB", "en-US", "fr", "fr-CA", "es", "es-MX", "de", "it", "pt", "pt-BR")
ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def messages_in_every_shape(ruleset, clinic, tag):
    """A first handout, an update after a move, and a reminder, in the language ``tag``."""
    req = request(language=tag, name="Maria da Conceição Albuquerque Gonçalves")
    first, _ = job_for(ruleset, clinic, req)
    change = m.Change(was_date=date(2024, 6, 3), was_time="10:00", moved=True)
    moved = replace(first, change=change, copy=2, thread=("<first@clinic.test>",))
    reminder, _ = job_for(ruleset, clinic, req, reminder_day=date(2024, 6, 9))
    named = replace(
        ENVELOPE,
        sender_name="Recepção da Clínica de Mesoterapia e Dermatologia",
        reply_to="Secretária Clínica Ribeira do Porto e Vila Nova <rececao@clinica.example>",
    )
    jobs = (first, moved, reminder)
    return [render_job(job, envelope) for job in jobs for envelope in (ENVELOPE, named)]


def headers(raw: bytes) -> list[bytes]:
    """The header lines of the message and of each of its parts, as sent."""
    lines = []
    for block in re.split(rb"\r\n--=_mesocare_[0-9a-f]+_\d(?:--)?\r\n", raw):
        lines.extend(block.split(b"\r\n\r\n", 1)[0].split(b"\r\n"))
    return lines


@pytest.mark.parametrize("tag", TAGS)
def test_header_lines_and_encoded_words_keep_to_the_rfcs(ruleset, london, tag):
    # a long non-ASCII clinic name too: the From line is the other header a patient sees
    long_name = "Clínica de Mesoterapia e Dermatologia Estética da Ribeira do Porto"
    clinic = replace(london, name=long_name)
    for raw in messages_in_every_shape(ruleset, clinic, tag):
        for line in headers(raw):
            assert len(line) <= 78, line  # RFC 5322 2.1.1
            for word in ENCODED_WORD.findall(line):
                assert len(word) <= 75, word  # RFC 2047 2
        msg = parse(raw)
        assert "Clínica de Mesoterapia" in str(msg["From"])  # the clinic's, else email.from's
        if msg["Reply-To"]:
            assert msg["Reply-To"].addresses[0].display_name.startswith("Secretária Clínica")
        assert msg["Subject"] and "=?" not in str(msg["Subject"])  # decodes whole


def test_the_portuguese_subject_of_the_issue_is_folded(ruleset, london):
    job, _ = job_for(ruleset, london, request(language="pt"))
    job = replace(job, change=m.Change(was_date=date(2024, 6, 3), moved=True), copy=2)
    raw = render_job(job, ENVELOPE)
    subject = re.search(rb"\r\nSubject: (.*?)\r\n(?! )", raw, re.S).group(1)
    words = ENCODED_WORD.findall(subject)
    assert len(words) >= 2 and max(map(len, words)) <= 75
    assert parse(raw)["Subject"] == (
        "Atualizado: a sua consulta de segunda-feira, 10 de junho de 2024: as suas instruções"
    )


@pytest.mark.parametrize("tag", ("en-GB", "fr", "de", "pt-BR"))
def test_signature_separator_and_one_mime_version(ruleset, london, tag):
    for raw in messages_in_every_shape(ruleset, london, tag):
        assert raw.count(b"MIME-Version:") == 1
        top = raw.split(b"\r\n\r\n", 1)[0]
        assert top.count(b"MIME-Version: 1.0") == 1  # on the message itself
        msg = parse(raw)
        for part in msg.walk():
            if part is not msg:
                assert "MIME-Version" not in part
        text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert "\n-- \n" in text and "\n--\n" not in text  # RFC 3676 4.3: dash dash space


NAMES = {
    "en-GB": ("instructions-2024-06-10.pdf", "appointment-2024-06-10.ics"),
    "en-US": ("instructions-2024-06-10.pdf", "appointment-2024-06-10.ics"),
    "fr": ("consignes-2024-06-10.pdf", "rendez-vous-2024-06-10.ics"),
    "fr-CA": ("consignes-2024-06-10.pdf", "rendez-vous-2024-06-10.ics"),
    "es": ("instrucciones-2024-06-10.pdf", "cita-2024-06-10.ics"),
    "es-MX": ("instrucciones-2024-06-10.pdf", "cita-2024-06-10.ics"),
    "de": ("Merkblatt-2024-06-10.pdf", "Termin-2024-06-10.ics"),
    "it": ("istruzioni-2024-06-10.pdf", "appuntamento-2024-06-10.ics"),
    "pt": ("instruções-2024-06-10.pdf", "consulta-2024-06-10.ics"),
    "pt-BR": ("instruções-2024-06-10.pdf", "consulta-2024-06-10.ics"),
}


@pytest.mark.parametrize("tag", TAGS)
def test_attachments_are_named_in_the_patient_s_language(ruleset, london, tag):
    job, _ = job_for(ruleset, london, request(language=tag))
    raw = render_job(job, ENVELOPE)
    msg = parse(raw)
    names = [p.get_filename() for p in msg.iter_attachments()]
    assert tuple(names) == NAMES[tag]
    text = " ".join(msg.get_body(("plain",)).get_content().split())
    assert all(name in text for name in names)  # the message names them as they arrive
    for name in names:
        if not name.isascii():  # RFC 2231 (filename*=utf-8''...), which every mail program decodes
            assert f"filename*=utf-8''{quote(name)}".encode() in raw


def test_a_translated_file_name_is_made_safe(ruleset, london):
    assert m._file_name("../x/y:z.pdf", "f.pdf") == "x-y-z.pdf"
    assert m._file_name(" \x00 ", "f.pdf") == "f.pdf"


def reminder_text(ruleset, london, tag: str, day: date, sent: datetime) -> str:
    """The reminder for ``day`` sent at ``sent`` (today: its date in London)."""
    today = sent.astimezone(ZoneInfo("Europe/London")).date()
    job, _ = job_for(ruleset, london, request(language=tag), today=today, reminder_day=day)
    msg = parse(render_job(job, Envelope("desk@clinic.test", sent)))
    return " ".join(msg.get_body(("plain",)).get_content().split())


@pytest.mark.parametrize(
    "tag, future, past",
    [
        (
            "en-GB",
            "Your appointment is at 10:00 on Monday 10 June 2024.",
            "Your appointment was at 10:00 on Monday 10 June 2024.",
        ),
        (
            "fr",
            "Votre rendez-vous est le lundi 10 juin 2024 à 10:00.",
            "Votre rendez-vous était le lundi 10 juin 2024 à 10:00.",
        ),
        (
            "de",
            "Ihr Termin ist am Montag, 10. Juni 2024 um 10:00 Uhr.",
            "Ihr Termin war am Montag, 10. Juni 2024 um 10:00 Uhr.",
        ),
        (
            "pt-BR",
            "Sua consulta é na segunda-feira, 10 de junho de 2024, às 10:00.",
            "Sua consulta foi na segunda-feira, 10 de junho de 2024, às 10:00.",
        ),
    ],
)
def test_a_reminder_speaks_of_a_past_appointment_in_the_past(ruleset, london, tag, future, past):
    before = datetime(2024, 6, 9, 7, 0, tzinfo=timezone.utc)
    after = datetime(2024, 6, 11, 7, 0, tzinfo=timezone.utc)  # aftercare the day after
    assert future in reminder_text(ruleset, london, tag, date(2024, 6, 9), before)
    text = reminder_text(ruleset, london, tag, date(2024, 6, 11), after)
    assert past in text and future not in text
    # the moment it starts (10:00 London is 09:00 UTC) it is no longer ahead
    at = datetime(2024, 6, 10, 9, 0, tzinfo=timezone.utc)
    assert past in reminder_text(ruleset, london, tag, date(2024, 6, 10), at)
    just_before = at - timedelta(seconds=1)
    assert future in reminder_text(ruleset, london, tag, date(2024, 6, 10), just_before)


EN_DAYS = {
    "morning": [
        "Here is what to do from today, Sunday 9 June 2024.",
        "Tomorrow is the day of your treatment:",
    ],
    "evening": [
        "Here is what to do from Sunday 9 June 2024.",
        "Your treatment is on Monday 10 June 2024:",
    ],
    "before": "Starting on Friday 31 May 2024:",
    "after": "Aftercare from Tuesday 11 June 2024:",
}
ES_DAYS = {
    "morning": [
        "Esto es lo que debe hacer desde hoy, domingo, 9 de junio de 2024.",
        "Mañana es el día de su tratamiento:",
    ],
    "evening": [
        "Esto es lo que debe hacer desde el domingo, 9 de junio de 2024.",
        "Su tratamiento es el lunes, 10 de junio de 2024:",
    ],
    "before": "Desde el viernes, 31 de mayo de 2024:",
    "after": "Cuidados posteriores desde el martes, 11 de junio de 2024:",
}


@pytest.mark.parametrize("tag, words", [("en-GB", EN_DAYS), ("es", ES_DAYS)])
def test_a_reminder_sent_the_day_before_names_its_days(ruleset, london, tag, words):
    """``remind --date tomorrow`` run in the evening: no "today" that is tomorrow."""

    def sent(day: date, at: datetime) -> str:
        return reminder_text(ruleset, london, tag, day, at)

    utc = timezone.utc
    morning = sent(date(2024, 6, 9), datetime(2024, 6, 9, 7, tzinfo=utc))
    evening = sent(date(2024, 6, 9), datetime(2024, 6, 8, 18, tzinfo=utc))
    assert all(s in morning for s in words["morning"])
    assert not any(s in morning for s in words["evening"])
    assert all(s in evening for s in words["evening"])
    assert not any(s in evening for s in words["morning"])
    # the other sections: a before-window starting that day, aftercare starting that day
    assert words["before"] in sent(date(2024, 5, 31), datetime(2024, 5, 30, 18, tzinfo=utc))
    assert words["after"] in sent(date(2024, 6, 11), datetime(2024, 6, 10, 18, tzinfo=utc))


def test_a_handout_sent_after_the_appointment_began_says_was(ruleset, london):
    job, _ = job_for(ruleset, london, request(), today=date(2024, 6, 10))
    noon = datetime(2024, 6, 10, 12, tzinfo=timezone.utc)
    msg = parse(render_job(job, Envelope("desk@clinic.test", noon)))
    text = " ".join(msg.get_body(("plain",)).get_content().split())
    assert "Your appointment at Harbour Skin Clinic was at 10:00 on Monday 10 June 2024." in text


def test_an_update_answers_the_messages_before_it_and_keeps_its_paragraphs(ruleset, london):
    job, _ = job_for(ruleset, london, request())
    assert "In-Reply-To" not in parse(render_job(job, ENVELOPE))  # a first message starts a thread
    second = replace(
        job,
        copy=2,
        thread=("<one@clinic.test>",),
        change=m.Change(was_date=date(2024, 6, 3), was_time="10:00", moved=True),
    )
    msg = parse(render_job(second, ENVELOPE))
    assert msg["In-Reply-To"] == "<one@clinic.test>" and msg["References"] == "<one@clinic.test>"
    third = replace(second, copy=3, thread=("<one@clinic.test>", "<two@clinic.test>"))
    msg = parse(render_job(third, ENVELOPE))
    assert msg["In-Reply-To"] == "<two@clinic.test>"
    assert msg["References"] == "<one@clinic.test> <two@clinic.test>"
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    assert (
        "Your appointment has moved. It was at 10:00 on Monday 3 June 2024. "
        "The new date and time are below."
    ) in paragraphs
    assert "This message replaces the one we sent before. Please use this one." in paragraphs


# ---------------------------------------------------------------- HTML without <body> styles
class _Elements(HTMLParser):
    """Each element with text of its own: (tag, its inline style, the tables around it)."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.found: list[tuple[str, str, list[dict]]] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "br", "img"):
            self.stack.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if data.strip() and self.stack and self.stack[-1][0] not in ("title", "style"):
            inline = ("strong", "b", "em", "a", "span")
            block = next((t for t in reversed(self.stack) if t[0] not in inline), None)
            tables = [a for t, a in self.stack if t == "table"]
            self.found.append((block[0], block[1].get("style", ""), tables))


def without_page_styles(html: str) -> str:
    """What webmail that drops <style> and the <body> element's styles shows."""
    html = re.sub(r"<style.*?</style>", "", html, flags=re.S | re.I)
    return re.sub(r"<body[^>]*>", "<body>", html, flags=re.I)


@pytest.mark.parametrize("reminder_day", (None, date(2024, 6, 9)))
def test_the_html_reads_well_without_body_or_style_element(ruleset, london, reminder_day):
    job, _ = job_for(ruleset, london, request(), reminder_day=reminder_day)
    if reminder_day is None:
        job = replace(job, change=m.Change(was_date=date(2024, 6, 3), moved=True), copy=2)
    html = parse(render_job(job, ENVELOPE)).get_body(("html",)).get_content()
    elements = _Elements()
    elements.feed(without_page_styles(html))
    assert len(elements.found) >= 6
    for tag, style, tables in elements.found:
        assert tag in ("p", "li", "h2"), tag  # no bare text in a cell or the body
        size = re.search(r"font-size:\s*(\d+)px", style)
        assert size and int(size.group(1)) >= 16, (tag, style)
        assert "font-family:" in style and "line-height:" in style and "color:" in style
        # a column of at most 600px in a client that ignores max-width (Outlook)
        assert any(t.get("width", "").isdigit() and int(t["width"]) <= 600 for t in tables)


# ------------------------------------------------------------------------ email.from with a name
HARBOUR = "care@harbour.example"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Harbour Skin Clinic <care@harbour.example>", ("Harbour Skin Clinic", HARBOUR)),
        (
            '"Harbour Skin, Front Desk" <care@harbour.example>',
            ("Harbour Skin, Front Desk", HARBOUR),
        ),
        ("Clínica do Porto <care@harbour.example>", ("Clínica do Porto", HARBOUR)),
        ("=?utf-8?q?Cl=C3=ADnica?= <care@harbour.example>", ("Clínica", HARBOUR)),
        ("care@harbour.example", ("", HARBOUR)),
        ("<care@harbour.example>", ("", HARBOUR)),
        ("Ana <a@b>", None),
        ("a@b.example, c@d.example", None),
        ("Desk: a@b.example;", None),
        ("Desk <a@b.example>\r\nBcc: x@y.example", None),
        ("Desk <a@@b.example>", None),
        ("Desk", None),
        ("", None),
    ],
)
def test_mailboxes(text, expected):
    from mesocare.addresses import parse_mailbox as mailbox

    assert mailbox(text) == expected


def test_email_from_accepts_the_form_mail_programs_write(tmp_path, ruleset):
    from mailserver import PASSWORD, MailServer
    from mesocare.mail.outbox import run
    from mesocare.readers import read_schedule

    server = MailServer(tmp_path).start()
    try:
        path = tmp_path / "mesocare.yaml"
        path.write_text(
            server.config(
                **{
                    "from": "Harbour Care Team <care@harbour.example>",
                    "reply_to": "Front Desk <desk@harbour.example>",
                }
            )
        )
        clinic = load_clinic(path)
        assert clinic.email == HARBOUR  # the calendar's ORGANIZER: the address alone
        assert (clinic.mail.sender, clinic.mail.sender_name) == (HARBOUR, "Harbour Care Team")
        csv = "date,time,area,patient_id,email\n2024-06-10,10:00,face,P-1,ana@example.com\n"
        schedule = read_schedule(csv.encode(), clinic, filename="s.csv")
        now = datetime(2024, 6, 1, 9, tzinfo=timezone.utc)
        assert (
            run(
                "send",
                schedule,
                ruleset,
                clinic,
                date(2024, 6, 1),
                now=now,
                err=print,
                password=PASSWORD,
            )
            == 0
        )
        (received,) = server.inbox
    finally:
        server.stop()
    assert received.mail_from == HARBOUR  # the envelope sender: the address alone
    msg = received.message
    # the display name wins over the clinic's name (Harbour Skin Clinic)
    assert msg["From"] == "Harbour Care Team <care@harbour.example>"
    assert msg["Reply-To"] == "Front Desk <desk@harbour.example>"
    assert msg["Message-ID"].endswith("@harbour.example>")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: X\nemail:\n  from: Desk <care@harbour>\n  host: smtp.harbour.example\n")
    problem = load_clinic(bad).mail_problem  # only the commands that send mail stop on it
    assert problem and "line 3, field 'email.from'" in problem
