"""``--format ics``: the handout as an iCalendar file a patient can import, with reminders.

One VCALENDAR (METHOD:PUBLISH) holds:

- the appointment: timed (DTSTART/DTEND with the clinic's TZID) or, when no time was
  given, an all-day event; the clinic's name is the LOCATION, its phone the CONTACT;
- for each dated item, the events a patient actually needs, each with one reminder
  (VALARM, ACTION:DISPLAY):

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
  DESCRIPTION is the item's ``when`` and ``text``.

Times. Reminders on all-day events use absolute triggers (VALUE=DATE-TIME in UTC)
computed from the local wall time in the clinic's zone, so 09:00 stays 09:00 on the clock
across a change of clocks (a relative "PT9H" from midnight would ring at 10:00 on the
spring-forward day in some clients and 09:00 in others). Reminders on timed events are
relative to DTSTART, an exact instant, which every client (Outlook included) supports;
the duration is computed in UTC from the intended local wall time and written in hours
("-PT25H", never "-P1DT1H": a day in a duration is nominal). A local time that happens
twice when the clocks go back is written in UTC when it is the second one, as RFC 5545
reads a repeated local time as the first.

The VTIMEZONE is written here from the zoneinfo data rather than with icalendar's
``Timezone.from_tzinfo`` (7.3): that one gives a daylight-time observance the onset in
the new offset (DTSTART 02:00 for London's 01:00 change), where RFC 5545 counts it in
TZOFFSETFROM, so a reader converting UTC to local time is an hour out just after the
change; and it opens with an observance whose TZOFFSETFROM equals TZOFFSETTO, which
misleads readers in the southern hemisphere. Ours opens with the observance in force on
1 January of the first year used, from its real onset, then lists every change up to
1 January after the last year, one observance each.

Identity. UIDs are sha256 of the clinic name, the patient (id, else the name folded to
lower case; never written out), the appointment's local date (or the ``appointment_key``
option, e.g. the booking system's id, when a re-dated appointment must still replace the
old events) and the event (rule id and start/end), so re-importing an updated plan for
the same appointment replaces its events instead of adding copies; moving the time on
the same day keeps every UID. DTSTAMP is 00:00 UTC of the handout's ``today`` (or
SOURCE_DATE_EPOCH when set), SEQUENCE 0, and the output is the same bytes for the same
input. Events are CLASS:PRIVATE (medical details) and, apart from the appointment,
TRANSP:TRANSPARENT (a reminder does not make the patient busy). X-MESOCARE-RULE and
X-MESOCARE-EVENT name the rule and the event's role for scripts.

icalendar is imported inside the functions only: the CLI should not pay for it.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from mesocare import words
from mesocare.dates import local_midnight, normalize, zone
from mesocare.model import AREA_WORDS, TECHNIQUE_WORDS, Batch, Handout, Item

UTC = timezone.utc
PRODID = "-//mesocare//handout//EN"
CALNAME = "Mesotherapy care plan"
BATCH_CALNAME = "Mesotherapy care plans"
UID_DOMAIN = "mesocare"
SUMMARY_LIMIT = 100
LOOKBACK_DAYS = 800  # how far back a VTIMEZONE looks for the change in force on its first day

MORNING = time(9, 0)  # reminders on the day something starts or ends
EVENING = time(18, 0)  # reminders the evening before the treatment day
EARLIEST = time(7, 0)  # a reminder "at the start" earlier than this moves to the evening before

PHASE_LABELS = {"before": "Before treatment", "day": "Treatment day", "after": "Aftercare"}


# ----------------------------------------------------------------------------- the plan of events


@dataclass
class _Alarm:
    at: datetime  # aware; the instant the reminder rings
    description: str


@dataclass
class _Event:
    key: str  # "appointment", "ginkgo-biloba", "showers/end"... part of the UID
    role: str  # appointment | before | day | after-start | after-end
    rule: str | None
    summary: str
    description: str
    start: datetime | date  # a date: an all-day event on that day
    end: datetime | date | None  # None: a moment (timed) or a single day (all-day)
    alarm: _Alarm | None
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


def _summary(item: Item) -> str:
    """The item's own text when it is short; never a cut text, else a neutral title."""
    text = _text(item)
    if len(text) <= SUMMARY_LIMIT:
        return text
    return f"{PHASE_LABELS[item.phase]}: {item.name} - see details"


