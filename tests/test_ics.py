"""``--format ics``: calendars that two independent parsers (icalendar, vobject) read the
same way, reminders at the intended local wall time across changes of clocks, stable UIDs,
a correct VTIMEZONE and byte-for-byte repeatable output."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import subprocess
import sys
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import libical  # tests/libical.py: libical's strict check, through ctypes
from mesocare import lang
from mesocare.errors import InputError
from mesocare.handout import build_handout
from mesocare.model import AREAS, Batch, Clinic, Course, Request
from mesocare.render import ics, ics_events, ics_timezone
from mesocare.render import render as dispatch_render
from mesocare.resources import instructions_dir
from mesocare.rules import load_ruleset

UTC = timezone.utc
ZONES = (
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "UTC",
    "America/Havana",
)


@lru_cache(maxsize=1)
def rules():
    return load_ruleset([(instructions_dir(), "mesocare")])


def clinic(tz="Europe/London", name="Harbour Skin Clinic", phone="020 7946 0000"):
    return Clinic(name=name, timezone=tz, phone=phone)


def handout(
    day=date(2024, 6, 10),
    at=time(10, 0),
    tz="Europe/London",
    areas=("face",),
    prescribed=(),
    course_end=date(2024, 7, 10),
    name="Ana Silva",
    patient_id="P-1042",
    today=date(2024, 6, 1),
    booked=None,
):
    course = Course(sessions=(day,) if course_end is None else (day, course_end), end=course_end)
    req = Request(
        date=day,
        time=at,
        areas=tuple(areas),
        prescribed=tuple(prescribed),
        name=name,
        patient_id=patient_id,
        booked=booked,
        course=course,
    )
    return build_handout(req, rules(), clinic(tz), today=today)


# ----------------------------------------------------------------------------- reading back


def read_icalendar(text: str) -> list[dict]:
    """Events as dicts, read with icalendar; alarm instants made absolute (UTC)."""
    cal = icalendar.Calendar.from_ical(text)
    out = []
    for ev in cal.walk("VEVENT"):
        start = ev["DTSTART"].dt
        alarms = []
        for alarm in ev.walk("VALARM"):
            trig = alarm["TRIGGER"].dt
            if isinstance(trig, timedelta):
                assert isinstance(start, datetime), "relative triggers only on timed events"
                alarms.append(start.astimezone(UTC) + trig)
            else:
                assert alarm["TRIGGER"].params.get("VALUE") == "DATE-TIME"
                alarms.append(trig.astimezone(UTC))
            assert str(alarm["ACTION"]) == "DISPLAY"
            assert str(alarm["DESCRIPTION"]).strip()
        out.append(
            {
                "uid": str(ev["UID"]),
                "summary": str(ev["SUMMARY"]),
                "description": str(ev["DESCRIPTION"]),
                "start": start,
                "end": ev["DTEND"].dt if "DTEND" in ev else None,
                "role": str(ev["X-MESOCARE-EVENT"]),
                "rule": str(ev["X-MESOCARE-RULE"]) if "X-MESOCARE-RULE" in ev else None,
                "alarms": alarms,
            }
        )
    return out


def use_file_zones(text: str) -> None:
    """Make vobject read TZIDs with the VTIMEZONEs in ``text``. vobject keeps one tzinfo per
    TZID for the whole process (the first it met, or pytz's when it met none), so without
    this it could read our times with another file's zone, or with no VTIMEZONE at all."""
    registry = vars(vobject.icalendar)["__tzidMap"]
    for tzid in [k for k in registry if k != "UTC"]:
        del registry[tzid]
    first_pass = vobject.readOne(io.StringIO(text))
    for vtz in first_pass.contents.get("vtimezone", []):
        vobject.icalendar.registerTzid(vtz.tzid.value, vtz.gettzinfo())


def read_vobject(text: str) -> list[dict]:
    """The same, read independently with vobject (which builds the zone from VTIMEZONE)."""
    use_file_zones(text)
    cal = vobject.readOne(io.StringIO(text))
    out = []
    for ev in cal.contents.get("vevent", []):
        start = ev.dtstart.value
        alarms = []
        for alarm in getattr(ev, "valarm_list", []):
            trig = alarm.trigger.value
            if isinstance(trig, timedelta):
                alarms.append(start.astimezone(UTC) + trig)
            else:
                alarms.append(trig.astimezone(UTC))
        out.append(
            {"uid": ev.uid.value, "summary": ev.summary.value, "start": start, "alarms": alarms}
        )
    return out


def same_start(a, b) -> bool:
    if isinstance(a, datetime) or isinstance(b, datetime):
        return (
            isinstance(a, datetime)
            and isinstance(b, datetime)
            and a.astimezone(UTC) == b.astimezone(UTC)
        )
    return a == b


def expected_events(h) -> int:
    n = 1  # the appointment
    for item in h.items:
        if item.phase in ("before", "day"):
            n += 1
        elif item.end is None or item.end > item.start:
            n += int(item.start > h.end or item.end is None) + int(item.end is not None)
    return n


def wall(dt: datetime, tz: str) -> datetime:
    return dt.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def expected_alarm_wall(ev: dict, h, tz: str) -> datetime:
    """The intended local wall time of an event's reminder, worked out from the event."""
    start = ev["start"]
    if ev["role"] in ("appointment", "day"):
        day = start.astimezone(ZoneInfo(tz)).date() if isinstance(start, datetime) else start
        return datetime.combine(day - timedelta(days=1), time(18, 0))
    if not isinstance(start, datetime):  # all-day: 09:00 that day
        return datetime.combine(start, time(9, 0))
    local = wall(start, tz)
    if ev["role"] == "before":
        if local.time() >= time(9, 0):
            return datetime.combine(local.date(), time(9, 0))
        if local.time() >= time(7, 0):
            return local
        return datetime.combine(local.date() - timedelta(days=1), time(18, 0))
    return local  # after-start / after-end at an exact time: at that time


def check_calendar(text: str, h) -> list[dict]:
    """Everything that must hold for any one-patient calendar; returns the icalendar view."""
    tz = h.timezone
    for line in text.split("\r\n"):
        if line.startswith(
            "TRIGGER:"
        ):  # relative: exact units only (a day in a duration is nominal)
            assert re.fullmatch(r"TRIGGER:-?PT(\d+H)?(\d+M)?(\d+S)?", line), line
        elif line.startswith("TRIGGER"):
            assert re.fullmatch(r"TRIGGER;VALUE=DATE-TIME:\d{8}T\d{6}Z", line), line
    events = read_icalendar(text)
    vevents = read_vobject(text)
    assert len(events) == len(vevents) == expected_events(h)
    for a, b in zip(events, vevents, strict=True):
        assert a["uid"] == b["uid"] and a["summary"] == b["summary"]
        assert same_start(a["start"], b["start"]), (a["summary"], a["start"], b["start"])
        assert a["alarms"] == b["alarms"]
        assert len(a["alarms"]) == 1
        assert wall(a["alarms"][0], tz) == expected_alarm_wall(a, h, tz), (
            a["role"],
            a["rule"],
            a["summary"],
        )
    uids = [e["uid"] for e in events]
    assert len(set(uids)) == len(uids)
    assert all(u.endswith("@mesocare") for u in uids)
    return events


def by_key(events) -> dict:
    return {(e["rule"], e["role"]): e for e in events}


# ----------------------------------------------------------------------------- the calendar


def test_header_and_counts():
    h = handout(prescribed=("lasix",))
    text = ics.render(h)
    cal = icalendar.Calendar.from_ical(text)
    assert str(cal["PRODID"]) == "-//mesocare//handout//EN"
    assert str(cal["VERSION"]) == "2.0"
    assert "METHOD" not in cal and "ORGANIZER" not in text  # no clinic email: no iTIP method
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    # no calendar name: Outlook would open the file as a new calendar beside the patient's own
    assert "X-WR-CALNAME" not in cal
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    events = check_calendar(text, h)
    roles = [e["role"] for e in events]
    after = h.phase("after")
    assert roles.count("appointment") == 1
    assert roles.count("before") == len(h.phase("before"))
    assert roles.count("day") == len(h.phase("day"))
    # every aftercare rule with an end has an end event; a start event only when it starts
    # after the appointment (sunscreen, daily water) or has no end (Lasix)
    assert roles.count("after-end") == sum(i.end is not None for i in after)
    assert sorted(e["rule"] for e in events if e["role"] == "after-start") == [
        "lasix",
        "spf30",
        "water-daily",
    ]
    assert sum(len(e["alarms"]) for e in events) == len(events)
    # the dispatcher finds us
    assert dispatch_render(h, "ics") == text


def test_timed_appointment_event():
    h = handout()
    events = check_calendar(ics.render(h), h)
    appt = by_key(events)[(None, "appointment")]
    assert appt["start"] == datetime(2024, 6, 10, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    assert appt["end"] == datetime(2024, 6, 10, 10, 30, tzinfo=ZoneInfo("Europe/London"))
    assert "Harbour Skin Clinic" in appt["summary"]
    assert "020 7946 0000" in appt["description"]
    raw = ics.render(h)
    assert "DTSTART;TZID=Europe/London:20240610T100000" in raw
    assert "LOCATION:Harbour Skin Clinic" in raw
    # reminder the evening before, relative to the timed start: 18:00 BST is 16 hours earlier
    assert "TRIGGER:-PT16H" in raw


def test_untimed_appointment_is_all_day():
    h = handout(at=None)
    text = ics.render(h)
    events = check_calendar(text, h)
    appt = by_key(events)[(None, "appointment")]
    assert appt["start"] == date(2024, 6, 10) and not isinstance(appt["start"], datetime)
    assert appt["end"] == date(2024, 6, 11)
    assert "DTSTART;VALUE=DATE:20240610" in text
    # untimed: every window is in whole days, so every event is all-day
    assert all(not isinstance(e["start"], datetime) for e in events)
    # the zone is still defined for clients that use X-WR-TIMEZONE
    assert "TZID:Europe/London" in text


def test_item_events_and_summaries():
    h = handout(prescribed=("lasix", "medrol"))
    events = by_key(check_calendar(ics.render(h), h))
    items = {i.rule: i for i in h.items}
    london = ZoneInfo("Europe/London")
    ginkgo = events[("ginkgo-biloba", "before")]
    assert ginkgo["start"] == date(2024, 5, 31)
    assert ginkgo["description"].startswith(
        "From Friday 31 May 2024\n" + items["ginkgo-biloba"].text
    )
    # caffeine: 24 hours before 10:00, a timed event up to the appointment
    caffeine = events[("caffeine", "before")]
    assert caffeine["start"] == datetime(2024, 6, 9, 10, 0, tzinfo=london)
    assert caffeine["end"] == datetime(2024, 6, 10, 10, 0, tzinfo=london)
    # day of treatment: all-day on the day
    assert events[("stimulants", "day")]["start"] == date(2024, 6, 10)
    # aftercare ends: 48 hours is a moment, 2 days/2 weeks are the day the patient may resume
    assert events[("showers", "after-end")]["start"] == datetime(2024, 6, 12, 10, 30, tzinfo=london)
    assert events[("showers", "after-end")]["summary"] == "End of aftercare: showers and hot baths"
    # (other creams: 48 hours, to end as the sunscreen starts; loose clothes are not for the face)
    assert events[("topicals-after", "after-end")]["start"] == datetime(
        2024, 6, 12, 10, 30, tzinfo=london
    )
    assert ("loose-clothing", "after-end") not in events
    assert events[("hot-tub-sauna", "after-end")]["start"] == date(2024, 6, 25)
    assert ("showers", "after-start") not in events  # starts as the appointment ends
    # windows that start later are reminded when they start
    assert events[("spf30", "after-start")]["start"] == datetime(2024, 6, 12, 10, 30, tzinfo=london)
    assert events[("water-daily", "after-start")]["start"] == date(2024, 6, 11)
    assert events[("water-daily", "after-end")]["start"] == date(2024, 7, 11)
    for e in events.values():
        assert "\n" not in e["summary"]


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        ("Stop taking ginkgo biloba supplements.", "Stop taking ginkgo biloba supplements."),
        # short enough: the whole text, caveat and all
        (
            "Stop taking aspirin. If a doctor told you to take aspirin, do not stop. "
            "Ask that doctor first.",
            "Stop taking aspirin. If a doctor told you to take aspirin, do not stop. "
            "Ask that doctor first.",
        ),
        # too long: never the first sentence alone (it would drop the caveat)
        (
            "Stop taking anti-inflammatory painkillers, such as ibuprofen or naproxen. "
            "If a doctor prescribed one for you, do not stop. Ask that doctor first.",
            "Before treatment: anti-inflammatory painkillers - see details",
        ),
    ],
)
def test_summary_is_the_whole_text_or_a_neutral_title(text, summary):
    item = next(i for i in handout().items if i.rule == "nsaids")
    assert ics_events._summary(dataclasses.replace(item, text=text), lang.get(None)) == summary


