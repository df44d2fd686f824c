"""Sending to a real SMTP server (aiosmtpd, STARTTLS with a trustme CA, AUTH): exactly once,
updates, retries, refusals, a server that goes away, dry runs."""

from __future__ import annotations

import threading
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from mailserver import PASSWORD, MailServer
from mesocare.config.clinic import load_clinic
from mesocare.errors import ConfigError
from mesocare.mail.outbox import run
from mesocare.mail.sentlog import SentLog
from mesocare.readers import read_schedule

TODAY = date(2024, 6, 1)
HEADER = "date,time,area,name,patient_id,appointment_id,email\n"


@pytest.fixture
def server(tmp_path):
    srv = MailServer(tmp_path).start()
    yield srv
    srv.stop()


def clinic_for(tmp_path: Path, server: MailServer, **email):
    path = tmp_path / "mesocare.yaml"
    path.write_text(server.config(**email), encoding="utf-8")
    return load_clinic(path)


def rows(n: int, day: str = "2024-06-10", area: str = "face", start: int = 0) -> str:
    return "".join(
        f"{day},{9 + (i // 12) % 9:02d}:{(i * 5) % 60:02d},{area},Patient "
        f"{i},P-{i},A-{i},p{i}@example.com\n"
        for i in range(start, start + n)
    )


class Run:
    def __init__(self, tmp_path, server, ruleset, **email):
        self.tmp, self.server, self.ruleset = tmp_path, server, ruleset
        self.clinic = clinic_for(tmp_path, server, **email)
        self.err: list[str] = []

    def __call__(
        self,
        csv: str,
        command: str = "send",
        today: date = TODAY,
        password: str | None = PASSWORD,
        data: bytes | None = None,
        filename: str = "s.csv",
        **kw,
    ) -> int:
        self.err = []
        schedule = read_schedule(data or (HEADER + csv).encode(), self.clinic, filename=filename)
        return run(
            command,
            schedule,
            self.ruleset,
            self.clinic,
            today,
            now=datetime(2024, 6, 1, 9, tzinfo=timezone.utc),
            err=self.err.append,
            password=password,
            **kw,
        )

    @property
    def stderr(self) -> str:
        return "\n".join(self.err)

    def log(self) -> SentLog:
        return SentLog(self.tmp / "state", readonly=True)


@pytest.fixture
def go(tmp_path, server, ruleset):
    return Run(tmp_path, server, ruleset)


def recipients(server) -> list[str]:
    return [r.rcpt_tos[0] for r in server.inbox]


def test_sends_once_and_a_rerun_sends_nothing(go, server):
    csv = rows(5) + "2024-06-10,10:00,neck,No Mail,P-x,A-x,\n"
    assert go(csv) == 0
    assert sorted(recipients(server)) == [f"p{i}@example.com" for i in range(5)]
    assert "5 handout messages sent." in go.stderr
    assert "1 without an email address: print theirs (row 7)." in go.stderr
    assert server.logins and all(login == "desk@clinic.test" for login, _ in server.logins)
    first = [r.data for r in server.inbox]
    for r in server.inbox:  # STARTTLS was required by the server; each message is whole
        assert r.message["Subject"] == "Your appointment on Monday 10 June 2024: your instructions"
        assert {p.get_content_type() for p in r.message.iter_attachments()} == {
            "application/pdf",
            "text/calendar",
        }
        calendar = next(
            p for p in r.message.iter_attachments() if p.get_content_type() == "text/calendar"
        )
        assert (
            calendar.get_param("method") == "PUBLISH"
            and b"ORGANIZER" in calendar.get_content().encode()
        )
    assert go(csv) == 0
    assert len(server.inbox) == 5 and [r.data for r in server.inbox] == first
    assert "5 already sent before, unchanged" in go.stderr
    with go.log() as log:
        assert log.count() == 5 and log.get("booking:A-0", "handout").copies == 1