def _text(item: Item) -> str:
    return " ".join(item.text.split())


def _description(item: Item, *lead: str) -> str:
    return "\n".join([*lead, item.when, _text(item)])


def _contact_line(handout: Handout) -> str | None:
    if handout.clinic.phone:
        return f"Questions: call {handout.clinic.name} on {handout.clinic.phone}."
    return None


def _with_contact(text: str, handout: Handout) -> str:
    line = _contact_line(handout)
    return f"{text}\n\n{line}" if line else text


def _appointment_event(h: Handout, tz: ZoneInfo) -> _Event:
    clinic = h.clinic
    day = h.start.astimezone(tz).date()
    what = TECHNIQUE_WORDS.get(h.technique, h.technique)
    areas = words.joined([AREA_WORDS.get(a, a) for a in h.areas])
    lines = [*h.banners]
    if h.timed:
        lines.append(f"Your {what} appointment ({areas}), {words.clock(h.start.astimezone(tz))} to "
                     f"{words.clock(h.end.astimezone(tz))} on {words.day(day)}.")
    else:
        lines.append(f"Your {what} appointment ({areas}) on {words.day(day)}. "
                     "No time was given: check it with the clinic.")
    lines.append(f"Clinic: {clinic.name}" + (f", phone {clinic.phone}." if clinic.phone else "."))
    when = f" at {words.clock(h.start.astimezone(tz))}" if h.timed else ""
    return _Event(
        key="appointment",
        role="appointment",
        rule=None,
        summary=f"Mesotherapy appointment at {clinic.name}",
        description="\n".join(lines),
        start=h.start if h.timed else day,
        end=h.end if h.timed else None,
        alarm=_Alarm(
            _at(day - timedelta(days=1), EVENING, tz),
            f"Tomorrow{when}: your mesotherapy appointment at {clinic.name}.",
        ),
        location=clinic.name,
        contact=f"{clinic.name}, {clinic.phone}" if clinic.phone else None,
        busy=True,
    )


def _item_events(h: Handout, item: Item, tz: ZoneInfo) -> list[_Event]:
    start_day = item.start.astimezone(tz).date()
    details = _with_contact(_description(item), h)
    said = f"{item.when}: {_text(item)}"
    if item.phase == "before":
        if _is_midnight(item.start, tz):
            alarm = _Alarm(_at(start_day, MORNING, tz), said)
            return [_Event(item.rule, "before", item.rule, _summary(item), details, start_day, None, alarm)]
        # an hour window (caffeine 24 hours before): a timed event up to the appointment
        end = item.end if item.end is not None and item.end > item.start else None
        alarm = _Alarm(_reminder_for_start(item.start, tz), said)
        return [_Event(item.rule, "before", item.rule, _summary(item), details, item.start, end, alarm)]
    if item.phase == "day":
        alarm = _Alarm(_at(start_day - timedelta(days=1), EVENING, tz), f"Tomorrow is your treatment day. {said}")
        return [_Event(item.rule, "day", item.rule, _summary(item), details, start_day, None, alarm)]

    # after: an empty window (it ends as it starts) has nothing to remind
    if item.end is not None and item.end <= item.start:
        return []
    events: list[_Event] = []
    if item.start > h.end or item.end is None:
        if _is_midnight(item.start, tz):
            start, alarm_at = start_day, _at(start_day, MORNING, tz)
        else:
            start, alarm_at = item.start, item.start
        events.append(_Event(f"{item.rule}/start", "after-start", item.rule, _summary(item), details,
                             start, None, _Alarm(alarm_at, said)))
    if item.end is not None:
        end_local = item.end.astimezone(tz)
        if _is_midnight(item.end, tz):
            # whole days: the window ends at 24:00, the patient may resume on this day
            start, alarm_at, lead = end_local.date(), _at(end_local.date(), MORNING, tz), "From today"
        else:
            start, alarm_at, lead = item.end, item.end, "From now"
        over = f"This aftercare step is over from {words.moment(end_local)}."
        events.append(_Event(f"{item.rule}/end", "after-end", item.rule, f"End of aftercare: {item.name}",
                             _with_contact(_description(item, over), h), start, None,
                             _Alarm(alarm_at, f"{lead} you no longer need to follow this step: {_text(item)}")))
    return events


