"""The calendar's events and their reminders, as plain data (pure: no clock, no icalendar).

For one handout, ``events`` plans:

- the appointment: timed (start and end in the clinic's zone) or, when no time was
  given, an all-day event; the clinic's name is the location, its phone the contact;
- for each dated item, the events a patient actually needs, each with one reminder:

  ======================  ==========================================  =====================
  item                    event                                       reminder
  ======================  ==========================================  =====================
  before, whole days      all-day, on the day the window starts        09:00 that day
  before, hours (24h)     timed, from the window's start to the        09:00 on the start
                          appointment                                  day, or at the start
                                                                       if that is earlier
                                                                       (18:00 the evening
                                                                       before if it starts
                                                                       before 07:00)
  day of treatment        all-day, on the treatment day                18:00 the day before
  after: the end          all-day on the day the patient may resume    09:00 that day
                          (whole-day windows), or a moment at the      or at the end time
                          end (hour windows)
  after: the start        only when the window does not start as the   09:00 on the start
                          appointment ends (sunscreen after the        day, or at the start
                          48 hours without sun, daily water from the   time
                          next day) or when it has no end (Lasix)
  ======================  ==========================================  =====================

  Why an after item gets its event at the END: the patient walks out of the clinic with
  the handout, so a reminder of every aftercare rule at that moment adds nothing; what
  they cannot keep in their head is when each one stops ("may I shower yet?"). Items that
  start later are reminded when they start, and an item with no known end (the course end
  unknown, or an open one such as Lasix) gets its start event so it is in the calendar at
  all, and no end event.

- The summaries use only the item's own words. A before/day/after-start event is titled
  with the item's text when it is short (100 characters or less); a longer text is never
  cut (a dropped second sentence could be "If a doctor prescribed it, do not stop"), the
  title then names the item neutrally ("Before treatment: Medrol dose pack - see
  details"). An end event reads "End of aftercare: showers and hot baths". Every
  description is the item's ``when`` and ``text``.

Reminder times are local wall times in the clinic's zone (09:00 stays 09:00 across a change
of clocks); ``ics`` writes them as RFC 5545 triggers.

Identity (``ics_identity.uid``). UIDs are sha256 of the clinic name, the patient (id, else
the name folded to lower case; never written out), the appointment's local date (or the
``appointment_key`` option, e.g. the booking system's id, when a re-dated appointment must
still replace the old events) and the event (rule id and start/end), so re-importing an
updated plan for the same appointment replaces its events instead of adding copies; moving the
time on the same day keeps every UID.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mesocare.dates import local_midnight, normalize, zone
from mesocare.lang import ui
from mesocare.lang.language import Language
from mesocare.model import Handout, Item

SUMMARY_LIMIT = 100

MORNING = time(9, 0)  # reminders on the day something starts or ends
EVENING = time(18, 0)  # reminders the evening before the treatment day
EARLIEST = time(7, 0)  # a reminder "at the start" earlier than this moves to the evening before

PHASE_LABELS = {
    "before": ui.N_("Before treatment"),
    "day": ui.N_("Treatment day"),
    "after": ui.N_("Aftercare"),
}
# every sentence a calendar file says, as gettext msgids (the code below says them in place;
# "calname" is the name a calendar client may show for one patient's plan)
ICS_WORDS = {
    "calname": ui.N_("Mesotherapy care plan"),
    "calname_batch": ui.N_("Mesotherapy care plans"),
    "before": ui.N_("Before treatment"),
    "day": ui.N_("Treatment day"),
    "after": ui.N_("Aftercare"),
    "see_details": ui.N_("%(label)s: %(name)s - see details"),
    "questions": ui.N_("Questions: call %(clinic)s on %(phone)s."),
    "appointment_timed": ui.N_(
        "Your %(technique)s appointment (%(areas)s), %(start)s to %(end)s on %(day)s."
    ),
    "appointment_untimed": ui.N_(
        "Your %(technique)s appointment (%(areas)s) on %(day)s. No time was given: "
        "check it with the clinic."
    ),
    "clinic_phone": ui.N_("Clinic: %(clinic)s, phone %(phone)s."),
    "clinic": ui.N_("Clinic: %(clinic)s."),
    "summary": ui.N_("Mesotherapy appointment at %(clinic)s"),
    "tomorrow_at": ui.N_("Tomorrow at %(time)s: your mesotherapy appointment at %(clinic)s."),
    "tomorrow": ui.N_("Tomorrow: your mesotherapy appointment at %(clinic)s."),
    "said": ui.N_("%(when)s: %(text)s"),
    "treatment_tomorrow": ui.N_("Tomorrow is your treatment day. %(said)s"),
    "over": ui.N_("This aftercare step is over from %(moment)s."),  # translations may use %(from)s
    "resume_today": ui.N_("This step ends today. %(resume)s"),
    "resume_now": ui.N_("This step ends now. %(resume)s"),
    "over_today": ui.N_("This step ends today: %(name)s."),
    "over_now": ui.N_("This step ends now: %(name)s."),
    "end_of": ui.N_("End of aftercare: %(name)s"),
}


@dataclass
class Reminder:
    """One reminder (a VALARM): when it rings and what it says."""

    at: datetime  # aware; the instant the reminder rings
    description: str


@dataclass
class PlannedEvent:
    """One calendar event, before it is written (``ics`` writes it as a VEVENT)."""

    key: str  # "appointment", "ginkgo-biloba", "showers/end"... part of the UID
    role: str  # appointment | before | day | after-start | after-end
    rule: str | None
    summary: str
    description: str
    start: datetime | date  # a date: an all-day event on that day
    end: datetime | date | None  # None: a moment (timed) or a single day (all-day)
    alarm: Reminder | None
    location: str | None = None
    contact: str | None = None
    busy: bool = False


def _at(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """A local wall time on a day, as an aware datetime (a time in a gap moves past it)."""
    return normalize(datetime.combine(day, wall, tzinfo=tz), tz)


def _is_midnight(dt: datetime, tz: ZoneInfo) -> bool:
    """True when ``dt`` is the first instant of its local day (day-granular windows)."""
    local = dt.astimezone(tz)
    return local == local_midnight(local.date(), tz)


def _reminder_for_start(start: datetime, tz: ZoneInfo) -> datetime:
    """09:00 on the start day, or the start itself when earlier, or 18:00 the evening
    before when the start is earlier than 07:00 (nobody wants a reminder at 05:00)."""
    local = start.astimezone(tz)
    morning = _at(local.date(), MORNING, tz)
    if local >= morning:
        return morning
    if local.timetz().replace(tzinfo=None) >= EARLIEST:
        return local
    return _at(local.date() - timedelta(days=1), EVENING, tz)


def _summary(item: Item, lang: Language) -> str:
    """The item's own text when it is short; never a cut text, else a neutral title."""
    text = _text(item)
    if len(text) <= SUMMARY_LIMIT:
        return text
    return lang._(
        "%(label)s: %(name)s - see details",
        label=lang.gettext(PHASE_LABELS[item.phase]),
        name=item.name,
    )


