"""Email messages built without a server: structure, attachments, words, hashes, settings."""

from __future__ import annotations

import email
import email.policy
import io
import re
from dataclasses import replace
from datetime import date, datetime, time, timezone
from pathlib import Path

import pytest

from mesocare.addresses import is_this_machine, valid_address
from mesocare.config.clinic import load_clinic
from mesocare.errors import ConfigError
from mesocare.handout import build_handout
from mesocare.mail import messages as m
from mesocare.mail.outbox import Envelope, Job, render_job
from mesocare.model import Request
from mesocare.render import render

ENVELOPE = Envelope("desk@clinic.test", datetime(2024, 6, 1, 8, 0, tzinfo=timezone.utc))
ON_THE_9TH = Envelope(
    "desk@clinic.test", datetime(2024, 6, 9, 7, 0, tzinfo=timezone.utc)
)  # a reminder's day


def request(**kw):
    base = dict(
        date=date(2024, 6, 10),
        time=time(10, 0),
        areas=("face",),
        name="Ana <b>Lopez</b>",
        patient_id="P-1042",
        email="ana.lopez@example.com",
    )
    base.update(kw)
    return Request(**base)


def job_for(ruleset, clinic, req, today=date(2024, 6, 1), reminder_day=None):
    h = build_handout(req, ruleset, clinic, today)
    if reminder_day:
        rem = m.reminder_items(h, reminder_day)
        content = m.reminder_content(h, rem, req.email)
    else:
        rem, content = None, m.handout_content(h, req.email)
    return Job(
        "row 2", m.appointment_key(req), content, h, req.email, h.language, "stem", reminder=rem
    ), h


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_handout_message_has_text_html_pdf_and_calendar(ruleset, london):
    job, h = job_for(ruleset, london, request())
    raw = render_job(job, ENVELOPE)
    msg = parse(raw)
    assert msg.get_content_type() == "multipart/mixed"
    assert msg["To"] == "ana.lopez@example.com"  # the address only: no name in the headers
    assert msg["From"] == "Harbour Skin Clinic <desk@clinic.test>"
    assert msg["Subject"] == "Your appointment on Monday 10 June 2024: your instructions"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Content-Language"] == "en-GB"
    text = " ".join(msg.get_body(("plain",)).get_content().split())
    html = msg.get_body(("html",)).get_content()
    assert "Your appointment at Harbour Skin Clinic is at 10:00 on Monday 10 June 2024." in text
    assert "The first thing to do: From Friday 31 May 2024: Stop taking" in text
    assert "Call us on 020 7946 0000." in text
    assert "Hello Ana <b>Lopez</b>," in text
    assert "Hello Ana &lt;b&gt;Lopez&lt;/b&gt;," in html and "<b>Lopez" not in html
    assert '<html lang="en">' in html
    files = {p.get_filename(): p for p in msg.iter_attachments()}
    assert set(files) == {"instructions-2024-06-10.pdf", "appointment-2024-06-10.ics"}

    from pypdf import PdfReader

    pdf = files["instructions-2024-06-10.pdf"].get_content()
    assert pdf == render(h, "pdf")
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert "Monday 10 June 2024" in " ".join(p.extract_text() for p in pages)

    import icalendar

    calendar_part = files["appointment-2024-06-10.ics"]
    assert calendar_part.get_content_type() == "text/calendar"
    assert (
        calendar_part.get_param("method") is None
    )  # this clinic has no address: no METHOD in the calendar
    ics = calendar_part.get_content()
    ics = ics if isinstance(ics, bytes) else ics.encode()
    # the message's form of the calendar, stamped when the copy was made (first copy: SEQUENCE 0)
    assert ics == render(h, "ics", stamp=ENVELOPE.date, sequence=0, message=True).encode()
    cal = icalendar.Calendar.from_ical(ics)
    (event,) = cal.walk("VEVENT")  # one event, the appointment: calendars apply an update to one
    assert str(event["X-MESOCARE-EVENT"]) == "appointment"
    for item in h.items:  # with every dated step in its description
        assert f"{item.when}: {item.text}" in str(event["DESCRIPTION"])


def test_subject_carries_no_clinical_detail(ruleset, london):
    for areas, prescribed in ((("face",), ("medrol",)), (("body", "hands"), ())):
        job, _ = job_for(ruleset, london, request(areas=areas, prescribed=prescribed))
        subject = parse(render_job(job, ENVELOPE))["Subject"].lower()
        for word in (
            "face",
            "body",
            "hands",
            "medrol",
            "mesotherapy",
            "needle",
            "treatment",
            "ginkgo",
        ):
            assert word not in subject