def test_only_the_items_own_words():
    h = handout(prescribed=("lasix", "medrol"), areas=("body", "face"))
    events = read_icalendar(ics.render(h))
    items = {i.rule: i for i in h.items}
    for e in events:
        if e["rule"] is None:
            continue
        item = items[e["rule"]]
        assert item.when in e["description"] and " ".join(item.text.split()) in e["description"]
        if e["role"] == "after-end":
            assert e["summary"] == f"End of aftercare: {item.name}"
        else:
            assert e["summary"] in (
                " ".join(item.text.split()),
                ics_events._summary(item, lang.get(None)),
            )
            assert e["summary"] == " ".join(item.text.split()) or e["summary"].endswith(
                f"{item.name} - see details"
            )


def test_lasix_and_open_ended_items():
    # Lasix has no end: one event, at its start (the end of the appointment), no end event
    h = handout(prescribed=("lasix",))
    events = check_calendar(ics.render(h), h)
    lasix = [e for e in events if e["rule"] == "lasix"]
    assert [e["role"] for e in lasix] == ["after-start"]
    assert lasix[0]["start"] == h.end
    assert wall(lasix[0]["alarms"][0], "Europe/London") == datetime(2024, 6, 10, 10, 30)
    # course end unknown: daily water has a start and no end
    h = handout(course_end=None)
    events = check_calendar(ics.render(h), h)
    water = [e["role"] for e in events if e["rule"] == "water-daily"]
    assert water == ["after-start"]
    assert (
        "until your last session"
        in next(e for e in events if e["rule"] == "water-daily")["description"]
    )
    # no Lasix unless prescribed
    assert not [e for e in events if e["rule"] == "lasix"]


