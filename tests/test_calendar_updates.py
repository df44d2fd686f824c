"""A moved appointment moves in the patient's calendar (issue 23).

Each calendar file sent for an appointment is imported, in the order sent, into a calendar
that applies RFC 5546's rule to each event the way Thunderbird applies it to one (a reference
implementation written from Thunderbird's source, ``calItipUtils``; Thunderbird itself opens
the same messages in ``test_thunderbird.py``, where it updates only the file's first event,
the appointment):

- ``compare(new, old)``: ``compareSequence``, and when the SEQUENCEs are equal
  ``compareStamp`` (DTSTAMP); a missing DTSTAMP is older than any;
- ``processFoundItems``, method PUBLISH: an event whose UID the calendar holds is replaced
  only when ``compare(new, found) > 0``; an unknown UID is added. The SEQUENCE and DTSTAMP
  compared against later are the ones received (``X-MOZ-RECEIVED-SEQUENCE``/``-DTSTAMP``).

The messages are sent for real (``outbox.run`` through the test SMTP server) and the files are
the attachments the server received; libical checks each one too.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import icalendar
import pytest

import libical
from mailserver import PASSWORD, MailServer
from mesocare.mail.outbox import run
from mesocare.readers import read_schedule
from test_mail_send import HEADER, clinic_for

TODAY = date(2024, 6, 1)


class ThunderbirdCalendar:
    """Events by UID, updated by calitip.compare as Thunderbird's iTIP PUBLISH handling does."""

    def __init__(self):
        self.events: dict[str, icalendar.Event] = {}
        self.received: dict[str, tuple[int, datetime | None]] = {}
        self.ignored = 0

    @staticmethod
    def _revision(event) -> tuple[int, datetime | None]:
        stamp = event.get("DTSTAMP")
        return int(event.get("SEQUENCE", 0)), stamp.dt if stamp is not None else None

    @staticmethod
    def compare(new: tuple[int, datetime | None], old: tuple[int, datetime | None]) -> int:
        """+1 when ``new`` is newer (calitip.compare: compareSequence, then compareStamp)."""
        if new[0] != old[0]:
            return 1 if new[0] > old[0] else -1
        if new[1] and old[1]:
            return (new[1] > old[1]) - (new[1] < old[1])
        return (new[1] is not None) - (old[1] is not None)

    def import_file(self, data: bytes) -> None:
        for event in icalendar.Calendar.from_ical(data).walk("VEVENT"):
            uid = str(event["UID"])
            revision = self._revision(event)
            if uid in self.events and self.compare(revision, self.received[uid]) <= 0:
                self.ignored += 1
                continue
            self.events[uid], self.received[uid] = event, revision

    def appointment_start(self) -> datetime:
        (event,) = [e for e in self.events.values() if str(e["X-MESOCARE-EVENT"]) == "appointment"]
        return event["DTSTART"].dt


def test_the_reference_follows_thunderbird_s_rule():
    t1 = datetime(2024, 6, 1, 9, tzinfo=timezone.utc)
    t2 = datetime(2024, 6, 1, 10, tzinfo=timezone.utc)
    compare = ThunderbirdCalendar.compare
    assert compare((1, t1), (0, t2)) == 1  # a higher SEQUENCE wins whatever the stamp
    assert compare((0, t2), (1, t1)) == -1
    assert compare((0, t2), (0, t1)) == 1  # same SEQUENCE: the later DTSTAMP
    assert compare((0, t1), (0, t1)) == 0  # the same copy again: ignored
    assert compare((0, t1), (0, None)) == 1


@pytest.fixture
def server(tmp_path):
    srv = MailServer(tmp_path).start()
    yield srv
    srv.stop()


def send(tmp_path, server, ruleset, csv: str, now: datetime) -> None:
    clinic = clinic_for(tmp_path, server)
    schedule = read_schedule((HEADER + csv).encode(), clinic, filename="s.csv")
    errors: list[str] = []
    code = run(
        "send", schedule, ruleset, clinic, TODAY, now=now, err=errors.append, password=PASSWORD
    )
    assert code == 0, errors


def calendar_files(server) -> list[bytes]:
    files = []
    for received in server.inbox:
        parts = received.message.iter_attachments()
        (part,) = [p for p in parts if p.get_content_type() == "text/calendar"]
        files.append(part.get_payload(decode=True))
    return files