def _events(h: Handout) -> list[_Event]:
    tz = zone(h.timezone)
    events = [_appointment_event(h, tz)]
    for item in h.items:
        events.extend(_item_events(h, item, tz))
    return events


# ----------------------------------------------------------------------------- identity


def _patient_key(h: Handout) -> str:
    if h.patient_id and h.patient_id.strip():
        return "id:" + h.patient_id.strip()
    if h.patient_name and h.patient_name.strip():
        return "name:" + " ".join(h.patient_name.split()).casefold()
    # nobody named: the appointment itself is all there is to go by
    return "anonymous:" + h.start.isoformat() + ":" + "+".join(h.areas)


def _uid(clinic: str, patient: str, appointment: str, event: str) -> str:
    raw = "\x1f".join(("mesocare-ics/1", clinic, patient, appointment, event))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40] + "@" + UID_DOMAIN


def _dtstamp(today: date, stamp: datetime | None) -> datetime:
    if stamp is not None:
        return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.combine(today, time(0), tzinfo=UTC)


# ----------------------------------------------------------------------------- VTIMEZONE


def _offset_changes(tz: ZoneInfo, first: datetime, last: datetime) -> list[datetime]:
    """The UTC instants in [first, last) where ``tz`` changes its UTC offset."""
    changes = []
    step = timedelta(hours=6)
    t = first
    offset = t.astimezone(tz).utcoffset()
    while t < last:
        nxt = min(t + step, last)
        if nxt.astimezone(tz).utcoffset() != offset:
            lo, hi = t, nxt  # offset(lo) == offset, offset(hi) differs: find the first second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if mid <= lo:
                    break
                if mid.astimezone(tz).utcoffset() == offset:
                    lo = mid
                else:
                    hi = mid
            changes.append(hi)
            offset = hi.astimezone(tz).utcoffset()
            t = hi
            continue
        t = nxt
    return changes


def _vtimezone(tz_name: str, first: date, last: date):
    """A VTIMEZONE for ``tz_name`` valid from ``first`` to ``last`` (RFC 5545 3.6.5)."""
    from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

    tz = zone(tz_name)
    start = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    stop = datetime.combine(last, time(0), tzinfo=tz).astimezone(UTC)

    vtz = Timezone()
    vtz.add("tzid", tz_name)
    vtz.add("x-lic-location", tz_name)
    vtz.add("comment", f"From the IANA time zone database, valid from {first.isoformat()} to {last.isoformat()}.")

    def observance(at_utc: datetime, offset_from: timedelta):
        local = at_utc.astimezone(tz)
        part = TimezoneDaylight() if local.dst() else TimezoneStandard()
        # DTSTART is the onset as a local time in the offset in use before it (TZOFFSETFROM)
        part.add("dtstart", (at_utc + offset_from).replace(tzinfo=None))
        part.add("tzoffsetfrom", offset_from)
        part.add("tzoffsetto", local.utcoffset())
        part.add("tzname", local.tzname() or _offset_name(local.utcoffset()))
        vtz.add_component(part)

    # Open with the observance already in force on ``first``, from its real onset: a first
    # observance whose TZOFFSETFROM equals its TZOFFSETTO (the easy way) leaves readers
    # guessing the standard offset behind a daylight-time one, and dateutil and icalendar
    # then misplace the next change by the DST amount (seen with Australia/Sydney).
    changes = _offset_changes(tz, start - timedelta(days=LOOKBACK_DAYS), stop)
    earlier = [c for c in changes if c <= start]
    if earlier:
        changes = changes[len(earlier) - 1 :]
    else:
        observance(start, start.astimezone(tz).utcoffset())  # no change in years: a fixed offset
    for change in changes:
        observance(change, (change - timedelta(seconds=1)).astimezone(tz).utcoffset())
    return vtz