def test_untimed_lasix_reminds_the_next_morning():
    h = handout(at=None, prescribed=("lasix",))
    events = by_key(check_calendar(ics.render(h), h))
    assert events[("lasix", "after-start")]["start"] == date(2024, 6, 11)
    assert wall(events[("lasix", "after-start")]["alarms"][0], "Europe/London") == datetime(
        2024, 6, 11, 9, 0
    )


def test_alarms_can_be_left_out():
    text = ics.render(handout(), alarms=False)
    assert "BEGIN:VALARM" not in text
    assert all(not e["alarms"] for e in read_icalendar(text))


# ----------------------------------------------------------------------------- clocks changing


def test_london_spring_forward_example():
    """Appointment 2024-04-01 10:00 Europe/London; clocks go forward on 2024-03-31."""
    h = handout(
        day=date(2024, 4, 1),
        at=time(10, 0),
        course_end=None,
        today=date(2024, 3, 1),
        prescribed=("medrol",),
    )
    text = ics.render(h)
    events = by_key(check_calendar(text, h))
    # 10 days before: Friday 22 March, 09:00 GMT (= 09:00 UTC)
    assert events[("ginkgo-biloba", "before")]["alarms"] == [
        datetime(2024, 3, 22, 9, 0, tzinfo=UTC)
    ]
    assert "TRIGGER;VALUE=DATE-TIME:20240322T090000Z" in text
    # 3 days before: 29 March, still GMT
    assert events[("medrol", "before")]["alarms"] == [datetime(2024, 3, 29, 9, 0, tzinfo=UTC)]
    # caffeine 24 h before 10:00 BST: 10:00 BST on 31 March; reminder 09:00 BST = 08:00 UTC
    assert events[("caffeine", "before")]["alarms"] == [datetime(2024, 3, 31, 8, 0, tzinfo=UTC)]
    # treatment-day reminders: 18:00 BST on 31 March = 17:00 UTC
    assert events[("stimulants", "day")]["alarms"] == [datetime(2024, 3, 31, 17, 0, tzinfo=UTC)]
    assert events[(None, "appointment")]["alarms"] == [datetime(2024, 3, 31, 17, 0, tzinfo=UTC)]