def test_the_same_input_gives_the_same_bytes(ruleset, london):
    job, _ = job_for(ruleset, london, request())
    first, second = render_job(job, ENVELOPE), render_job(job, ENVELOPE)
    assert first == second
    assert b"\r\n" in first and b"\n" not in first.replace(b"\r\n", b"")


def test_reminder_holds_the_day_s_instructions(ruleset, london):
    req = request()
    job, h = job_for(ruleset, london, req, today=date(2024, 6, 9), reminder_day=date(2024, 6, 9))
    rem = job.reminder
    assert rem.day_of and all(i.phase == "day" for i in rem.day_of)  # the evening before
    assert [i.rule for i in rem.before] == [
        i.rule for i in h.items if i.phase == "before" and i.start.date() == date(2024, 6, 9)
    ]
    msg = parse(render_job(job, ON_THE_9TH))
    assert msg["Subject"] == "A reminder for Sunday 9 June 2024"
    assert not list(msg.iter_attachments())
    text = " ".join(msg.get_body(("plain",)).get_content().split())
    assert "Tomorrow is the day of your treatment:" in text
    assert "Your appointment is at 10:00 on Monday 10 June 2024." in text
    # a day when nothing starts: nothing to send
    assert not m.reminder_items(h, date(2024, 6, 3))
    # ginkgo starts ten days before: its own reminder that day, no day-of items yet
    ten = m.reminder_items(h, date(2024, 5, 31))
    assert "ginkgo-biloba" in [i.rule for i in ten.before] and not ten.day_of


def test_content_hash_ignores_today_and_sees_changes(ruleset, london):
    req = request()
    base = m.handout_content(build_handout(req, ruleset, london, date(2024, 6, 1)), req.email)
    later = m.handout_content(build_handout(req, ruleset, london, date(2024, 6, 8)), req.email)
    assert base.hash == later.hash  # statuses moved on; what the patient is told did not
    for changed in (
        replace(req, date=date(2024, 6, 11)),
        replace(req, time=time(11, 0)),
        replace(req, areas=("face", "neck")),
        replace(req, prescribed=("medrol",)),
    ):
        assert (
            m.handout_content(
                build_handout(changed, ruleset, london, date(2024, 6, 1)), req.email
            ).hash
            != base.hash
        )
    moved = m.handout_content(
        build_handout(replace(req, date=date(2024, 6, 11)), ruleset, london, date(2024, 6, 1)),
        req.email,
    )
    change = m.change_between(base.facts, moved.facts)
    assert change.moved and change.was_date == date(2024, 6, 10) and not change.areas


def test_updated_message_says_so(ruleset, london):
    job, _ = job_for(ruleset, london, request(date=date(2024, 6, 11)))
    job = replace(
        job, change=m.Change(was_date=date(2024, 6, 10), was_time="10:00", moved=True), copy=2
    )
    msg = parse(render_job(job, ENVELOPE))
    assert msg["Subject"].startswith("Updated: your appointment on Tuesday 11 June 2024")
    text = " ".join(msg.get_body(("plain",)).get_content().split())
    assert "Your appointment has moved. It was at 10:00 on Monday 10 June 2024." in text
    assert "This message replaces the one we sent before." in text


def test_appointment_keys():
    assert m.appointment_key(request(appointment_id=" A 77 ")) == "booking:A 77"
    assert m.appointment_key(request()) == "patient:P-1042|2024-06-10|10:00"
    assert m.appointment_key(request(patient_id=None, time=None)).startswith("address:")
    assert "ana" not in m.appointment_key(request(patient_id=None))  # no address in the log


def test_message_ids_are_stable_and_new_for_each_copy():
    content = m.Content("handout", {}, "abc")
    one = m.message_id("booking:1", content, 1, "desk@clinic.test")
    assert one == m.message_id("booking:1", content, 1, "desk@clinic.test")
    assert one != m.message_id("booking:1", content, 2, "desk@clinic.test")
    assert one.endswith("@clinic.test>")


@pytest.mark.parametrize(
    "host, local",
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("[::1]", True),
        ("mail.example.com", False),
        ("10.0.0.5", False),
        ("localhost.example.com", False),
    ],
)
def test_this_machine(host, local):
    assert is_this_machine(host) is local


@pytest.mark.parametrize(
    "address, ok",
    [
        ("a@b.example", True),
        ("a.b+c@x.co.uk", True),
        ("a@b", False),
        ("", False),
        ("a@b.example\r\nBcc: x@y.z", False),
        ("Ana <a@b.example>", False),
        ("a@@b.example", False),
        ("ané@b.example", False),
    ],
)
def test_addresses(address, ok):
    assert valid_address(address) is ok


