"""Build a handout: an appointment request, the rule set and the clinic in; a Handout out.

``build_handout`` is pure: ``today`` is a parameter and nothing is printed or read.
``handout_dict`` gives the contract's JSON shape (schema ``mesocare.handout/1``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Any

from mesocare import lang as languages
from mesocare.dates import (
    AppointmentTimes,
    appointment_times,
    check_day,
    instant,
    is_late,
    item_status,
    window_span,
)
from mesocare.errors import PastAppointmentError
from mesocare.model import Banner, Clinic, Handout, Item, Note, Request
from mesocare.rules import Rule, RuleSet
from mesocare.vocab import PHASES

SCHEMA_ID = "mesocare.handout/1"
PHASE_ORDER = {phase: i for i, phase in enumerate(PHASES)}


def rule_folders(clinic: Clinic) -> tuple[tuple[str, str], ...]:
    """Our rule folder and the clinic's: where each language's rule texts are looked up."""
    return _rule_folders(clinic.rules_dir)


@lru_cache(maxsize=8)
def _rule_folders(clinic_rules: str | None) -> tuple[tuple[str, str], ...]:
    from mesocare.resources import instructions_dir

    ours = ((str(instructions_dir()), "mesocare"),)
    return ours + (((clinic_rules, "clinic"),) if clinic_rules else ())


def build_handout(
    request: Request, ruleset: RuleSet, clinic: Clinic, today: date, strict: bool = False
) -> Handout:
    """The handout in the patient's language (``request.language``), else the clinic's: its
    dated steps (``dated_handout``), then what its booking date makes late (``booked``).

    Raises LanguageError for a language mesocare does not write, and MissingRuleText when a
    rule has no text in it.
    """
    return booked(*dated_handout(request, ruleset, clinic, today, strict), request)


def dated_handout(
    request: Request, ruleset: RuleSet, clinic: Clinic, today: date, strict: bool = False
) -> tuple[Handout, AppointmentTimes]:
    """The handout as if no booking date were known (nothing late), and the appointment's times.

    It depends on the appointment (day, time, duration, areas, technique, medicines, course,
    language) and today, not on when it was booked: a batch computes it once for rows that
    differ only in the booking date and the patient.
    """
    from mesocare.emergency import numbers as emergency_numbers
    from mesocare.lang import notices, ui
    from mesocare.lang.localize import localizer

    lang = languages.handout_language(request, clinic)  # decided here, once: h.lang
    local = localizer(lang, rule_folders(clinic))
    numbers = emergency_numbers(clinic.emergency_country)
    check_day(today, "today")
    duration = request.duration_minutes or clinic.duration_minutes
    appt = appointment_times(
        request.date, request.time, duration, clinic.timezone, request.course.end
    )
    tz = appt.tz

    warnings: list[str] = []
    banners: list[str] = []
    parts: list[Banner] = []
    if request.date < today:
        if strict:
            raise PastAppointmentError(
                f"the appointment date {request.date.isoformat()} is before today "
                f"({today.isoformat()}); "
                "without --strict it would print with a warning."
            )
        warnings.append(
            f"the appointment date {request.date.isoformat()} is before today "
            f"({today.isoformat()}); "
            "the handout is marked as past."
        )
        banners.append(ui.past_banner(lang, request.date))
        parts.append(Banner(banners[-1]))

    spans: dict[str, tuple] = {}

    def span(rule: Rule):
        if rule.id not in spans:
            spans[rule.id] = window_span(
                rule.window, appt, lambda rid: span(ruleset.followed(rid))[1]
            )
        return spans[rule.id]

    course_known = request.course.end is not None
    order = {r.id: i for i, r in enumerate(ruleset.rules)}
    items: list[Item] = []
    for rule in ruleset.rules:
        if not rule.applies(request.areas, request.technique, request.prescribed):
            continue
        start, end = span(rule)
        if end is not None and instant(end) <= instant(start):
            continue  # an empty window: e.g. "until the course ends" for a one-session course
        open_end = rule.window.until == "course-end" and not course_known
        words = local.rule(rule, clinic.units)
        items.append(
            Item(
                rule=rule.id,
                name=words.name,
                phase=rule.phase,
                start=start,
                end=end,
                status=item_status(start, end, today, tz),
                late=False,
                text=notices.course_unknown(lang, words.text) if open_end else words.text,
                when=lang.when(
                    rule.phase,
                    start,
                    end,
                    appt.start,
                    appt.end,
                    open_end,
                    until_appointment=rule.window.until == "appointment",
                    timed=appt.timed,
                ),
                reason=words.reason,
                source=rule.source,
                basis=rule.basis,
                prescription=rule.prescription is not None,
                origin=rule.origin,
                resume=words.resume,
            )
        )
    items.sort(
        key=lambda i: (
            PHASE_ORDER[i.phase],
            instant(i.start),
            i.end is None,
            instant(i.end or i.start),
            order[i.rule],
        )
    )

    notes = tuple(
        Note(
            id=n.id,
            section=n.section,
            text=local.note(n, clinic.units),
            source=n.source,
            origin=n.origin,
        )
        for n in ruleset.notes
        if (n.areas is None or any(a in n.areas for a in request.areas))
        and (n.techniques is None or request.technique in n.techniques)
    )
    clinic_ids = tuple(i.rule for i in items if i.origin == "clinic") + tuple(
        n.id for n in notes if n.origin == "clinic"
    )

    return Handout(
        clinic=clinic,
        patient_name=request.name,
        patient_id=request.patient_id,
        start=appt.start,
        end=appt.end,
        timed=appt.timed,
        areas=request.areas,
        technique=request.technique,
        prescribed=request.prescribed,
        course=request.course,
        items=tuple(items),
        notes=notes,
        banners=tuple(banners),
        banner_parts=tuple(parts),
        warnings=tuple(warnings),
        today=today,
        booked=None,
        rules_version=ruleset.version,
        reviewed_on=ruleset.reviewed_on,
        clinic_rules=clinic_ids,
        appointment_id=request.appointment_id,
        lang=lang,
        translation=ui.credit(lang, local.credit(), clinic.review(lang.tag)),
        emergency=notices.emergency_line(lang, numbers),
        emergency_numbers=numbers,
    ), appt


def booked(h: Handout, appt: AppointmentTimes, request: Request) -> Handout:
    """``h`` (from ``dated_handout``) for ``request``'s booking date: the steps that had already
    started by then are marked late, and a banner asks the patient to phone first."""
    if request.booked is None:
        return h
    from mesocare.lang import notices, ui

    check_day(request.booked, "booking date")
    items = tuple(
        replace(i, late=True) if is_late(i.start, appt, request.booked) else i for i in h.items
    )
    late = [i for i in items if i.late]
    if not late:
        return replace(h, booked=request.booked)
    lang = h.lang
    steps = [ui.late_step(lang, i.name, i.start.date()) for i in late]
    ahead = (request.date - request.booked).days
    banner = ui.late_banner(lang, request.booked, ahead, steps, h.clinic.phone)
    return replace(
        h,
        items=items,
        banners=(notices.banner_text(lang, banner), *h.banners),
        banner_parts=(banner, *h.banner_parts),
        booked=request.booked,
    )


def _iso(dt) -> str | None:
    return dt.isoformat() if dt is not None else None


def item_dict(i: Item) -> dict[str, Any]:
    """One dated instruction in the contract's JSON."""
    return {
        "rule": i.rule,
        "phase": i.phase,
        "start": i.start.isoformat(),
        "end": _iso(i.end),
        "status": i.status,
        "late": i.late,
        "text": i.text,
        "name": i.name,
        "when": i.when,
        "reason": i.reason,
        "source": i.source,
        "basis": i.basis,
        "prescription": i.prescription,
        "origin": i.origin,
    }