def test_window_starting_on_the_change_day():
    """Vitamin E 5 days before 2024-04-05 starts on 31 March, the spring-forward day:
    the reminder is 09:00 on the clock (BST), not nine elapsed hours after midnight."""
    h = handout(day=date(2024, 4, 5), course_end=None, today=date(2024, 3, 1))
    events = by_key(check_calendar(ics.render(h), h))
    assert events[("vitamin-e", "before")]["start"] == date(2024, 3, 31)
    assert events[("vitamin-e", "before")]["alarms"] == [datetime(2024, 3, 31, 8, 0, tzinfo=UTC)]


def test_appointment_the_day_after_spring_forward_relative_trigger():
    """Appointment 2024-03-31 10:00 BST: 18:00 GMT the evening before is 15 hours earlier."""
    h = handout(day=date(2024, 3, 31), course_end=None, today=date(2024, 3, 1))
    text = ics.render(h)
    events = by_key(check_calendar(text, h))
    assert events[(None, "appointment")]["alarms"] == [datetime(2024, 3, 30, 18, 0, tzinfo=UTC)]
    assert "TRIGGER:-PT15H" in text
    # caffeine from 09:00 GMT on 30 March (24 elapsed hours): the reminder is at 09:00
    assert events[("caffeine", "before")]["start"] == datetime(2024, 3, 30, 9, 0, tzinfo=UTC)
    assert events[("caffeine", "before")]["alarms"] == [datetime(2024, 3, 30, 9, 0, tzinfo=UTC)]


def test_relative_trigger_over_a_day_is_in_hours():
    """Appointment 19:00 GMT on 2024-10-27 (clocks went back that night): the reminder at
    18:00 BST the evening before is 26 hours earlier, written -PT26H (not -P1DT2H, whose
    nominal day a client may count as 24 or 25 hours)."""
    h = handout(day=date(2024, 10, 27), at=time(19, 0), course_end=None, today=date(2024, 10, 1))
    text = ics.render(h)
    events = by_key(check_calendar(text, h))
    assert "TRIGGER:-PT26H\r\n" in text
    assert events[(None, "appointment")]["alarms"] == [datetime(2024, 10, 26, 17, 0, tzinfo=UTC)]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "PT0S"),
        (-16 * 3600, "-PT16H"),
        (-25 * 3600, "-PT25H"),
        (90 * 60 + 5, "PT1H30M5S"),
        (-45 * 60, "-PT45M"),
    ],
)
def test_duration_text(seconds, text):
    assert ics._duration_text(timedelta(seconds=seconds)) == text


def test_london_fall_back():
    """Clocks go back on 2024-10-27: the treatment-day reminder on that evening is 18:00 GMT."""
    h = handout(day=date(2024, 10, 28), course_end=None, today=date(2024, 10, 1))
    events = by_key(check_calendar(ics.render(h), h))
    assert events[("stimulants", "day")]["alarms"] == [datetime(2024, 10, 27, 18, 0, tzinfo=UTC)]
    assert events[("ginkgo-biloba", "before")]["alarms"] == [
        datetime(2024, 10, 18, 8, 0, tzinfo=UTC)
    ]


def test_new_york_spring_forward():
    """America/New_York goes to EDT on 2024-03-10."""
    h = handout(
        day=date(2024, 3, 15),
        at=time(14, 0),
        tz="America/New_York",
        course_end=None,
        today=date(2024, 3, 1),
    )
    events = by_key(check_calendar(ics.render(h), h))
    # 10 days before: 5 March, 09:00 EST = 14:00 UTC
    assert events[("ginkgo-biloba", "before")]["alarms"] == [
        datetime(2024, 3, 5, 14, 0, tzinfo=UTC)
    ]
    # 5 days before: 10 March, the change day, 09:00 EDT = 13:00 UTC
    assert events[("vitamin-e", "before")]["alarms"] == [datetime(2024, 3, 10, 13, 0, tzinfo=UTC)]
    # the hot-tub window ends with 29 March: may resume 30 March, 09:00 EDT
    assert events[("hot-tub-sauna", "after-end")]["alarms"] == [
        datetime(2024, 3, 30, 13, 0, tzinfo=UTC)
    ]