def test_a_changed_appointment_gets_one_updated_message(go, server):
    assert go(rows(3)) == 0
    moved = rows(3).replace("2024-06-10,09:05,face,Patient 1", "2024-06-12,14:00,face,Patient 1")
    moved = moved.replace("Patient 2,P-2,A-2", "Patient 2,P-2,A-2").replace(
        "2024-06-10,09:10,face", "2024-06-10,09:10,face+neck"
    )
    assert go(moved) == 0
    assert "2 handout messages sent (2 of them updates)." in go.stderr
    assert go(moved) == 0 and len(server.inbox) == 5
    by_subject = [(r.rcpt_tos[0], r.message["Subject"]) for r in server.inbox[3:]]
    assert (
        "p1@example.com",
        "Updated: your appointment on Wednesday 12 June 2024: your instructions",
    ) in by_subject
    later = {
        r.rcpt_tos[0]: " ".join(r.message.get_body(("plain",)).get_content().split())
        for r in server.inbox[3:]
    }
    text1, text2 = later["p1@example.com"], later["p2@example.com"]
    assert "Your appointment has moved. It was at 09:05 on Monday 10 June 2024." in text1
    assert "The area to be treated has changed" in text2
    assert len({r.message["Message-ID"] for r in server.inbox}) == 5


def test_resend_forces_another_copy(go, server):
    assert go(rows(2)) == 0
    assert go(rows(2), resend=True) == 0
    assert len(server.inbox) == 4
    ids = {r.message["Message-ID"] for r in server.inbox}
    assert len(ids) == 4  # a forced copy is a new message, not one a mail system would fold
    with go.log() as log:
        assert log.get("booking:A-1", "handout").copies == 2


@pytest.mark.parametrize("answer", ["421 4.3.2 Service shutting down", "451 4.3.0 Try again later"])
def test_temporary_refusals_are_retried(go, server, answer):
    refused = set()

    def replies(n, envelope):
        if envelope.rcpt_tos[0] == "p1@example.com" and len(refused) < 2:
            refused.add(n)
            return answer
        return None

    server.replies = replies
    assert go(rows(3)) == 0
    assert sorted(recipients(server)) == ["p0@example.com", "p1@example.com", "p2@example.com"]
    assert server.offered == 5


def test_a_temporary_refusal_that_lasts_fails_the_row_and_the_next_run_sends_it(go, server):
    server.replies = lambda n, e: (
        "451 4.7.1 Greylisted <p1@example.com>" if e.rcpt_tos[0] == "p1@example.com" else None
    )
    assert go(rows(3)) == 3
    assert recipients(server) == ["p0@example.com", "p2@example.com"]
    assert (
        "row 3: not sent (451 4.7.1 Greylisted <address>); it will be tried again on the next run"
        in go.stderr
    )
    assert "p1@example.com" not in go.stderr and "Patient" not in go.stderr
    assert server.offered == 2 + 3  # retried twice (retries: 2)
    server.replies = None
    assert go(rows(3)) == 0
    assert sorted(recipients(server)) == ["p0@example.com", "p1@example.com", "p2@example.com"]


def test_a_permanent_refusal_is_not_retried(go, server):
    server.replies = lambda n, e: (
        "550 5.1.1 <p1@example.com>: Recipient address rejected"
        if e.rcpt_tos[0] == "p1@example.com"
        else None
    )
    assert go(rows(3)) == 3
    assert server.offered == 3
    assert (
        "row 3: refused by the mail server (550 5.1.1 <address>: Recipient address rejected); "
        "not retried" in go.stderr
    )
    with go.log() as log:
        assert log.get("booking:A-1", "handout") is None and log.count() == 2


def test_a_connection_dropped_after_the_data_is_unconfirmed_and_never_sent_again_on_its_own(
    go, server
):
    """The server took the whole message and closed without answering: it may have been
    delivered, so it is not retried in the run, nor sent by later runs, until asked."""
    server.replies = lambda n, e: "drop" if n == 2 else None
    assert go(rows(3)) == 3
    assert server.offered == 3  # row 3 went once, not retries + 1 times
    assert sorted(recipients(server)) == ["p0@example.com", "p2@example.com"]
    assert "2 handout messages sent." in go.stderr
    assert (
        "1 message went to the mail server without an answer (row 3): it may have been delivered"
        in go.stderr
    )
    assert "--resend-unconfirmed" in go.stderr and "p1@example.com" not in go.stderr
    with go.log() as log:
        assert log.get("booking:A-1", "handout").unconfirmed
    server.replies = None
    assert go(rows(3)) == 3 and server.offered == 3  # a later run holds it, and says so
    assert "1 message went to the mail server before without an answer (row 3)" in go.stderr
    assert go(rows(3), resend_unconfirmed=True) == 0
    assert sorted(recipients(server)) == ["p0@example.com", "p1@example.com", "p2@example.com"]
    assert go(rows(3), resend_unconfirmed=True) == 0 and server.offered == 4  # once
    ids = [r.message["Message-ID"] for r in server.inbox]
    assert len(set(ids)) == 3


