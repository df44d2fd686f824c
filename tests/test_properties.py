"""Properties of the date engine that must hold for any appointment, in any zone."""

from __future__ import annotations

from datetime import date, time, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from mesocare.handout import build_handout
from mesocare.model import Clinic, Course, Request
from mesocare.resources import instructions_dir
from mesocare.rules import load_ruleset

RULES = load_ruleset([(instructions_dir(), "mesocare")])
ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kolkata",
    "Pacific/Kiritimati",
    "UTC",
    "America/St_Johns",
    "Europe/Paris",
]

appointments = st.fixed_dictionaries(
    {
        "day": st.dates(min_value=date(2020, 1, 1), max_value=date(2032, 12, 31)),
        "at": st.one_of(st.none(), st.times().map(lambda t: time(t.hour, t.minute))),
        "zone": st.sampled_from(ZONES),
        "areas": st.lists(
            st.sampled_from(["face", "neck", "body", "hands", "scalp"]),
            min_size=1,
            max_size=3,
            unique=True,
        ),
        "duration": st.integers(min_value=1, max_value=240),
        "booked_offset": st.one_of(st.none(), st.integers(min_value=-30, max_value=5)),
        "today_offset": st.integers(min_value=-40, max_value=40),
        "course_weeks": st.one_of(st.none(), st.integers(min_value=1, max_value=12)),
    }
)


def build(a):
    from datetime import timedelta

    from mesocare.errors import InputError

    course = Course()
    if a["course_weeks"]:
        end = a["day"] + timedelta(weeks=a["course_weeks"])
        course = Course(sessions=(a["day"], end), end=end)
    booked = (
        a["day"] + timedelta(days=a["booked_offset"]) if a["booked_offset"] is not None else None
    )
    req = Request(
        date=a["day"],
        time=a["at"],
        areas=tuple(a["areas"]),
        duration_minutes=a["duration"],
        prescribed=("medrol", "lasix"),
        booked=booked,
        course=course,
    )
    try:
        return build_handout(
            req, RULES, Clinic(timezone=a["zone"]), a["day"] + timedelta(days=a["today_offset"])
        )
    except InputError:
        return None  # a wall time skipped by a clock change: reported to the user, tested elsewhere


def utc(dt):
    return dt.astimezone(timezone.utc)


@settings(max_examples=300, deadline=None)
@given(appointments)
def test_windows_are_well_formed(a):
    h = build(a)
    if h is None:
        return
    assert utc(h.start) < utc(h.end)
    for i in h.items:
        # every window starts before it ends
        if i.end is not None:
            assert utc(i.start) < utc(i.end), i.rule
        # a before-window never ends after the appointment starts
        if i.phase == "before":
            assert i.end is not None and utc(i.end) <= utc(h.start), i.rule
            assert utc(i.start) < utc(h.start)
        # aftercare never starts before the appointment ends
        if i.phase == "after":
            assert utc(i.start) >= utc(h.end), i.rule
        # times are shown in the clinic's zone
        assert str(i.start.tzinfo) == a["zone"]
        # aftercare is never late
        if i.late:
            assert i.phase != "after"


@settings(max_examples=150, deadline=None)
@given(appointments)
def test_status_is_monotonic_in_today(a):
    """Later todays never move an item back from passed or started to upcoming."""
    rank = {"upcoming": 0, "started": 1, "passed": 2}
    h1 = build(a)
    h2 = build(dict(a, today_offset=a["today_offset"] + 3))
    if h1 is None:
        return
    for i1, i2 in zip(h1.items, h2.items, strict=True):
        assert i1.rule == i2.rule
        assert rank[i1.status] <= rank[i2.status]


@settings(max_examples=100, deadline=None)
@given(appointments)
def test_nothing_is_late_without_booking_or_after_the_day(a):
    h = build(dict(a, booked_offset=None))
    if h is not None:
        assert not any(i.late for i in h.items)
    h = build(dict(a, booked_offset=1))
    if h is not None:
        assert not any(i.late for i in h.items)