def test_new_york_fall_back_hour_window():
    """Appointment 2024-11-03 14:00 EST: 24 hours earlier is 15:00 EDT on 2 November."""
    h = handout(
        day=date(2024, 11, 3),
        at=time(14, 0),
        tz="America/New_York",
        course_end=None,
        today=date(2024, 10, 1),
    )
    events = by_key(check_calendar(ics.render(h), h))
    caffeine = events[("caffeine", "before")]
    assert wall(caffeine["start"], "America/New_York") == datetime(2024, 11, 2, 15, 0)
    assert caffeine["alarms"] == [datetime(2024, 11, 2, 13, 0, tzinfo=UTC)]  # 09:00 EDT
    assert events[(None, "appointment")]["alarms"] == [
        datetime(2024, 11, 2, 22, 0, tzinfo=UTC)
    ]  # 18:00 EDT


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (time(10, 0), datetime(2024, 6, 9, 9, 0)),  # starts 10:00: remind at 09:00
        (time(8, 15), datetime(2024, 6, 9, 8, 15)),  # starts 08:15: remind at the start
        (time(6, 30), datetime(2024, 6, 8, 18, 0)),  # starts 06:30: the evening before
    ],
)
def test_hour_window_reminder_before_it_starts(at, expected):
    h = handout(at=at)
    events = by_key(check_calendar(ics.render(h), h))
    assert wall(events[("caffeine", "before")]["alarms"][0], "Europe/London") == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    day=st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31)),
    slot=st.one_of(st.none(), st.integers(min_value=6 * 4, max_value=20 * 4)),
    tz=st.sampled_from(ZONES),
    areas=st.lists(st.sampled_from(AREAS), min_size=1, max_size=3, unique=True),
    prescribed=st.lists(st.sampled_from(("medrol", "lasix")), unique=True),
    course_days=st.one_of(st.none(), st.integers(min_value=0, max_value=200)),
)
def test_reminders_at_the_intended_wall_time(day, slot, tz, areas, prescribed, course_days):
    at = None if slot is None else time(slot // 4, (slot % 4) * 15)
    course_end = None if course_days is None else day + timedelta(days=course_days)
    try:
        h = handout(
            day=day,
            at=at,
            tz=tz,
            areas=areas,
            prescribed=prescribed,
            course_end=course_end,
            today=date(2023, 1, 1),
        )
    except InputError:  # a time skipped when the clocks go forward
        assume(False)
    text = ics.render(h)
    events = check_calendar(text, h)
    shown = {i.rule for i in h.items if i.phase != "after" or i.end is None or i.end > i.start}
    assert {e["rule"] for e in events} - {None} == shown
    for e in events:
        if e["role"] in ("before", "after-start") and isinstance(e["start"], datetime):
            # a reminder to start never rings after the start
            assert e["alarms"][0] <= e["start"].astimezone(UTC)
    if tz != "UTC":
        assert f"TZID:{tz}\r\n" in text


# ----------------------------------------------------------------------------- VTIMEZONE


@pytest.mark.parametrize(
    "tz",
    [
        "Europe/London",
        "America/New_York",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "America/Havana",
    ],
)
def test_vtimezone_matches_zoneinfo(tz):
    """Both parsers, reading our VTIMEZONE, turn UTC instants into the local time zoneinfo gives:
    every 3 hours over two years, and every 10 minutes from a day before to a day after each
    change (where a wrong onset or offset would show)."""
    vtz = ics_timezone.vtimezone(tz, date(2024, 1, 1), date(2026, 1, 1))
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n"
        + vtz.to_ical().decode()
        + "END:VCALENDAR\r\n"
    )
    from_vobject = vobject.readOne(io.StringIO(text)).vtimezone.gettzinfo()
    from_icalendar = icalendar.Calendar.from_ical(text).timezones[0].to_tz(lookup_tzid=False)
    zi = ZoneInfo(tz)
    first, last = datetime(2024, 1, 2, tzinfo=UTC), datetime(2025, 12, 30, tzinfo=UTC)
    instants = set()
    t = first
    while t < last:
        instants.add(t)
        t += timedelta(hours=3)
    changes = ics_timezone.offset_changes(zi, first, last)
    assert changes or tz == "Asia/Kolkata"
    for change in changes:
        t = change - timedelta(days=1)
        while t < change + timedelta(days=1):
            instants.update((t, t + timedelta(seconds=-1), t + timedelta(seconds=1)))
            t += timedelta(minutes=10)
        instants.update((change, change - timedelta(seconds=1)))
    for t in sorted(instants):
        expected = t.astimezone(zi).replace(tzinfo=None)
        assert t.astimezone(from_vobject).replace(tzinfo=None) == expected, (tz, t)
        assert t.astimezone(from_icalendar).replace(tzinfo=None) == expected, (tz, t)


