"""Course planning: session dates from the first, moved off closed weekdays and public holidays.

Holidays used here are long-standing ones (Christmas, Boxing Day, 2 January in Scotland,
Easter Monday in England) so a newer ``holidays`` package does not change the answers.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from mesocare.cli import app
from mesocare.course import make_course, session_dates
from mesocare.errors import InputError
from mesocare.model import Clinic

runner = CliRunner()
SUN, SAT = 6, 5


def run(*args):
    return runner.invoke(app, [str(a) for a in args], env={"MESOCARE_CLINIC": None})


def config(tmp_path, **settings) -> str:
    lines = ["name: Test clinic", "timezone: Europe/London"] + [
        f"{k}: {json.dumps(v)}" for k, v in settings.items()
    ]
    path = tmp_path / "mesocare.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


# ----------------------------------------------------------------------------- the planner


@pytest.mark.parametrize(
    "first, expected",
    [
        (
            date(2024, 1, 31),
            [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)],
        ),  # leap year
        (
            date(2025, 1, 31),
            [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30)],
        ),
        (
            date(2025, 8, 31),
            [date(2025, 8, 31), date(2025, 9, 30), date(2025, 10, 31), date(2025, 11, 30)],
        ),
    ],
)
def test_months_count_from_the_first_session_and_clamp_to_month_ends(first, expected):
    assert list(session_dates(first, 4, (1, "m"))) == expected


def test_weeks_and_days():
    assert session_dates(date(2026, 11, 2), 3, (2, "w")) == (
        date(2026, 11, 2),
        date(2026, 11, 16),
        date(2026, 11, 30),
    )
    assert session_dates(date(2026, 11, 2), 3, (10, "d")) == (
        date(2026, 11, 2),
        date(2026, 11, 12),
        date(2026, 11, 22),
    )


def test_by_default_no_day_is_closed():
    assert session_dates(date(2026, 11, 25), 2, (1, "m"), Clinic()) == (
        date(2026, 11, 25),
        date(2026, 12, 25),
    )


def test_a_closed_weekday_moves_a_session_to_the_next_open_day():
    clinic = Clinic(closed_weekdays=(SUN,))
    # Monday 2 November + 6 days is Sunday 8 November -> Monday 9; the next is counted from the
    # first
    assert session_dates(date(2026, 11, 2), 3, (6, "d"), clinic) == (
        date(2026, 11, 2),
        date(2026, 11, 9),
        date(2026, 11, 14),
    )


def test_sessions_never_collide_or_go_back():
    clinic = Clinic(closed_weekdays=(SAT, SUN))
    # Friday 27 Nov, daily: Saturday -> Monday 30, Sunday -> Monday 30 is taken -> Tuesday 1 Dec
    assert session_dates(date(2026, 11, 27), 3, (1, "d"), clinic) == (
        date(2026, 11, 27),
        date(2026, 11, 30),
        date(2026, 12, 1),
    )


def test_a_gb_public_holiday_moves_a_session():
    clinic = Clinic(holidays_country="GB", holidays_subdiv="ENG")
    # 25 Dec (Christmas) and 26 Dec (Boxing Day) are closed; Sunday 27 is open
    assert session_dates(date(2026, 11, 25), 2, (1, "m"), clinic)[1] == date(2026, 12, 27)
    # closed on Sundays too: 27 is closed and 28 is Boxing Day (observed) -> Tuesday 29
    sundays = Clinic(holidays_country="GB", holidays_subdiv="ENG", closed_weekdays=(SUN,))
    assert session_dates(date(2026, 11, 25), 2, (1, "m"), sundays)[1] == date(2026, 12, 29)


def test_the_region_matters():
    england = Clinic(holidays_country="GB", holidays_subdiv="ENG")
    scotland = Clinic(holidays_country="GB", holidays_subdiv="SCT")
    # 2 January is a holiday in Scotland only; Easter Monday in England only
    assert session_dates(date(2025, 12, 2), 2, (1, "m"), england)[1] == date(2026, 1, 2)
    assert session_dates(date(2025, 12, 2), 2, (1, "m"), scotland)[1] == date(2026, 1, 3)
    assert session_dates(date(2026, 3, 30), 2, (1, "w"), england)[1] == date(2026, 4, 7)
    assert session_dates(date(2026, 3, 30), 2, (1, "w"), scotland)[1] == date(2026, 4, 6)


def test_the_first_session_never_moves():
    clinic = Clinic(holidays_country="GB", holidays_subdiv="ENG")
    # Christmas Day stays; a week later is New Year's Day, a holiday -> 2 January
    assert session_dates(date(2026, 12, 25), 2, (1, "w"), clinic) == (
        date(2026, 12, 25),
        date(2027, 1, 2),
    )


def test_an_unknown_country_is_bad_input():
    with pytest.raises(InputError, match="holidays_country 'XX'"):
        session_dates(date(2026, 1, 5), 2, (1, "w"), Clinic(holidays_country="XX"))


def test_make_course_uses_the_planner():
    clinic = Clinic(closed_weekdays=(SUN,))
    course = make_course(date(2026, 11, 2), sessions=3, every=(6, "d"), clinic=clinic)
    assert course.sessions == (date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 14))
    assert course.end == date(2026, 11, 14)


# ----------------------------------------------------------------------------- mesocare plan


def test_plan_lists_the_dates_and_says_why_one_moved(tmp_path):
    cfg = config(tmp_path, closed_weekdays=["sunday"], holidays_country="GB", holidays_subdiv="ENG")
    result = run(
        "plan", "--date", "2026-11-25", "--sessions", "3", "--every", "1m", "--clinic", cfg
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "3 sessions, every month; closed on Sundays and public holidays of GB-ENG.",
        "  1  Wednesday 25 November 2026",
        "  2  Tuesday 29 December 2026  (moved from Friday 25 December 2026: public holiday: "
        "Christmas Day)",
        "  3  Monday 25 January 2027",
        "The course ends on Monday 25 January 2027.",
    ]


def test_plan_month_ends(tmp_path):
    result = run(
        "plan",
        "--date",
        "2025-01-31",
        "--sessions",
        "3",
        "--every",
        "1m",
        "--clinic",
        config(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "  2  Friday 28 February 2025" in result.stdout
    assert "  3  Monday 31 March 2025" in result.stdout
    assert "no closed days set" in result.stdout


def test_plan_json(tmp_path):
    cfg = config(tmp_path, closed_weekdays=["sunday"])
    result = run(
        "plan",
        "--date",
        "2026-11-02",
        "--sessions",
        "3",
        "--every",
        "6d",
        "--clinic",
        cfg,
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (
        data["timezone"] == "Europe/London"
        and data["end"] == "2026-11-14"
        and data["warnings"] == []
    )
    assert data["sessions"] == [
        {"session": 1, "date": "2026-11-02", "moved_from": None, "reason": None},
        {
            "session": 2,
            "date": "2026-11-09",
            "moved_from": "2026-11-08",
            "reason": "closed on Sundays",
        },
        {"session": 3, "date": "2026-11-14", "moved_from": None, "reason": None},
    ]


def test_plan_says_when_a_session_moved_only_to_keep_the_order(tmp_path):
    cfg = config(tmp_path, closed_weekdays=["saturday", "sunday"])
    result = run(
        "plan",
        "--date",
        "2026-11-27",
        "--sessions",
        "4",
        "--every",
        "1d",
        "--clinic",
        cfg,
        "--format",
        "json",
    )
    rows = json.loads(result.stdout)["sessions"]
    assert rows[2] == {
        "session": 3,
        "date": "2026-12-01",
        "moved_from": "2026-11-29",
        "reason": "closed on Sundays",
    }
    # Monday 30 is open, but session 3 already moved to Tuesday 1: session 4 goes after it
    assert rows[3] == {
        "session": 4,
        "date": "2026-12-02",
        "moved_from": "2026-11-30",
        "reason": "after the previous session",
    }
    result = run(
        "plan",
        "--date",
        "2026-11-26",
        "--sessions",
        "3",
        "--every",
        "1d",
        "--clinic",
        cfg,
        "--format",
        "json",
    )
    rows = json.loads(result.stdout)["sessions"]
    assert [r["date"] for r in rows] == ["2026-11-26", "2026-11-27", "2026-11-30"]


def test_plan_warns_when_the_first_session_is_on_a_closed_day(tmp_path):
    cfg = config(tmp_path, holidays_country="GB")
    result = run(
        "plan", "--date", "2026-12-25", "--sessions", "2", "--every", "2w", "--clinic", cfg
    )
    assert result.exit_code == 0
    assert "  1  Friday 25 December 2026" in result.stdout
    assert (
        "the first session, 2026-12-25, is on a closed day (public holiday: Christmas Day)"
        in result.stderr
    )


def test_plan_with_tz_and_today_words(tmp_path):
    result = run(
        "plan",
        "--date",
        "tomorrow",
        "--sessions",
        "1",
        "--tz",
        "Pacific/Auckland",
        "--today",
        "2026-02-28",
        "--clinic",
        config(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == "  1  Sunday 1 March 2026"


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["--sessions", "3"], 1, "--sessions needs --every"),
        (["--sessions", "3", "--every", "fortnight"], 1, "--every 'fortnight' is not an interval"),
        (["--sessions", "0", "--every", "1m"], 1, "--sessions '0' must be between 1 and 60"),
        (["--sessions", "3", "--every", "1m", "--tz", "Nowhere/Land"], 1, "not a known time zone"),
        (["--sessions", "3", "--every", "1m", "--format", "xml"], 1, "--format 'xml' is not known"),
        (["--every", "1m"], 2, "Missing option '--sessions'"),
    ],
)
def test_plan_bad_input(tmp_path, args, code, words):
    result = run("plan", "--date", "2026-11-25", "--clinic", config(tmp_path), *args)
    assert result.exit_code == code
    assert words in result.output


def test_plan_bad_config(tmp_path):
    bad = config(tmp_path, closed_weekdays=["funday"])
    result = run(
        "plan", "--date", "2026-11-25", "--sessions", "2", "--every", "1w", "--clinic", bad
    )
    assert result.exit_code == 1 and "closed_weekdays" in result.output
    unknown = config(tmp_path, holidays_country="XX")
    result = run(
        "plan", "--date", "2026-11-25", "--sessions", "2", "--every", "1w", "--clinic", unknown
    )
    assert result.exit_code == 1 and "holidays_country 'XX'" in result.output


def test_prep_uses_the_same_planner(tmp_path):
    cfg = config(tmp_path, closed_weekdays=["sunday"], holidays_country="GB", holidays_subdiv="ENG")
    common = ["--date", "2026-11-25", "--sessions", "3", "--every", "1m", "--clinic", cfg]
    planned = json.loads(run("plan", *common, "--format", "json").stdout)
    handout = run("prep", *common, "--area", "body", "--today", "2026-11-24", "--format", "json")
    assert handout.exit_code == 0, handout.output
    course = json.loads(handout.stdout)["course"]
    assert course["sessions"] == [s["date"] for s in planned["sessions"]]
    assert course["end"] == planned["end"] == "2027-01-25"