def _offset_name(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


# ----------------------------------------------------------------------------- writing


def _written(dt: datetime) -> datetime:
    """The value to write for an instant: local time with the zone's TZID, except for the
    second of two equal wall times when the clocks go back. RFC 5545 (3.3.5) reads a
    repeated local time as its first occurrence, so that one is written in UTC instead."""
    tz = dt.tzinfo
    if isinstance(tz, ZoneInfo):
        first = dt.replace(fold=0)
        if first.astimezone(UTC) != dt.astimezone(UTC):
            return dt.astimezone(UTC)
    return dt


def _duration_text(td: timedelta) -> str:
    """An RFC 5545 duration in exact units only: "-PT25H", never "-P1DT1H".

    A day in a duration is nominal (RFC 5545 3.3.6: across a change of clocks it is 23 or
    25 hours), so a trigger written with days would ring an hour off on such a night;
    hours are exact. icalendar writes days for anything over 24 hours, hence this.
    """
    seconds = int(td.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return f"{sign}PT{text or '0S'}"


@lru_cache(maxsize=1)
def _exact_duration_type():
    from icalendar.prop import vDuration

    class ExactDuration(vDuration):
        def to_ical(self) -> bytes:
            return _duration_text(self.td).encode("ascii")

    return ExactDuration


def _exact_duration(td: timedelta):
    return _exact_duration_type()(td)


def _new_calendar(name: str, tz_name: str):
    from icalendar import Calendar

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tz_name)
    return cal


def _add_events(cal, events: list[_Event], *, uid_of, dtstamp: datetime, label: str | None, alarms: bool) -> None:
    from icalendar import Alarm, Event

    for ev in events:
        vev = Event()
        vev.add("uid", uid_of(ev.key))
        vev.add("dtstamp", dtstamp)
        vev.add("sequence", 0)
        summary = f"{label}: {ev.summary}" if label else ev.summary
        vev.add("summary", summary)
        vev.add("description", ev.description)
        if isinstance(ev.start, datetime):
            vev.add("dtstart", _written(ev.start))
            if ev.end is not None:
                vev.add("dtend", _written(ev.end))
        else:
            vev.add("dtstart", ev.start)
            vev.add("dtend", ev.start + timedelta(days=1))
        if ev.location:
            vev.add("location", ev.location)
        if ev.contact:
            vev.add("contact", ev.contact)
        vev.add("class", "PRIVATE")
        vev.add("transp", "OPAQUE" if ev.busy else "TRANSPARENT")
        if ev.rule:
            vev.add("x-mesocare-rule", ev.rule)
        vev.add("x-mesocare-event", ev.role)
        if alarms and ev.alarm is not None:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"{label}: {ev.alarm.description}" if label else ev.alarm.description)
            if isinstance(ev.start, datetime):
                # relative to the exact DTSTART instant, in hours, minutes and seconds only
                alarm.add("trigger", _exact_duration(ev.alarm.at.astimezone(UTC) - ev.start.astimezone(UTC)))
            else:
                # icalendar 7.3 leaves out VALUE=DATE-TIME, without which a reader takes the
                # value for a duration (RFC 5545 3.8.6.3)
                alarm.add("trigger", ev.alarm.at.astimezone(UTC), parameters={"VALUE": "DATE-TIME"})
            vev.add_component(alarm)
        cal.add_component(vev)