def test_vtimezone_is_computed_once_per_zone_and_span():
    ics_timezone.observances.cache_clear()
    for _ in range(3):
        ics_timezone.vtimezone("Europe/Paris", date(2024, 1, 1), date(2025, 1, 1))
    info = ics_timezone.observances.cache_info()
    assert (info.misses, info.hits) == (1, 2)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=st.sampled_from("ab \\^;,:é€😀\u00a0x"), max_size=300),
        st.text(alphabet=st.sampled_from("ab\\^;"), max_size=300),
    ),
    st.integers(3, 80),
)
def test_our_folding_is_icalendars(line, limit):
    """ics.fold gives what icalendar's own folding gives, for any line (escapes near the cut,
    multi-byte characters), so the calendar's bytes do not depend on which one ran."""
    from icalendar.parser.string import _foldline

    assert ics.fold(line, limit) == _foldline(line, limit=limit)


def test_serialize_is_to_ical():
    h = handout(tz="Europe/London")
    cal = icalendar.Calendar.from_ical(ics.render(h))
    assert ics.serialize(cal) == cal.to_ical().decode("utf-8")


def test_long_lines_are_folded_at_75_octets_and_read_back_whole():
    """RFC 5545 3.1: no line longer than 75 octets, a multi-byte character never cut, and
    the folded text reads back whole (icalendar folds; libical checks the files elsewhere)."""
    name = "Clínica Conceição Gonçalves € 😀 de Mesoterapia e Dermatologia do Porto" * 2
    h = handout(tz="Europe/London", prescribed=("medrol",))
    clinic_name = h.clinic.name
    text = ics.render(h, stamp=None)
    lines = text.split("\r\n")
    assert max(len(line.encode("utf-8")) for line in lines) <= 75
    assert any(line.startswith(" ") for line in lines)  # something was folded
    from dataclasses import replace

    long = ics.render(replace(h, clinic=replace(h.clinic, name=name)))
    assert max(len(line.encode("utf-8")) for line in long.split("\r\n")) <= 75
    cal = icalendar.Calendar.from_ical(long)
    assert {str(e["LOCATION"]) for e in cal.walk("VEVENT") if "LOCATION" in e} == {name}
    assert clinic_name not in long


def test_vtimezone_onset_in_offset_from():
    """RFC 5545: an observance's DTSTART is local time in TZOFFSETFROM (London: 01:00 GMT)."""
    raw = (
        ics_timezone.vtimezone("Europe/London", date(2024, 1, 1), date(2025, 1, 1))
        .to_ical()
        .decode()
    )
    assert "BEGIN:DAYLIGHT\r\nDTSTART:20240331T010000\r\n" in raw
    assert "BEGIN:STANDARD\r\nDTSTART:20241027T020000\r\n" in raw


@pytest.mark.parametrize("tz", ["Europe/London", "America/New_York"])
def test_vtimezone_present_and_covers_events(tz):
    h = handout(tz=tz)
    text = ics.render(h)
    cal = icalendar.Calendar.from_ical(text)
    assert [str(z["TZID"]) for z in cal.timezones] == [tz]
    assert cal.get_missing_tzids() == set()
    assert str(cal["X-WR-TIMEZONE"]) == tz
    first = min(sub["DTSTART"].dt for z in cal.timezones for sub in z.subcomponents)
    assert first <= datetime(2024, 5, 31)  # before the earliest event
    # vobject, reading the zone from the file, puts the appointment at the same instant
    use_file_zones(text)
    vcal = vobject.readOne(io.StringIO(text))
    appt = next(
        e for e in vcal.vevent_list if e.contents["x-mesocare-event"][0].value == "appointment"
    )
    assert appt.dtstart.value.astimezone(UTC) == h.start.astimezone(UTC)


def test_utc_clinic_needs_no_vtimezone():
    h = handout(tz="UTC")
    text = ics.render(h)
    assert "BEGIN:VTIMEZONE" not in text
    assert "DTSTART:20240610T100000Z" in text
    check_calendar(text, h)


# ------------------------------------------------------------------------- identity and determinism


def uids(text: str) -> dict:
    return {(e["rule"], e["role"]): e["uid"] for e in read_icalendar(text)}


def test_same_input_same_bytes():
    a = ics.render(handout(prescribed=("lasix",)))
    b = ics.render(handout(prescribed=("lasix",)))
    assert a == b
    assert "DTSTAMP:20240601T000000Z" in a  # the handout's today, not the clock


def test_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1717243200")  # 2024-06-01 12:00 UTC
    text = ics.render(handout())
    assert "DTSTAMP:20240601T120000Z" in text
    assert "DTSTAMP:20240601T000000Z" not in text


def test_moved_time_keeps_uids():
    before = uids(ics.render(handout(at=time(10, 0))))
    after = uids(ics.render(handout(at=time(15, 30))))
    assert before == after
    untimed = uids(ics.render(handout(at=None)))
    assert all(untimed[k] == before[k] for k in untimed.keys() & before.keys())