def _config(tmp_path: Path, email_lines: str) -> Path:
    path = tmp_path / "mesocare.yaml"
    path.write_text(
        "name: Harbour Skin Clinic\ntimezone: Europe/London\nemail:\n" + email_lines,
        encoding="utf-8",
    )
    return path


def test_security_none_to_another_machine_is_refused(tmp_path):
    path = _config(
        tmp_path, "  from: desk@clinic.test\n  host: smtp.clinic.example\n  security: none\n"
    )
    with pytest.raises(ConfigError) as e:
        load_clinic(path)
    assert (
        "line 3" in str(e.value)
        and "security: none" in str(e.value)
        and "smtp.clinic.example" in str(e.value)
    )


def test_email_settings_and_defaults(tmp_path):
    path = _config(
        tmp_path, "  from: desk@clinic.test\n  host: smtp.clinic.example\n  username: desk\n"
    )
    settings = load_clinic(path).mail
    assert (settings.security, settings.port, settings.username) == ("starttls", 587, "desk")
    local = load_clinic(
        _config(tmp_path, "  from: desk@clinic.test\n  host: localhost\n  security: none\n")
    ).mail
    assert local.port == 25
    with pytest.raises(ConfigError, match=r"field 'email\.password'"):
        load_clinic(
            _config(tmp_path, "  from: desk@clinic.test\n  host: h.example\n  password: x\n")
        )
    broken = load_clinic(
        _config(tmp_path, "  from: desk\n  host: h.example\n")
    )  # only mail stops on it
    assert broken.mail is None and broken.email is None
    assert "line 4, field 'email.from': this is not an email address" in broken.mail_problem


def test_email_alone_is_the_clinic_s_address_and_sends_nothing(tmp_path):
    path = tmp_path / "mesocare.yaml"
    path.write_text("name: X\ntimezone: Europe/London\nemail: desk@clinic.test\n", encoding="utf-8")
    clinic = load_clinic(path)
    assert clinic.email == "desk@clinic.test" and clinic.mail is None
    with_server = _config(tmp_path, "  from: desk@clinic.test\n  host: smtp.clinic.example\n")
    assert load_clinic(with_server).email == "desk@clinic.test"  # the calendar's organizer too
    path.write_text("name: X\nemail: not an address\n", encoding="utf-8")
    assert "line 2, field 'email.from'" in load_clinic(path).mail_problem


def test_messages_read_at_grade_8_or_below(ruleset, london):
    from mesocare.checks import MAX_GRADE, reading_grade

    for reminder_day in (None, date(2024, 6, 9)):
        job, _ = job_for(ruleset, london, request(), reminder_day=reminder_day)
        text = parse(render_job(job, ENVELOPE)).get_body(("plain",)).get_content()
        assert reading_grade(text) <= MAX_GRADE
    moved = replace(
        job_for(ruleset, london, request())[0],
        change=m.Change(was_date=date(2024, 6, 3), moved=True),
    )
    assert (
        reading_grade(parse(render_job(moved, ENVELOPE)).get_body(("plain",)).get_content())
        <= MAX_GRADE
    )


def test_the_message_is_in_the_patient_s_language(ruleset, london):
    from pypdf import PdfReader

    job, h = job_for(ruleset, london, request(language="fr"))
    assert h.language == "fr-FR"
    msg = parse(render_job(job, ENVELOPE))
    assert msg["Subject"] == "Votre rendez-vous du lundi 10 juin 2024\u00a0: vos consignes"
    assert msg["Content-Language"] == "fr-FR"
    text = " ".join(msg.get_body(("plain",)).get_content().split())
    assert text.startswith("Bonjour Ana <b>Lopez</b>,")
    assert "Votre rendez-vous chez Harbour Skin Clinic est le lundi 10 juin 2024 à 10:00." in text
    assert "Appelez-nous au 020 7946 0000." in text
    for english in ("Your appointment", "Questions?", "The first thing", "attached"):
        assert english not in text
    html = msg.get_body(("html",)).get_content()
    assert '<html lang="fr-FR">' in html and "Bonjour Ana &lt;b&gt;Lopez&lt;/b&gt;," in html
    pdf = next(
        p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"
    ).get_content()
    assert "lundi 10 juin 2024" in " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages
    )
    reminder, _ = job_for(
        ruleset,
        london,
        request(language="es"),
        today=date(2024, 6, 9),
        reminder_day=date(2024, 6, 9),
    )
    msg = parse(render_job(reminder, ON_THE_9TH))
    assert msg["Subject"] == "Un recordatorio para el domingo, 9 de junio de 2024"
    text = " ".join(msg.get_body(("plain",)).get_content().split())
    assert "Mañana es el día de su tratamiento:" in text and "Tomorrow" not in text


