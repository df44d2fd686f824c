"""A move made the same day reaches the patient's calendar in Thunderbird itself (issue 23).

Debian's Thunderbird (ESR) runs headless here, driven through Marionette (``thunderbird.py``,
started once for this module on a fresh profile). The messages are sent for real
(``outbox.run`` through the test SMTP server); each calendar attachment the server received is
opened as Thunderbird's event bar opens one: its own iTIP code (``cal.itip.processItipItem``)
finds the event by UID and offers "Add", "Update" or nothing, the offered action is applied to
a local calendar, and the events are read back from that calendar.

``./scripts/test`` installs ``thunderbird`` as root; without it these tests skip and say so.
When it is installed and does not start, they fail and say why.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime, timezone

import icalendar
import pytest

from mailserver import PASSWORD, MailServer
from mesocare.mail.outbox import run
from mesocare.readers import read_schedule
from test_mail_send import HEADER, clinic_for
from thunderbird import Thunderbird

pytestmark = [
    pytest.mark.xdist_group("thunderbird"),  # one worker: Thunderbird starts once
    # marionette_driver's dependencies (mozinfo, mozrunner) use deprecated standard modules
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

TODAY = date(2024, 6, 1)
ADDED = "The event has been added to your calendar."
UPDATED = "The event has been updated."


@pytest.fixture(scope="module")
def thunderbird():
    executable = shutil.which("thunderbird")
    if executable is None:
        pytest.skip("thunderbird is not installed (./scripts/test installs it as root)")
    app = Thunderbird(executable)
    try:
        app.start()
    except Exception as e:  # noqa: BLE001 - installed but not working: the test fails, saying why
        app.stop()
        pytest.fail(f"thunderbird is installed but did not start headless: {e}", pytrace=False)
    yield app
    app.stop()
    assert app.profile is not None and not app.profile.exists()  # no stray profile


@pytest.fixture
def server(tmp_path):
    srv = MailServer(tmp_path).start()
    yield srv
    srv.stop()


def send(tmp_path, server, ruleset, at: str, booking: str, now: datetime) -> None:
    clinic = clinic_for(tmp_path, server)
    csv = f"2024-06-10,{at},face,Ana Lopez,P-1,{booking},ana@example.com\n"
    schedule = read_schedule((HEADER + csv).encode(), clinic, filename="s.csv")
    errors: list[str] = []
    code = run(
        "send", schedule, ruleset, clinic, TODAY, now=now, err=errors.append, password=PASSWORD
    )
    assert code == 0, errors


def attachments(server) -> list[tuple[str, str | None]]:
    """Each received message's calendar attachment: its text and its Content-Type method."""
    found = []
    for received in server.inbox:
        parts = received.message.iter_attachments()
        (part,) = [p for p in parts if p.get_content_type() == "text/calendar"]
        found.append((part.get_payload(decode=True).decode(), part.get_param("method")))
    return found


def appointment(result: dict) -> dict:
    (event,) = [e for e in result["events"] if e["kind"] == "appointment"]
    return event


def starts(text: str) -> dict[str, str]:
    """DTSTART of each event of a calendar file by UID, as Thunderbird writes it (icalString)."""
    events = icalendar.Calendar.from_ical(text).walk("VEVENT")
    return {str(e["UID"]): e["DTSTART"].to_ical().decode() for e in events}