def test_uids_differ_by_patient_and_day_and_hide_the_patient():
    base = uids(ics.render(handout()))
    other = uids(ics.render(handout(patient_id="P-2000", name="Ana Silva")))
    assert not set(base.values()) & set(other.values())
    no_id = ics.render(handout(patient_id=None))
    assert "ana" not in " ".join(uids(no_id).values()).lower()
    # without an id the name is the key (spacing and case do not matter)
    assert uids(no_id) == uids(ics.render(handout(patient_id=None, name="  ana   SILVA ")))
    assert "P-1042" not in "".join(base.values())
    # another day is another appointment...
    moved = uids(ics.render(handout(day=date(2024, 6, 12))))
    assert not set(base.values()) & set(moved.values())
    # ...unless the booking system's key says it is the same one
    keyed_a = uids(ics.render(handout(), appointment_key="APT-77"))
    keyed_b = uids(ics.render(handout(day=date(2024, 6, 12)), appointment_key="APT-77"))
    assert keyed_a == keyed_b


def test_not_importing_icalendar_at_module_load():
    code = "import sys, mesocare.render.ics; assert 'icalendar' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------------------- batches


def test_batch_holds_every_patient():
    london = clinic()
    hs = (
        handout(at=time(9, 0), name="Ana Silva", patient_id="P-1042"),
        handout(
            at=time(11, 0),
            name="Ben Okafor",
            patient_id="P-2001",
            areas=("body",),
            prescribed=("lasix",),
        ),
        handout(at=None, name=None, patient_id=None, areas=("scalp",)),
    )
    batch = Batch(
        clinic=london,
        today=date(2024, 6, 1),
        day=date(2024, 6, 10),
        handouts=hs,
        booking_checked=True,
    )
    text = ics.render_batch(batch)
    assert text == ics.render_batch(batch)
    events = read_icalendar(text)
    assert len(events) == len(read_vobject(text)) == sum(expected_events(h) for h in hs)
    cal = icalendar.Calendar.from_ical(text)
    assert str(cal["X-WR-CALNAME"]) == "Mesotherapy care plans for Monday 10 June 2024"
    assert len(cal.timezones) == 1
    all_uids = [e["uid"] for e in events]
    assert len(set(all_uids)) == len(all_uids)
    # each patient's own file has the same UIDs
    for h in hs:
        assert set(uids(ics.render(h)).values()) <= set(all_uids)
    summaries = [e["summary"] for e in events]
    assert any(s.startswith("Ana Silva: ") for s in summaries)
    assert any(s.startswith("Ben Okafor: ") for s in summaries)
    assert any(s.startswith("Patient 3: ") for s in summaries)


def test_batch_same_patient_twice_same_day():
    h1 = handout(at=time(9, 0))
    h2 = handout(at=time(16, 0))
    batch = Batch(
        clinic=clinic(), today=date(2024, 6, 1), day=None, handouts=(h1, h2), booking_checked=False
    )
    events = read_icalendar(ics.render_batch(batch))
    all_uids = [e["uid"] for e in events]
    assert len(set(all_uids)) == len(all_uids)


def test_repeated_hour_is_written_in_utc():
    """Clocks go back at 02:00 BST on 2024-10-27, so 01:00-02:00 happens twice. RFC 5545 reads
    a repeated local time as the first one: the second is written in UTC."""
    london = ZoneInfo("Europe/London")
    # appointment 01:30-02:00 BST on Friday: showers may resume 48 hours later, 01:00 GMT
    h = handout(day=date(2024, 10, 25), at=time(1, 30), course_end=None, today=date(2024, 10, 1))
    text = ics.render(h)
    events = by_key(check_calendar(text, h))
    showers = events[("showers", "after-end")]
    assert showers["start"].astimezone(UTC) == datetime(2024, 10, 27, 1, 0, tzinfo=UTC)
    assert "DTSTART:20241027T010000Z" in text
    assert showers["alarms"] == [datetime(2024, 10, 27, 1, 0, tzinfo=UTC)]
    # appointment 00:30-01:00 BST: 48 hours later is the first 01:00, BST, written locally
    h = handout(day=date(2024, 10, 25), at=time(0, 30), course_end=None, today=date(2024, 10, 1))
    text = ics.render(h)
    events = by_key(check_calendar(text, h))
    assert events[("showers", "after-end")]["start"].astimezone(UTC) == datetime(
        2024, 10, 27, 0, 0, tzinfo=UTC
    )
    assert "DTSTART;TZID=Europe/London:20241027T010000" in text
    assert ics._written(datetime(2024, 10, 27, 1, 0, fold=1, tzinfo=london)).tzinfo is UTC
    assert ics._written(datetime(2024, 10, 27, 1, 0, fold=0, tzinfo=london)).tzinfo is london


def test_empty_batch_is_still_a_calendar():
    batch = Batch(
        clinic=clinic(),
        today=date(2024, 6, 1),
        day=date(2024, 6, 10),
        handouts=(),
        booking_checked=True,
    )
    text = ics.render_batch(batch)
    assert read_icalendar(text) == [] and read_vobject(text) == []
    assert "BEGIN:VTIMEZONE" in text