def _span(events: list[_Event]) -> tuple[date, date]:
    days: list[date] = []
    for ev in events:
        for value in (ev.start, ev.end, ev.alarm.at if ev.alarm else None):
            if isinstance(value, datetime):
                days.append(value.date())
            elif isinstance(value, date):
                days.append(value)
    return min(days), max(days)


UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Zulu", "Zulu", "Universal", "Etc/Universal"})


def _finish(cal, tz_names, events: list[_Event], today: date) -> str:
    """Add a VTIMEZONE for each zone (UTC needs none: its times end in Z) and serialize.

    The zone is added even when only all-day events use it (an untimed appointment), so
    a client that honours X-WR-TIMEZONE can find its definition, and for an empty batch,
    whose calendar would otherwise hold no component at all (RFC 5545 asks for one)."""
    first, last = _span(events) if events else (today, today)
    for n, tz_name in enumerate(sorted(set(tz_names) - UTC_NAMES)):
        cal.subcomponents.insert(n, _vtimezone(tz_name, date(first.year, 1, 1), date(last.year + 1, 1, 1)))
    return cal.to_ical().decode("utf-8")


_KEY_CLEAN = re.compile(r"\s+")


def _appointment_key(h: Handout, key: str | None) -> str:
    key = key or h.appointment_id
    if key:
        return "key:" + _KEY_CLEAN.sub(" ", key.strip())
    return "date:" + h.start.astimezone(zone(h.timezone)).date().isoformat()


def render(
    handout: Handout,
    *,
    alarms: bool = True,
    stamp: datetime | None = None,
    appointment_key: str | None = None,
    **_options,
) -> str:
    """One patient's calendar. ``alarms=False`` leaves the reminders out; ``stamp`` fixes
    DTSTAMP (default: 00:00 UTC of ``handout.today``, or SOURCE_DATE_EPOCH);
    ``appointment_key`` (a booking id) replaces the appointment's date in the UIDs."""
    h = handout
    events = _events(h)
    patient = _patient_key(h)
    appt = _appointment_key(h, appointment_key)
    cal = _new_calendar(CALNAME, h.timezone)
    _add_events(
        cal,
        events,
        uid_of=lambda key: _uid(h.clinic.name, patient, appt, key),
        dtstamp=_dtstamp(h.today, stamp),
        label=None,
        alarms=alarms,
    )
    return _finish(cal, [h.timezone], events, h.today)


def _label(h: Handout, n: int) -> str:
    if h.patient_name and h.patient_name.strip():
        return " ".join(h.patient_name.split())
    if h.patient_id and h.patient_id.strip():
        return h.patient_id.strip()
    return f"Patient {n}"


def render_batch(batch: Batch, *, alarms: bool = True, stamp: datetime | None = None, **_options) -> str:
    """Every patient's events in one calendar (for the clinic: each summary starts with the
    patient's name, else id). The UIDs are the ones ``render`` gives each patient, so a
    patient's own file and the batch agree; a second appointment of the same patient on the
    same day gets its own."""
    tz_name = batch.clinic.timezone
    name = BATCH_CALNAME + (f" for {words.day(batch.day)}" if batch.day else "")
    cal = _new_calendar(name, tz_name)
    dtstamp = _dtstamp(batch.today, stamp)
    everything: list[_Event] = []
    seen: dict[tuple[str, str], int] = {}
    for n, h in enumerate(batch.handouts, start=1):
        events = _events(h)
        patient = _patient_key(h)
        appt = _appointment_key(h, None)
        count = seen.get((patient, appt), 0)
        seen[(patient, appt)] = count + 1
        if count:
            appt = f"{appt}#{count + 1}"
        _add_events(
            cal,
            events,
            uid_of=lambda key, h=h, patient=patient, appt=appt: _uid(h.clinic.name, patient, appt, key),
            dtstamp=dtstamp,
            label=_label(h, n),
            alarms=alarms,
        )
        everything.extend(events)
    return _finish(cal, [tz_name, *(h.timezone for h in batch.handouts)], everything, batch.today)