def test_the_server_stopped_mid_run_then_a_rerun_sends_the_rest_once(go, server):
    def replies(n, envelope):
        if n == 3:
            threading.Thread(target=server.stop).start()
            return "drop"
        return None

    server.replies = replies
    assert go(rows(6)) == 3
    assert len(server.inbox) == 2
    assert "could not be reached" in go.stderr
    assert "without an answer (row 4)" in go.stderr  # its data went out: maybe delivered
    for position in ("row 5", "row 6", "row 7"):
        assert f"{position}: not sent" in go.stderr
    with go.log() as log:
        assert log.count() == 3
    server.replies = None
    server.start()
    assert go(rows(6)) == 3  # the rest, once; row 4 is held
    assert go(rows(6), resend_unconfirmed=True) == 0
    assert sorted(recipients(server)) == sorted(f"p{i}@example.com" for i in range(6))


def test_reminders_once_per_day(go, server):
    csv = rows(2) + rows(1, day="2024-06-20", start=5)
    assert go(csv, command="remind", today=date(2024, 6, 9), day=date(2024, 6, 9)) == 0
    assert sorted(recipients(server)) == ["p0@example.com", "p1@example.com"]
    assert server.inbox[0].message["Subject"] == "A reminder for Sunday 9 June 2024"
    assert "1 with nothing starting that day." in go.stderr
    assert go(csv, command="remind", today=date(2024, 6, 9), day=date(2024, 6, 9)) == 0
    assert len(server.inbox) == 2
    # the appointment of the 20th: ginkgo and willow bark stop ten days before, on the 10th
    assert go(csv, command="remind", today=date(2024, 6, 10), day=date(2024, 6, 10)) == 0
    assert recipients(server)[2:] == ["p5@example.com"]
    text = " ".join(server.inbox[2].message.get_body(("plain",)).get_content().split())
    assert (
        "Starting today: - From Monday 10 June 2024: Stop taking any supplements that have "
        "ginkgo biloba" in text
    )


def test_a_new_rule_set_that_changes_the_plan_sends_an_update(go, server, tmp_path):
    from conftest import GOOD_RULE
    from mesocare.resources import instructions_dir
    from mesocare.rules import load_ruleset

    assert go(rows(2)) == 0
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ours.yaml").write_text(GOOD_RULE, encoding="utf-8")
    go.ruleset = load_ruleset([(instructions_dir(), "mesocare"), (rules, "clinic")])
    assert go(rows(2)) == 0
    assert len(server.inbox) == 4
    text = " ".join(server.inbox[3].message.get_body(("plain",)).get_content().split())
    assert "Your instructions have changed. This message replaces the one we sent before." in text
    assert go(rows(2)) == 0 and len(server.inbox) == 4