def _text(item: Item) -> str:
    return " ".join(item.text.split())


def _said(item: Item, lang: Language) -> str:
    """The item in one line: its dates, then its text ("From Friday 31 May 2024: Stop ...")."""
    return lang._("%(when)s: %(text)s", when=item.when, text=_text(item))


def _description(item: Item, *lead: str) -> str:
    return "\n".join([*lead, item.when, _text(item)])


def _clinic_name(handout: Handout, lang: Language) -> str:
    return ui.clinic_name(lang, handout.clinic.name)


def _contact_line(handout: Handout, lang: Language) -> str | None:
    if handout.clinic.phone:
        return lang._(
            "Questions: call %(clinic)s on %(phone)s.",
            clinic=_clinic_name(handout, lang),
            phone=handout.clinic.phone,
        )
    return None


def _with_contact(text: str, handout: Handout, lang: Language) -> str:
    line = _contact_line(handout, lang)
    return f"{text}\n\n{line}" if line else text


def _appointment_event(h: Handout, tz: ZoneInfo, lang: Language) -> PlannedEvent:
    clinic = h.clinic
    name = _clinic_name(h, lang)
    day = h.start.astimezone(tz).date()
    what = ui.technique(lang, h.technique)
    areas = lang.joined([ui.area(lang, a) for a in h.areas])
    lines = [*h.banners]
    if h.timed:
        lines.append(
            lang._(
                "Your %(technique)s appointment (%(areas)s), %(start)s to %(end)s on %(day)s.",
                technique=what,
                areas=areas,
                start=lang.clock(h.start.astimezone(tz)),
                end=lang.clock(h.end.astimezone(tz)),
                day=lang.day(day),
            )
        )
    else:
        lines.append(
            lang._(
                "Your %(technique)s appointment (%(areas)s) on %(day)s. No time was given: "
                "check it with the clinic.",
                technique=what,
                areas=areas,
                day=lang.day(day),
            )
        )
    if clinic.phone:
        lines.append(
            lang._("Clinic: %(clinic)s, phone %(phone)s.", clinic=name, phone=clinic.phone)
        )
    else:
        lines.append(lang._("Clinic: %(clinic)s.", clinic=name))
    if h.timed:
        alarm = lang._(
            "Tomorrow at %(time)s: your mesotherapy appointment at %(clinic)s.",
            time=lang.clock(h.start.astimezone(tz)),
            clinic=name,
        )
    else:
        alarm = lang._("Tomorrow: your mesotherapy appointment at %(clinic)s.", clinic=name)
    return PlannedEvent(
        key="appointment",
        role="appointment",
        rule=None,
        summary=lang._("Mesotherapy appointment at %(clinic)s", clinic=name),
        description="\n".join(lines),
        start=h.start if h.timed else day,
        end=h.end if h.timed else None,
        alarm=Reminder(_at(day - timedelta(days=1), EVENING, tz), alarm),
        location=name,
        contact=f"{name}, {clinic.phone}" if clinic.phone else None,
        busy=True,
    )