def note_dict(n: Note) -> dict[str, Any]:
    return {
        "id": n.id,
        "section": n.section,
        "text": n.text,
        "source": n.source,
        "origin": n.origin,
    }


def item_list(items: tuple[Item, ...]) -> list[dict[str, Any]]:
    return [item_dict(i) for i in items]


def note_list(notes: tuple[Note, ...]) -> list[dict[str, Any]]:
    return [note_dict(n) for n in notes]


def handout_dict(h: Handout, items=item_list, notes=note_list) -> dict[str, Any]:
    """The contract's JSON object for one appointment. Keys may be added, never renamed.

    ``items`` and ``notes`` turn the handout's items and notes into their JSON value (a batch
    passes functions that reuse what it encoded for an earlier row).
    """
    return {
        "schema": SCHEMA_ID,
        "language": h.lang.tag,
        "appointment": {
            "start": h.start.isoformat(),
            "end": h.end.isoformat(),
            "area": "+".join(h.areas),
            "areas": list(h.areas),
            "technique": h.technique,
            "timezone": h.timezone,
            "date": h.start.date().isoformat(),
            "timed": h.timed,
            "prescribed": list(h.prescribed),
            "id": h.appointment_id,
        },
        "patient": {"name": h.patient_name, "id": h.patient_id},
        "clinic": {"name": h.clinic.name, "phone": h.clinic.phone},
        "emergency": {"numbers": list(h.emergency_numbers), "text": h.emergency},
        "course": {
            "sessions": [d.isoformat() for d in h.course.sessions],
            "end": h.course.end.isoformat() if h.course.end else None,
        },
        "items": items(h.items),
        "notes": notes(h.notes),
        "banners": list(h.banners),
        "warnings": list(h.warnings),
        "today": h.today.isoformat(),
        "booked": h.booked.isoformat() if h.booked else None,
        "rules_version": h.rules_version,
        "reviewed_on": h.reviewed_on.isoformat() if h.reviewed_on else None,
        "clinic_rules": list(h.clinic_rules),
    }