def test_dry_run_writes_byte_stable_eml_and_sends_nothing(go, server, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    assert go(rows(3), dry_run=one) == 0
    assert go(rows(3), dry_run=two) == 0
    names = sorted(p.name for p in one.iterdir())
    assert names == [
        "2024-06-10_0900_P-0.instructions.eml",
        "2024-06-10_0905_P-1.instructions.eml",
        "2024-06-10_0910_P-2.instructions.eml",
    ]
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes()
    assert server.inbox == [] and server.offered == 0
    assert not (tmp_path / "state" / "sent.sqlite3").exists()
    assert "3 handout messages written as 3 .eml files, not sent." in go.stderr
    # the dry run's content is the real one's
    assert go(rows(3)) == 0
    sent = {r.rcpt_tos[0]: r.data for r in server.inbox}
    dry = (one / names[0]).read_bytes()
    assert _but_when(dry) == _but_when(sent["p0@example.com"])


def _but_when(raw: bytes) -> list:
    """A message's headers and decoded parts, without the moment it was made (the Date
    header, the calendar's DTSTAMP): a dry run is stamped at midnight, a real one when sent."""
    import email
    import email.policy
    import re

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = []
    for part in msg.walk():
        body = None if part.is_multipart() else part.get_payload(decode=True)
        if part.get_content_type() == "text/calendar":
            body = re.sub(rb"\r\nDTSTAMP:[0-9TZ]+", b"", body)
        out.append(([(k, v) for k, v in part.items() if k != "Date"], body))
    return out


def test_wrong_password_stops_with_the_server_s_answer(go, server):
    assert go(rows(2), password="not-the-password") == 3
    assert "Stopped: the mail server 127.0.0.1" in go.stderr and "refused the login" in go.stderr
    assert "535" in go.stderr and "MESOCARE_SMTP_PASSWORD" in go.stderr
    assert "row 2: not sent (the run stopped first)" in go.stderr and "row 3: not sent" in go.stderr
    assert "not-the-password" not in go.stderr and PASSWORD not in go.stderr
    assert server.inbox == []
    with pytest.raises(ConfigError, match="MESOCARE_SMTP_PASSWORD"):
        go(rows(2), password=None)


def test_an_untrusted_certificate_is_refused(tmp_path, server, ruleset):
    go = Run(tmp_path, server, ruleset, ca_file=None)
    assert go(rows(1)) == 3
    assert (
        "certificate could not be verified" in go.stderr and "0 handout messages sent." in go.stderr
    )
    assert server.inbox == []


def test_no_starttls_no_mail(tmp_path, ruleset):
    plain = MailServer(tmp_path, starttls=False, auth=False).start()
    try:
        go = Run(tmp_path, plain, ruleset, security="starttls")
        assert go(rows(1)) == 3
        assert "does not offer STARTTLS" in go.stderr
        assert plain.inbox == []
    finally:
        plain.stop()


def test_a_corrected_address_gets_the_message_as_a_first_one(go, server):
    assert go(rows(1)) == 0
    assert go(rows(1).replace("p0@example.com", "p0.new@example.com")) == 0
    assert recipients(server) == ["p0@example.com", "p0.new@example.com"]
    assert (
        server.inbox[1].message["Subject"]
        == "Your appointment on Monday 10 June 2024: your instructions"
    )
    assert "updates" not in go.stderr


def test_a_bad_address_is_named_not_sent(go, server):
    assert go(rows(1) + "2024-06-10,10:00,face,X,P-9,A-9,not-an-address\n") == 3
    assert "row 3, email: the email address is not valid: nothing sent" in go.stderr
    assert "not-an-address" not in go.stderr and len(server.inbox) == 1


def test_worker_processes_give_the_same_bytes(go, server, tmp_path, monkeypatch):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    monkeypatch.setenv("MESOCARE_PDF_WORKERS", "1")
    assert go(rows(30), dry_run=one) == 0
    monkeypatch.setenv("MESOCARE_PDF_WORKERS", "2")
    assert go(rows(30), dry_run=two) == 0
    names = sorted(p.name for p in one.iterdir())
    assert len(names) == 30 and names == sorted(p.name for p in two.iterdir())
    assert all((one / n).read_bytes() == (two / n).read_bytes() for n in names)


def test_two_runs_take_turns_on_the_lock(tmp_path):
    from mesocare.mail.sentlog import run_lock

    order: list[str] = []
    first_in = threading.Event()
    release = threading.Event()

    def first():
        with run_lock(tmp_path):
            order.append("first in")
            first_in.set()
            release.wait(10)
            order.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(10)

    def waiting():
        order.append("second waits")
        release.set()

    with run_lock(tmp_path, waiting=waiting):
        order.append("second in")
    thread.join(10)
    assert order == ["first in", "second waits", "first out", "second in"]


def test_tls_from_the_start(tmp_path, ruleset):
    server = MailServer(tmp_path, implicit_tls=True).start()
    try:
        go = Run(tmp_path, server, ruleset)
        assert go.clinic.mail.security == "tls"
        assert go(rows(2)) == 0
        assert recipients(server) == ["p0@example.com", "p1@example.com"]
    finally:
        server.stop()


def test_security_none_to_this_machine_sends_in_plain(tmp_path, ruleset):
    server = MailServer(tmp_path, starttls=False, auth=False).start()
    try:
        go = Run(tmp_path, server, ruleset, ca_file=None)
        assert go.clinic.mail.security == "none"
        assert go(rows(1)) == 0 and recipients(server) == ["p0@example.com"]
    finally:
        server.stop()


ICS = """BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:visit-1@desk\r\n\
DTSTAMP:20240601T000000Z\r\n\
DTSTART:20240610T090000Z\r\nX-MESOCARE-AREA:face\r\n\
ATTENDEE;CN="Ana Example":mailto:ana@example.com\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:visit-2@desk\r\nDTSTAMP:20240601T000000Z\r\nDTSTART:20240610T100000Z\r\nX-MESOCARE-AREA:neck\r\n\
END:VEVENT\r\nEND:VCALENDAR\r\n"""
HL7 = (
    "\r".join(
        [
            r"MSH|^~\&|DESK|HARBOUR|MESOCARE|HARBOUR|20240601091200||SIU^S12|M1|P|2.5",
            "SCH|A1|F1||||||MESO-FACE|||^^30^20240610100000",
            "PID|1||C-0001||Example^Ana||||||||^PRN^PH^^^^0123~^NET^Internet^ana@example.com",
        ]
    )
    + "\r"
)


@pytest.mark.parametrize(
    "data, filename", [(ICS.encode(), "day.ics"), (HL7.encode(), "day.hl7")], ids=["ics", "hl7"]
)
def test_addresses_from_other_schedule_formats(tmp_path, server, ruleset, data, filename):
    path = tmp_path / "mesocare.yaml"
    path.write_text(server.config() + "services:\n  MESO-FACE: {area: face}\n", encoding="utf-8")
    go = Run(tmp_path, server, ruleset)
    go.clinic = load_clinic(path)
    assert go("", data=data, filename=filename) == 0, go.stderr
    assert recipients(server) == ["ana@example.com"]
    assert go("", data=data, filename=filename) == 0 and len(server.inbox) == 1


# -------------------------------------------------------------------- who the patient is (issue 21)


@pytest.mark.parametrize(
    "second",
    [
        # all but the booking id differ
        "2024-06-11,14:00,face,Other Person,P-77,A-1,other.person@example.net",
        "2024-06-11,14:00,face,Other Person,P-77,A-1,p1@example.com",  # a family's shared address
        # and the same time: the same plan
        "2024-06-10,09:05,face,Other Person,P-77,A-1,p1@example.com",
        "2024-06-11,14:00,face,Other Person,,A-1,p1@example.com",  # no patient ids: the name tells
    ],
)
def test_a_booking_id_reused_for_another_patient_is_a_new_appointment(go, server, second):
    patient_id = "" if ",,A-1" in second else "P-1"
    first = f"2024-06-10,09:05,face,Patient 1,{patient_id},A-1,p1@example.com\n"
    assert go(first) == 0 and len(server.inbox) == 1
    assert go(second + "\n") == 0
    assert len(server.inbox) == 2, go.stderr
    assert "update" not in go.stderr
    message = server.inbox[1].message
    text = " ".join(message.get_body(("plain",)).get_content().split())
    assert (
        not message["Subject"].startswith("Updated")
        and "moved" not in text
        and "It was at" not in text
    )
    assert "Hello Other Person," in text and "Patient 1" not in text
    if not second.startswith("2024-06-10,09:05"):
        assert "09:05" not in text  # nothing of the first patient's appointment
    with go.log() as log:
        facts = log.get("booking:A-1", "handout").facts
        assert "Other" not in str(facts) and "P-77" not in str(facts)  # hashed, never plain


def test_the_same_patient_behind_the_same_booking_id_still_gets_an_update(go, server):
    assert go("2024-06-10,09:05,face,Patient 1,P-1,A-1,p1@example.com\n") == 0
    assert (
        go("2024-06-11,14:00,face,Patient  1,P-1,A-1,p1@example.com\n") == 0
    )  # the same patient id
    assert "1 handout message sent (1 of them updates)." in go.stderr
