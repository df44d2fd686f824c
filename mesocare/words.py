"""Dates and times in words, in plain English: "Friday 31 May 2024", "10:30 on Wednesday 12 June 2024".

Written out by hand rather than with strftime so the words never depend on the machine's locale.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


def day(d: date) -> str:
    """Friday 31 May 2024"""
    return f"{DAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}"


def clock(dt: datetime) -> str:
    """10:30 (24-hour clock)"""
    return f"{dt.hour:02d}:{dt.minute:02d}"


def is_midnight(dt: datetime) -> bool:
    return dt.hour == 0 and dt.minute == 0


def moment(dt: datetime) -> str:
    """A start: "Friday 31 May 2024" at midnight, else "10:30 on Wednesday 12 June 2024"."""
    return day(dt.date()) if is_midnight(dt) else f"{clock(dt)} on {day(dt.date())}"


def end_moment(dt: datetime) -> str:
    """An end: "the end of Monday 24 June 2024" at midnight, else "10:30 on Wednesday 12 June 2024"."""
    if is_midnight(dt):
        return f"the end of {day(dt.date() - timedelta(days=1))}"
    return f"{clock(dt)} on {day(dt.date())}"


def when(
    phase: str,
    start: datetime,
    end: datetime | None,
    appt_start: datetime,
    appt_end: datetime,
    open_end: str = "",
    until_appointment: bool = False,
    timed: bool = True,
) -> str:
    """The dates of one instruction, for the handout. ``open_end`` words an unknown end
    (" until your last session"); an open-ended instruction has none."""
    if phase == "before":
        return f"From {moment(start)}"
    if phase == "day":
        text = f"On {day(start.date())}"
        if until_appointment:
            text += f", before your appointment at {clock(appt_start)}" if timed else ", before your appointment"
        return text
    if end is None:
        return f"From {moment(start)}{open_end}"
    if _same(start, appt_end):
        return f"Until {end_moment(end)}"
    return f"From {moment(start)} until {end_moment(end)}"


def _same(a: datetime, b: datetime) -> bool:
    """The same instant (not just the same wall time)."""
    return a.timestamp() == b.timestamp()


def joined(words: list[str] | tuple[str, ...]) -> str:
    """a, b and c"""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