def test_same_bytes_in_another_process():
    code = (
        "import sys; sys.path.insert(0, 'tests'); import test_ics; from mesocare.render import ics;"
        "sys.stdout.write(ics.render(test_ics.handout(prescribed=('lasix',))))"
    )
    root = Path(__file__).resolve().parent.parent
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            check=True,
            capture_output=True,
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    assert outputs.pop().decode("utf-8") == ics.render(handout(prescribed=("lasix",)))


# --------------------------------------------------------------------------- libical's strict check


def with_email(h, email="desk@harbour.example"):
    return dataclasses.replace(h, clinic=dataclasses.replace(h.clinic, email=email))


def test_the_clinic_is_the_organizer_when_it_has_an_email():
    for message in (False, True):
        cal = icalendar.Calendar.from_ical(ics.render(with_email(handout()), message=message))
        for event in cal.walk("VEVENT"):
            assert str(event["ORGANIZER"]) == "mailto:desk@harbour.example"
            assert event["ORGANIZER"].params["CN"] == "Harbour Skin Clinic"


def test_only_the_one_event_file_an_email_carries_is_an_itip_publish():
    """A calendar program applies an iTIP object to one UID (Thunderbird: "multiple items in an
    iTIP message MUST have same ID"): the emailed form is one event, the appointment, with
    METHOD:PUBLISH; the file of an event per date has no METHOD, and neither has the batch."""
    h = with_email(handout(prescribed=("lasix",)))
    every = icalendar.Calendar.from_ical(ics.render(h))
    assert "METHOD" not in every and len(every.walk("VEVENT")) > 5
    sent = icalendar.Calendar.from_ical(ics.render(h, message=True))
    assert str(sent["METHOD"]) == "PUBLISH"
    (event,) = sent.walk("VEVENT")
    (appointment,) = [e for e in every.walk("VEVENT") if e["UID"] == event["UID"]]
    assert str(appointment["X-MESOCARE-EVENT"]) == "appointment"
    said = str(event["DESCRIPTION"])
    assert said.startswith(str(appointment["DESCRIPTION"]))
    for item in h.items:
        assert f"{item.when}: {item.text}" in said
    batch = Batch(h.clinic, h.today, None, (h,), booking_checked=True)
    assert "METHOD" not in icalendar.Calendar.from_ical(ics.render_batch(batch))


strict_cases = [
    pytest.param(lambda: handout(prescribed=("lasix",)), id="timed"),
    pytest.param(lambda: handout(at=None, tz="Australia/Sydney"), id="untimed-sydney"),
    pytest.param(lambda: handout(tz="UTC", course_end=None), id="utc"),
    pytest.param(lambda: with_email(handout(tz="America/New_York")), id="organizer"),
]
message_cases = [
    pytest.param(lambda: with_email(handout(prescribed=("lasix",))), id="timed"),
    pytest.param(lambda: with_email(handout(at=None, tz="Australia/Sydney")), id="untimed"),
]


@pytest.mark.parametrize("make", message_cases)
def test_libical_strict_check_accepts_the_emailed_calendar(make):
    if not libical.available():
        pytest.skip("libical3 is not installed (scripts/test installs it with apt-get as root)")
    assert libical.problems(ics.render(make(), message=True)) == []


@pytest.mark.parametrize("make", strict_cases)
def test_libical_strict_check_accepts_our_calendars(make):
    if not libical.available():
        pytest.skip("libical3 is not installed (scripts/test installs it with apt-get as root)")
    h = make()
    assert libical.problems(ics.render(h)) == []
    batch = Batch(
        h.clinic, h.today, None, (h, handout(name="Bo Lee", patient_id="P-2")), booking_checked=True
    )
    assert libical.problems(ics.render_batch(batch)) == []


def test_libical_check_can_fail():
    """The strict check is real: METHOD:PUBLISH without ORGANIZER is what it refuses."""
    if not libical.available():
        pytest.skip("libical3 is not installed (scripts/test installs it with apt-get as root)")
    text = ics.render(handout()).replace(
        "CALSCALE:GREGORIAN\r\n", "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n"
    )
    assert any("ORGANIZER" in p for p in libical.problems(text))


def test_control_characters_never_reach_the_calendar():
    h = handout(name="Ana\x1b[31m Silva\x07")
    h = dataclasses.replace(
        h, clinic=dataclasses.replace(h.clinic, name="Harbour\x1b]0;pwned\x07 Clinic")
    )
    text = ics.render(h)
    batch = ics.render_batch(Batch(h.clinic, h.today, None, (h,), booking_checked=True))
    for out in (text, batch):
        assert not any(ch in out for ch in "\x1b\x07\x9b"), (
            "a control character reached the calendar"
        )
    assert "LOCATION:Harbour Clinic" in text and "SUMMARY:Ana[31m Silva:" not in batch
    assert "SUMMARY:Ana Silva: " in batch


def test_a_bad_source_date_epoch_is_an_error_as_for_the_pdf(monkeypatch):
    """One rule for SOURCE_DATE_EPOCH in every format (mesocare.render.source_date)."""
    for bad in ("soon", "-5", "1.5", "１２３"):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", bad)
        with pytest.raises(InputError, match="SOURCE_DATE_EPOCH must be a whole number"):
            ics.render(handout())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "")
    assert "DTSTAMP:20240601T000000Z" in ics.render(handout())
