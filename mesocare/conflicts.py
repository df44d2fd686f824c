"""Rules that ask and forbid the same thing: the check behind ``mesocare rules check``.

Each rule may say what it asks the patient to do or use (``asks:``) and what it asks them to
avoid (``forbids:``), in the words of ``vocab.CONCEPTS`` (``topical-on-area``, ``aspirin``,
``drinking-water``...). Two rules that would be on the same handout, for the same area, with
windows that overlap in time, and of which one asks for a concept the other forbids, tell the
patient to do a thing and not to do it: "put arnica cream on the area to be treated" beside
"do not put creams on the area to be treated".

Which rules share a handout and an area is worked out from the rules themselves: every area
on its own (a rule acts on the areas it applies to, so two rules that meet on one area of a
handout with several areas also meet on a handout of that area alone), every technique, the
prescribed medicines all given (a prescription only adds rules), a course of several sessions
and an unknown course, timed and untimed. The windows are computed as the handout computes
them (``dates.window_span``), on a fixed date: they depend on the rules, not on the day.
"""

from __future__ import annotations

from datetime import date, time
from itertools import product

from mesocare.dates import appointment_times, instant, window_span
from mesocare.rules import Rule, RuleSet
from mesocare.vocab import AREAS, PRESCRIPTIONS, TECHNIQUES

_DAY = date(2030, 6, 12)  # any ordinary day: a Wednesday with no clock change in UTC
_COURSES = (date(2030, 8, 7), None)  # a course of several sessions; an unknown course
_TIMES = (time(10, 0), None)


def _overlap(a: tuple, b: tuple) -> bool:
    """Two windows (start, end or None for no end) share a moment."""
    a_end = instant(a[1]) if a[1] is not None else None
    b_end = instant(b[1]) if b[1] is not None else None
    return (b_end is None or instant(a[0]) < b_end) and (a_end is None or instant(b[0]) < a_end)


def _spans(ruleset: RuleSet, at: time | None, course_end: date | None) -> dict[str, tuple]:
    appt = appointment_times(_DAY, at, 30, "UTC", course_end)
    spans: dict[str, tuple] = {}

    def span(rule: Rule) -> tuple:
        if rule.id not in spans:
            spans[rule.id] = window_span(
                rule.window, appt, lambda rid: span(ruleset.followed(rid))[1]
            )
        return spans[rule.id]

    for rule in ruleset.rules:
        span(rule)
    return spans


def conflicts(ruleset: RuleSet) -> list[tuple[Rule, Rule, str, str, str]]:
    """Every (asking rule, forbidding rule, concept, area, technique) that meet, each pair once."""
    found: dict[tuple[str, str, str], tuple] = {}
    pairs = [
        (a, f, c)
        for a in ruleset.rules
        for f in ruleset.rules
        if a.id != f.id
        for c in a.asks
        if c in f.forbids
    ]
    if not pairs:
        return []
    for at, course_end in product(_TIMES, _COURSES):
        spans = _spans(ruleset, at, course_end)
        for asking, forbidding, concept in pairs:
            if (asking.id, forbidding.id, concept) in found:
                continue
            a_span, f_span = spans[asking.id], spans[forbidding.id]
            if instant(a_span[1] or a_span[0]) < instant(a_span[0]) or not _overlap(a_span, f_span):
                continue
            for area, technique in product(AREAS, TECHNIQUES):
                both = (asking, forbidding)
                if all(r.applies((area,), technique, PRESCRIPTIONS) for r in both):
                    found[(asking.id, forbidding.id, concept)] = (*both, concept, area, technique)
                    break
    return list(found.values())


def conflict_findings(ruleset: RuleSet) -> list:
    """``rules check``'s errors: each pair named once, at the clinic's rule when one of the two
    is the clinic's (that is the file to change), else at the forbidding rule."""
    from mesocare.findings import Finding

    out = []
    for asking, forbidding, concept, area, technique in conflicts(ruleset):
        at = asking if asking.origin == "clinic" and forbidding.origin != "clinic" else forbidding
        out.append(
            Finding(
                "error",
                at.file,
                at.line or None,
                "asks" if at is asking else "forbids",
                f"rule '{asking.id}' ({asking.file}, line {asking.line}) asks for {concept} and "
                f"rule '{forbidding.id}' ({forbidding.file}, line {forbidding.line}) forbids it, "
                f"on the same handout, area and time (for example {area}, {technique}): limit one "
                "of them with areas: or exclude_areas:, or change its window",
            )
        )
    return out