@pytest.mark.parametrize("booking", ["A-77", ""], ids=["booking id", "patient id only"])
def test_thunderbird_moves_the_appointment_moved_twice_the_same_day(
    tmp_path, server, ruleset, thunderbird, booking
):
    thunderbird.new_calendar(f"Ana {booking or 'P-1'}")
    # booked at 10:00, moved to 11:30 an hour later, then to 15:00 in the afternoon: one day
    moves = [
        ("10:00", datetime(2024, 6, 1, 9, 0, 5, tzinfo=timezone.utc)),
        ("11:30", datetime(2024, 6, 1, 10, 12, 40, tzinfo=timezone.utc)),
        ("15:00", datetime(2024, 6, 1, 16, 3, 1, tzinfo=timezone.utc)),
    ]
    for n, (at, now) in enumerate(moves):
        send(tmp_path, server, ruleset, at, booking, now)
        text, method = attachments(server)[-1]
        assert method == "PUBLISH"
        result = thunderbird.open_attachment(text, method)
        event = appointment(result)
        assert event["start"] == f"20240610T{at.replace(':', '')}00", f"{result}"
        assert event["zone"] == "Europe/London"
        offered = (result["offered"], result["buttons"])
        if n == 0:
            assert offered == ("PUBLISH", ["imipAddButton"])
            assert set(result["done"]) == {ADDED} and len(result["events"]) == len(starts(text))
        else:
            assert offered == ("PUBLISH:UPDATE", ["imipUpdateButton"])
            assert result["bar"] == "This message contains an update to an existing event."
            assert UPDATED in result["done"]
        copies = str(n) if booking else "0"  # without a booking id each time is a new booking
        assert (event["sequence"], event["received"]) == (copies, copies)
    # the first copy opened again after the moves: already processed, nothing offered
    result = thunderbird.open_attachment(*attachments(server)[0])
    assert result["offered"] is None and "imipUpdateButton" not in result["buttons"]
    assert result["bar"] == "This message contains an event that has already been processed."
    assert appointment(result)["start"] == "20240610T150000"


def test_control_two_copies_with_the_same_sequence_and_stamp_leave_the_first_time(
    tmp_path, server, ruleset, thunderbird
):
    # what the calendar files said before issue 23: SEQUENCE 0 and one DTSTAMP for every copy
    thunderbird.new_calendar("Ana control")
    now = datetime(2024, 6, 1, 9, tzinfo=timezone.utc)
    for at in ("10:00", "11:30"):
        send(tmp_path, server, ruleset, at, "A-77", now)
    (first, method), (moved, _) = attachments(server)
    moved = re.sub(r"(?m)^SEQUENCE:1\r$", "SEQUENCE:0\r", moved)
    assert "SEQUENCE:1" not in moved and "DTSTART;TZID=Europe/London:20240610T113000" in moved
    assert appointment(thunderbird.open_attachment(first, method))["start"] == "20240610T100000"
    result = thunderbird.open_attachment(moved, method)
    assert result["offered"] is None and result["done"] == []
    assert appointment(result)["start"] == "20240610T100000"  # the move never arrives


def descriptions(text: str) -> dict[str, str]:
    """DESCRIPTION of each event of a calendar file by UID."""
    events = icalendar.Calendar.from_ical(text).walk("VEVENT")
    return {str(e["UID"]): str(e["DESCRIPTION"]) for e in events}


def test_thunderbird_moves_every_event_of_the_moved_appointment(
    tmp_path, server, ruleset, thunderbird
):
    """Thunderbird applies an emailed calendar to one UID (the first event's: "multiple items
    in an iTIP message MUST have same ID"), so the file holds one event, the appointment, with
    every dated step in its description: after the update, all that Thunderbird holds is the
    moved appointment and the moved dates, and nothing failed."""
    thunderbird.new_calendar("Ana every event")
    send(tmp_path, server, ruleset, "10:00", "A-77", datetime(2024, 6, 1, 9, tzinfo=timezone.utc))
    send(tmp_path, server, ruleset, "11:30", "A-77", datetime(2024, 6, 1, 10, tzinfo=timezone.utc))
    (first, method), (moved, _) = attachments(server)
    thunderbird.open_attachment(first, method)
    result = thunderbird.open_attachment(moved, method)
    shown = {e["uid"]: e["start"] for e in result["events"]}
    assert not result["failed"] and shown == starts(moved)
    assert set(result["done"]) == {UPDATED}
    (held,) = result["events"]
    assert held["description"].replace("\r\n", "\n") == descriptions(moved)[held["uid"]]
    assert descriptions(moved) != descriptions(first)  # the dated steps moved with it