def row(at: str, booking: str) -> str:
    return f"2024-06-10,{at},face,Ana Lopez,P-1,{booking},ana@example.com\n"


@pytest.mark.parametrize("booking", ["A-77", ""], ids=["booking id", "patient id only"])
def test_a_move_made_the_same_day_and_a_second_one_reach_the_calendar(
    tmp_path, server, ruleset, booking
):
    # booked at 10:00, moved to 11:30 an hour later, then to 15:00 in the afternoon: one day
    moves = [
        ("10:00", datetime(2024, 6, 1, 9, 0, 5, tzinfo=timezone.utc)),
        ("11:30", datetime(2024, 6, 1, 10, 12, 40, tzinfo=timezone.utc)),
        ("15:00", datetime(2024, 6, 1, 16, 3, 1, tzinfo=timezone.utc)),
    ]
    calendar, stamps = ThunderbirdCalendar(), []
    for n, (at, now) in enumerate(moves, start=1):
        send(tmp_path, server, ruleset, row(at, booking), now)
        files = calendar_files(server)
        assert len(files) == n
        calendar.import_file(files[-1])
        local = calendar.appointment_start()
        kept = f"the calendar kept {local:%H:%M} after the move to {at}"
        assert local.strftime("%H:%M") == at, kept
        text = files[-1].decode()
        assert not libical.available() or libical.problems(text) == []
        stamps.append({e["DTSTAMP"].dt for e in icalendar.Calendar.from_ical(text).walk("VEVENT")})
    assert stamps == [{now} for _, now in moves]  # DTSTAMP: when each copy was made
    # the mail says the same as the calendar; opening the first file again changes nothing
    calendar.import_file(calendar_files(server)[0])
    assert calendar.appointment_start().strftime("%H:%M") == "15:00"


def test_each_copy_s_sequence_counts_the_copies_before_it(tmp_path, server, ruleset):
    now = datetime(2024, 6, 1, 9, tzinfo=timezone.utc)
    for at in ("10:00", "11:30", "15:00"):
        # the same second: SEQUENCE alone decides
        send(tmp_path, server, ruleset, row(at, "A-77"), now)
    sequences = [
        {int(e["SEQUENCE"]) for e in icalendar.Calendar.from_ical(f).walk("VEVENT")}
        for f in calendar_files(server)
    ]
    assert sequences == [{0}, {1}, {2}]
    calendar = ThunderbirdCalendar()
    for data in calendar_files(server):
        calendar.import_file(data)
    assert calendar.appointment_start().strftime("%H:%M") == "15:00"


def test_updates_thread_under_the_first_message(tmp_path, server, ruleset):
    now = datetime(2024, 6, 1, 9, tzinfo=timezone.utc)
    for at in ("10:00", "11:30", "15:00"):
        send(tmp_path, server, ruleset, row(at, "A-77"), now)
    first, second, third = (r.message for r in server.inbox)
    assert first["In-Reply-To"] is None and first["References"] is None
    assert second["In-Reply-To"] == first["Message-ID"] == second["References"]
    assert third["In-Reply-To"] == second["Message-ID"]
    assert third["References"].split() == [first["Message-ID"], second["Message-ID"]]


def test_a_sent_log_from_before_threads_knows_no_first_message(tmp_path):
    import sqlite3

    from mesocare.mail.sentlog import SCHEMA, SentLog

    db = sqlite3.connect(tmp_path / "sent.sqlite3")
    db.executescript(SCHEMA.replace("    first_message_id TEXT,\n", ""))  # the log before threads
    db.execute(
        "INSERT INTO sent VALUES ('booking:A', 'handout', 'h', '{}', '<one@x>', 1, 'then',"
        " 'accepted')"
    )
    db.commit()
    db.close()
    with SentLog(tmp_path, readonly=True) as log:  # a dry run reads it as it is
        assert log.get("booking:A", "handout").first_message_id is None
    with SentLog(tmp_path) as log:
        assert log.get("booking:A", "handout").message_id == "<one@x>"
        log.record("booking:A", "handout", "h2", {}, "<two@x>", 2)
        log.record("booking:B", "handout", "h", {}, "<b1@x>", 1)
        log.record("booking:B", "handout", "h2", {}, "<b2@x>", 2)
        assert log.get("booking:A", "handout").first_message_id == "<two@x>"
        assert log.get("booking:B", "handout").first_message_id == "<b1@x>"
