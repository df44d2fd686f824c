"""Batches: a schedule's rows in, a Batch of handouts out (sorted by start), bad rows named.

Pure: ``today`` is a parameter; nothing is printed. A row that cannot be turned into a
handout (a time the clocks skip, say) becomes a RowProblem and the rest go on.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from mesocare.dates import instant
from mesocare.errors import MesocareError
from mesocare.handout import build_handout
from mesocare.lang import LanguageError
from mesocare.model import Batch, Clinic, Handout, RowProblem, Schedule
from mesocare.rules import RuleSet


def build_batch(schedule: Schedule, ruleset: RuleSet, clinic: Clinic, today: date, day: date | None = None) -> Batch:
    """Every row's handout (only ``day``'s appointments when given), sorted by start time.

    Booking dates come from the schedule only: with none, nothing is late (and the cover
    sheet says late bookings could not be checked), so printing tomorrow's list today never
    puts every patient on the call list.
    """
    problems: list[RowProblem] = list(schedule.problems)
    built: list[tuple[Handout, int, str]] = []
    for index, row in enumerate(schedule.rows):
        if day is not None and row.request.date != day:
            continue
        try:
            handout = build_handout(row.request, ruleset, clinic, today)
        except LanguageError as e:
            problems.append(RowProblem(row.position, "language", str(e)))
            continue
        except MesocareError as e:
            problems.append(RowProblem(row.position, None, str(e)))
            continue
        built.append((handout, index, row.position))
    built.sort(key=lambda t: (instant(t[0].start), t[1]))
    # past-appointment warnings name the row, never the patient
    handouts = [replace(h, warnings=tuple(f"{position}: {w}" for w in h.warnings)) for h, _, position in built]
    return Batch(
        clinic=clinic,
        today=today,
        day=day,
        handouts=tuple(handouts),
        booking_checked=schedule.has_booking_dates,
        problems=tuple(problems),
        positions=tuple(position for _, _, position in built),
        step_names=_step_names(handouts, ruleset, clinic),
    )


def _step_names(handouts, ruleset: RuleSet, clinic: Clinic) -> tuple[tuple[str, str], ...]:
    """The names of the late steps in the cover sheet's language (the clinic's): the nurse
    reads "willow bark" on an English cover even when the patient's handout is in German."""
    from mesocare import lang
    from mesocare.handout import rule_folders
    from mesocare.lang.localize import localizer

    late = sorted({i.rule for h in handouts for i in h.late_items})
    if not late:
        return ()
    local = localizer(lang.get(clinic.language).tag, rule_folders(clinic))
    return tuple((rid, local.rule(ruleset.rule(rid), clinic.units).name) for rid in late if ruleset.rule(rid))


def summary(batch: Batch, cover: bool = True) -> str:
    """What a batch did, for stderr; ``cover``: the output has a cover sheet to point to."""
    n = len(batch.handouts)
    lines = [f"{n} handout{'s' if n != 1 else ''}."]
    errors = batch.errors
    skipped = [p for p in batch.problems if not p.error]
    if errors:
        lines.append(f"{len(errors)} row{'s' if len(errors) != 1 else ''} skipped:")
        lines.extend(f"  {p}" for p in errors)
    if skipped:
        lines.append(f"{len(skipped)} not printed on purpose:")
        lines.extend(f"  {p}" for p in skipped)
    if batch.handouts and not batch.booking_checked:
        lines.append("Late bookings could not be checked: the schedule has no booking dates.")
    elif batch.to_call:
        where = " (see the cover sheet)" if cover else ""
        lines.append(f"{len(batch.to_call)} to phone before their appointment{where}.")
    return "\n".join(lines)
