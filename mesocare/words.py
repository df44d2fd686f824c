"""Dates and phrases in the default language (en-GB), kept for code that has no handout at hand.

Everything here is the language layer's (:mod:`mesocare.lang`): the date and time words come
from CLDR's names, and the phrases from the English grammar in :mod:`mesocare.lang.grammar`.
A handout in another language uses its own :class:`mesocare.lang.Language` instead.
"""

from __future__ import annotations

from datetime import date, datetime

from mesocare.lang import get
from mesocare.lang.grammar import is_midnight  # noqa: F401 (re-exported)


def day(d: date) -> str:
    """Friday 31 May 2024"""
    return get(None).day(d)


def clock(dt: datetime) -> str:
    """10:30 (24-hour clock)"""
    return get(None).clock(dt)


def moment(dt: datetime) -> str:
    """A start: "Friday 31 May 2024" at midnight, else "10:30 on Wednesday 12 June 2024"."""
    return get(None).grammar.moment(dt)


def end_moment(dt: datetime) -> str:
    """An end: "the end of Monday 24 June 2024" at midnight, else "10:30 on Wednesday 12 June
    2024"."""
    return get(None).grammar.end_moment(dt)


def when(
    phase,
    start,
    end,
    appt_start,
    appt_end,
    open_end: bool = False,
    until_appointment: bool = False,
    timed: bool = True,
) -> str:
    """The dates of one instruction, in the default language."""
    return get(None).when(
        phase,
        start,
        end,
        appt_start,
        appt_end,
        open_end=bool(open_end),
        until_appointment=until_appointment,
        timed=timed,
    )


def joined(words) -> str:
    """a, b and c"""
    return get(None).joined(words)