# --------------------------------------------------------------------------- addresses (issue 21)

BAD_ADDRESSES = [
    "[zelda@example.org",
    "zelda@example.org.",
    "@zelda.example.org",
    "a@b..com",
    "zelda@example.org]",
    "zel da@example.org",
    "zelda@exa mple.org",
    "zelda@example.org\x00",
    "zel\x7fda@example.org",
    "zelda.@example.org",
    ".zelda@example.org",
    "ze..lda@example.org",
    "zelda@-example.org",
    "zelda@example-.org",
    "zelda@.example.org",
    "zelda@example.org\r\nBcc: a@b.example",
    '"zelda"@example.org',
    "zelda@[192.0.2.1]",
    "zelda(x)@example.org",
    "zelda@exämple.org",
    "x" * 65 + "@example.org",
    "zelda@" + "a" * 250 + ".org",
    "zelda@example",
    "zelda@example.o",
]


@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_malformed_addresses_are_not_valid(address):
    assert valid_address(address) is False


@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_a_malformed_clinic_address_is_one_sentence_naming_the_field(tmp_path, address):
    """Read without a traceback; the sentence for the mail commands names the field, not the
    value."""
    quoted = (
        '"'
        + address.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\r", "\\r")
        .replace("\n", "\\n")
        .replace("\x00", "\\0")
        .replace("\x7f", "\\x7f")
        + '"'
    )
    for field in ("from", "reply_to"):
        lines = f"  from: {quoted if field == 'from' else 'desk@clinic.test'}\n  host: h.example\n"
        lines += f"  reply_to: {quoted}\n" if field == "reply_to" else ""
        clinic = load_clinic(_config(tmp_path, lines))
        assert clinic.mail is None and (clinic.email is None) is (field == "from")
        problem = clinic.mail_problem
        assert f"field 'email.{field}'" in problem and "mesocare.yaml" in problem
        assert address.strip() not in problem and "zelda" not in problem


def test_the_clinic_address_may_carry_a_display_name(tmp_path):
    lines = '  from: "Harbour Skin Clinic <care@harbour.example>"\n  host: h.example\n'
    clinic = load_clinic(_config(tmp_path, lines))
    assert clinic.email == "care@harbour.example" and clinic.mail.sender == "care@harbour.example"


def test_address_checks_never_raise_on_any_text():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from mesocare.addresses import parse_mailbox

    pieces = st.sampled_from(
        [
            "zelda",
            "@",
            ".",
            "[",
            "]",
            "<",
            ">",
            '"',
            " ",
            "\\",
            "(",
            ")",
            ",",
            ";",
            ":",
            "example",
            "org",
            "-",
            "\r\n",
            "\x00",
            "é",
            "=?utf-8?q?x?=",
            "xn--",
        ]
    )
    text = st.one_of(st.text(max_size=60), st.lists(pieces, max_size=14).map("".join))

    @settings(max_examples=400, deadline=None)
    @given(text)
    def check(value):
        ok = valid_address(value)
        mailbox = parse_mailbox(value)
        if ok:  # a valid address is what a mail server and the email package read back unchanged
            from email.headerregistry import Address

            assert Address(addr_spec=value.strip()).addr_spec == value.strip() and mailbox == (
                "",
                value.strip(),
            )
        if mailbox is not None:
            assert valid_address(mailbox[1])

    check()


@pytest.mark.parametrize("reminder_day", [None, date(2024, 6, 9)])
def test_the_email_gives_the_emergency_number_beside_the_phone_and_the_late_steps_as_a_list(
    ruleset, london, reminder_day
):
    """Issue 22: the emergency number of the clinic's country in the message body (handout
    and reminder), text and HTML; the late-booking banner as a lead and a list."""
    clinic = replace(london, country="GB")
    job, _h = job_for(
        ruleset,
        clinic,
        request(booked=date(2024, 6, 5)),
        today=date(2024, 6, 5),
        reminder_day=reminder_day,
    )
    msg = parse(render_job(job, ENVELOPE))
    text = " ".join(msg.get_body(("plain",)).get_content().split())
    html = msg.get_body(("html",)).get_content()
    line = (
        "Emergency: if you have trouble breathing, swelling of the lips, tongue or throat, "
        "or you faint, call 999 or 112 at once."
    )
    assert line in text and line in " ".join(html.split())
    assert text.index("020 7946 0000") < text.index(line)
    if reminder_day is None:
        body = msg.get_body(("plain",)).get_content()
        assert "  - ginkgo biloba (from Friday 31 May 2024)" in body
        assert re.search(r"<li[^>]*>ginkgo biloba \(from Friday 31 May 2024\)</li>", html)