def _item_events(h: Handout, item: Item, tz: ZoneInfo, lang: Language) -> list[PlannedEvent]:
    start_day = item.start.astimezone(tz).date()
    details = _with_contact(_description(item), h, lang)
    said = _said(item, lang)
    if item.phase == "before":
        if _is_midnight(item.start, tz):
            alarm = Reminder(_at(start_day, MORNING, tz), said)
            return [
                PlannedEvent(
                    item.rule,
                    "before",
                    item.rule,
                    _summary(item, lang),
                    details,
                    start_day,
                    None,
                    alarm,
                )
            ]
        # an hour window (caffeine 24 hours before): a timed event up to the appointment
        end = item.end if item.end is not None and item.end > item.start else None
        alarm = Reminder(_reminder_for_start(item.start, tz), said)
        return [
            PlannedEvent(
                item.rule,
                "before",
                item.rule,
                _summary(item, lang),
                details,
                item.start,
                end,
                alarm,
            )
        ]
    if item.phase == "day":
        alarm = Reminder(
            _at(start_day - timedelta(days=1), EVENING, tz),
            lang._("Tomorrow is your treatment day. %(said)s", said=said),
        )
        return [
            PlannedEvent(
                item.rule, "day", item.rule, _summary(item, lang), details, start_day, None, alarm
            )
        ]

    # after: an empty window (it ends as it starts) has nothing to remind
    if item.end is not None and item.end <= item.start:
        return []
    found: list[PlannedEvent] = []
    if item.start > h.end or item.end is None:
        if _is_midnight(item.start, tz):
            start, alarm_at = start_day, _at(start_day, MORNING, tz)
        else:
            start, alarm_at = item.start, item.start
        found.append(
            PlannedEvent(
                f"{item.rule}/start",
                "after-start",
                item.rule,
                _summary(item, lang),
                details,
                start,
                None,
                Reminder(alarm_at, said),
            )
        )
    if item.end is not None:
        end_local = item.end.astimezone(tz)
        if _is_midnight(item.end, tz):
            # whole days: the window ends at 24:00, the patient may resume on this day
            start, alarm_at = end_local.date(), _at(end_local.date(), MORNING, tz)
            resume = (
                lang._("This step ends today. %(resume)s", resume=item.resume)
                if item.resume
                else lang._("This step ends today: %(name)s.", name=item.name)
            )
        else:
            start, alarm_at = item.end, item.end
            resume = (
                lang._("This step ends now. %(resume)s", resume=item.resume)
                if item.resume
                else lang._("This step ends now: %(name)s.", name=item.name)
            )
        phrase = lang.grammar.from_(end_local)
        over = lang._(
            "This aftercare step is over from %(moment)s.",
            moment=lang.grammar.moment(end_local),
            **{"from": phrase[:1].lower() + phrase[1:]},
        )
        found.append(
            PlannedEvent(
                f"{item.rule}/end",
                "after-end",
                item.rule,
                lang._("End of aftercare: %(name)s", name=item.name),
                _with_contact(_description(item, over), h, lang),
                start,
                None,
                Reminder(alarm_at, resume),
            )
        )
    return found


def events(h: Handout) -> list[PlannedEvent]:
    """The appointment, then each item's events, in the handout's order."""
    tz = zone(h.timezone)
    lang = h.lang
    planned = [_appointment_event(h, tz, lang)]
    for item in h.items:
        planned.extend(_item_events(h, item, tz, lang))
    return planned


def message_event(h: Handout) -> PlannedEvent:
    """The one event of a calendar file sent by email: the appointment, its description
    followed by every dated step in the handout's order ("From Friday 31 May: stop taking
    ginkgo...").

    One event, because a calendar program applies an emailed calendar (iTIP) to one UID: a
    later copy with many events moves only the first in Thunderbird, and each of the others
    fails there (``calItipUtils``: "multiple items in an iTIP message MUST have same ID")."""
    tz = zone(h.timezone)
    lang = h.lang
    event = _appointment_event(h, tz, lang)
    steps = [_said(item, lang) for item in h.items]
    if not steps:
        return event
    return replace(event, description="\n\n".join([event.description, "\n".join(steps)]))
