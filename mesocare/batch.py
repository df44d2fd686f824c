"""Batches: a schedule's rows in, handouts out (sorted by start), bad rows named.

Pure: ``today`` is a parameter; nothing is printed. A row that cannot be turned into a
handout (a time the clocks skip, say) becomes a RowProblem and the rest go on.

Any number of rows in flat memory (``BatchPlan``): the schedule is read once, each good row
is written to a temporary spool file and only a light record stays in memory (its start as a
number and where it is in the spool); the records are sorted, and the handouts are then built
one at a time, in that order, as they are asked for. Rows that share everything but the
patient (same day, time, duration, areas, technique, medicines, course and booking date) share
one computed handout (``HandoutCache``, bounded). ``build_batch`` is the same thing held whole,
for the formats that lay out a whole list at once.
"""

from __future__ import annotations

import pickle
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from mesocare.dates import AppointmentTimes, appointment_times, instant
from mesocare.errors import MesocareError
from mesocare.handout import booked, dated_handout
from mesocare.lang import LanguageError, clinic_language
from mesocare.memo import get_or_make
from mesocare.model import Batch, Clinic, Handout, Request, RowProblem, Schedule, ScheduleRow
from mesocare.rules import RuleSet

V = TypeVar("V")

if TYPE_CHECKING:
    from cachetools import LRUCache

CACHE_SIZE = 512  # computed handouts kept (rows come in time order, so neighbours share them)


class HandoutCache:
    """``build_handout`` for many rows, computing once what rows share.

    Two levels, each bounded (least recently used dropped first): the dated handout
    (``dated_handout``) per request without the patient (name, ids, email) and without the
    booking date, i.e. per day, time, duration, areas, technique, medicines, course and
    language; then that handout for one booking date (``booked``: which steps are late). A
    hit is the cached handout with this patient's name and ids put back, equal to what
    ``build_handout`` returns.
    """

    PERSONAL: ClassVar[dict[str, Any]] = {
        "name": None,
        "patient_id": None,
        "appointment_id": None,
        "email": None,
    }

    def __init__(self, ruleset: RuleSet, clinic: Clinic, today: date, size: int = CACHE_SIZE):
        self.ruleset, self.clinic, self.today, self.size = ruleset, clinic, today, size
        from cachetools import LRUCache

        self._dated: LRUCache[Request, tuple[Handout, AppointmentTimes]] = LRUCache(size)
        self._booked: LRUCache[Request, Handout] = LRUCache(size)
        self.hits = self.misses = 0

    def build(self, request: Request) -> Handout:
        key = replace(request, **self.PERSONAL)
        try:
            handout = self._booked[key]  # a hit is now the most recently used
            self.hits += 1
        except KeyError:
            self.misses += 1
            dated = get_or_make(
                self._dated,
                replace(key, booked=None),
                lambda: dated_handout(key, self.ruleset, self.clinic, self.today),
            )
            handout = self._booked[key] = booked(*dated, key)
        return replace(
            handout,
            patient_name=request.name,
            patient_id=request.patient_id,
            appointment_id=request.appointment_id,
        )


@lru_cache(maxsize=4096)
def _start(day: date, at, tz_name: str) -> float:
    """The appointment's start as seconds since the epoch (the sort key; the duration does not move
    it)."""
    return instant(appointment_times(day, at, 30, tz_name).start).timestamp()


class BatchPlan:
    """A schedule read once and held light, giving its handouts in start order, one at a time.

    ``items`` are a reader's ScheduleRows and RowProblems in input order; ``booking`` says,
    once they are read, whether the schedule had booking dates. Reading happens here, in full,
    before the first handout is given, so a file that fails part way fails before any output.
    With ``in_order`` nothing is read here: each row's handout is given as soon as the row is
    read, in the schedule's own order (the first one at once; a file failing part way fails
    after the handouts before it).
    Iterate (once) for ``(handout, position)`` pairs; ``problems`` and the counts are final
    after that. Use as a context manager (or call ``close``) to remove the spool file.
    """

    def __init__(
        self,
        items: Iterable[ScheduleRow | RowProblem],
        ruleset: RuleSet,
        clinic: Clinic,
        today: date,
        day: date | None = None,
        booking: Callable[[], bool] = lambda: False,
        cache_size: int = CACHE_SIZE,
        in_order: bool = False,
        require: Callable[[Request], tuple[str, str] | None] | None = None,
    ):
        self.clinic, self.today, self.day = clinic, today, day
        self.lang = clinic_language(clinic)  # the cover sheet's, decided once: Batch.lang
        self.in_order = in_order
        self.require = require  # (field, problem) when a row lacks what the output needs
        self.cache = HandoutCache(ruleset, clinic, today, cache_size)
        self._read: list[RowProblem] = []  # the reader's problems, in its order
        self._built: list[
            tuple[int, RowProblem]
        ] = []  # problems building a row, with its input index
        self._unwritten: list[RowProblem] = []  # handouts made whose file could not be written
        self._spool = tempfile.TemporaryFile(prefix="mesocare-rows-")  # noqa: SIM115 (closed by close())
        self._starts = array(
            "d"
        )  # per good row: its start, its input index, where it is in the spool
        self._index = array("q")
        self._offsets = array("q")
        self.days: set[date] = set()  # the appointments' dates
        self._late_rules: set[str] = set()  # ids of the rules late for some patient
        self.count = 0  # handouts given so far
        self.to_call = 0  # of which with late items
        self._items, self._booking = items, booking
        self.booking_checked = False
        if in_order:  # read as the handouts are asked for, in the schedule's order
            return
        try:
            self._read_rows(items)
            self.booking_checked = bool(booking())
        except BaseException:
            self.close()
            raise

    def _accepted(
        self, items: Iterable[ScheduleRow | RowProblem]
    ) -> Iterator[tuple[int, ScheduleRow]]:
        """The rows to make handouts of, with their input index: the reader's problems are
        noted, rows of another day left out, a start the clocks skip noted; each start counted."""
        tz = self.clinic.timezone
        for index, item in enumerate(items):
            if isinstance(item, RowProblem):
                self._read.append(item)
                continue
            request = item.request
            if self.day is not None and request.date != self.day:
                continue
            try:
                start = _start(request.date, request.time, tz)
            except MesocareError as e:
                self._built.append((index, RowProblem(item.position, None, str(e))))
                continue
            self.days.add(request.date)
            self._starts.append(start)
            yield index, item

    def _read_rows(self, items: Iterable[ScheduleRow | RowProblem]) -> None:
        for index, item in self._accepted(items):
            self._index.append(index)
            self._offsets.append(self._spool.tell())
            self._spool.write(
                pickle.dumps((item.position, item.request), protocol=pickle.HIGHEST_PROTOCOL)
            )
        self._offsets.append(self._spool.tell())

    @property
    def rows(self) -> int:
        """Good rows read (handouts to come, less any that fail to build)."""
        return len(self._starts)

    def __iter__(self) -> Iterator[tuple[Handout, str]]:
        if self.in_order:
            yield from self._in_order()
            return
        spool, offsets, starts = self._spool, self._offsets, self._starts
        order = sorted(
            range(len(starts)), key=starts.__getitem__
        )  # stable: ties keep the input order
        for n in order:
            spool.seek(offsets[n])
            position, request = pickle.loads(spool.read(offsets[n + 1] - offsets[n]))
            made = self._made(self._index[n], position, request)
            if made is not None:
                yield made

    def _in_order(self) -> Iterator[tuple[Handout, str]]:
        """Each row's handout as soon as the row is read, in the schedule's order (no spool,
        no sort): a reader's error part way ends the iteration after what was given."""
        for index, item in self._accepted(self._items):
            made = self._made(index, item.position, item.request)
            if made is not None:
                yield made
        self.booking_checked = bool(self._booking())

    def _made(self, index: int, position: str, request: Request) -> tuple[Handout, str] | None:
        """The row's handout and position, counted; None (and the row's problem noted) if it
        fails."""
        lacking = self.require(request) if self.require is not None else None
        if lacking is not None:
            self._built.append((index, RowProblem(position, *lacking)))
            return None
        try:
            handout = self.cache.build(request)
        except LanguageError as e:
            self._built.append((index, RowProblem(position, "language", str(e))))
            return None
        except MesocareError as e:
            self._built.append((index, RowProblem(position, None, str(e))))
            return None
        if handout.warnings:  # past-appointment warnings name the row, never the patient
            handout = replace(handout, warnings=tuple(f"{position}: {w}" for w in handout.warnings))
        self.count += 1
        late = handout.late_items
        self.to_call += bool(late)
        self._late_rules.update(i.rule for i in late)
        return handout, position

    def unwritten(self, position: str, problem: str) -> None:
        """A handout given by this plan could not be rendered or written: a skipped row (named
        by its position, never its patient), no longer counted among the handouts."""
        self._unwritten.append(RowProblem(position, None, problem))
        self.count -= 1

    @property
    def problems(self) -> tuple[RowProblem, ...]:
        """The reader's problems, then those met building rows, in input order, then the
        handouts that could not be written."""
        built = tuple(p for _, p in sorted(self._built, key=lambda t: t[0]))
        return tuple(self._read) + built + tuple(self._unwritten)

    @property
    def errors(self) -> tuple[RowProblem, ...]:
        return tuple(p for p in self.problems if p.error)

    def batch(self, pairs: Iterable[tuple[Handout, str]] | None = None) -> Batch:
        """Every handout held at once, as one Batch (for the formats that lay out a whole list).

        ``pairs``: this plan's iteration, when the caller watches it on the way.
        """
        built = list(self if pairs is None else pairs)
        return Batch(
            clinic=self.clinic,
            today=self.today,
            day=self.day,
            handouts=tuple(h for h, _ in built),
            booking_checked=self.booking_checked,
            problems=self.problems,
            positions=tuple(p for _, p in built),
            step_names=self.step_names(),
            lang=self.lang,
        )

    def cover(self, handouts: tuple[Handout, ...]) -> Batch:
        """The Batch a cover sheet shows: ``handouts`` (as given), and the problems so far."""
        return Batch(
            self.clinic,
            self.today,
            self.day,
            handouts,
            self.booking_checked,
            self.problems,
            step_names=self.step_names(),
            lang=self.lang,
        )

    def step_names(self) -> tuple[tuple[str, str], ...]:
        """The names of the late steps so far in the cover sheet's language (the clinic's): the
        nurse reads "willow bark" on an English cover even when the patient's handout is in
        German."""
        if not self._late_rules:
            return ()
        from mesocare.handout import rule_folders
        from mesocare.lang.localize import localizer

        ruleset, clinic = self.cache.ruleset, self.clinic
        local = localizer(self.lang, rule_folders(clinic))
        return tuple(
            (rid, local.rule(ruleset.rule(rid), clinic.units).name)
            for rid in sorted(self._late_rules)
            if ruleset.rule(rid)
        )

    def close(self) -> None:
        self._spool.close()

    def __enter__(self) -> BatchPlan:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def schedule_items(schedule: Schedule) -> list[ScheduleRow | RowProblem]:
    return [*schedule.problems, *schedule.rows]


def build_batch(
    schedule: Schedule, ruleset: RuleSet, clinic: Clinic, today: date, day: date | None = None
) -> Batch:
    """Every row's handout (only ``day``'s appointments when given), sorted by start time.

    Booking dates come from the schedule only: with none, nothing is late (and the cover
    sheet says late bookings could not be checked), so printing tomorrow's list today never
    puts every patient on the call list.
    """
    with BatchPlan(
        schedule_items(schedule), ruleset, clinic, today, day, lambda: schedule.has_booking_dates
    ) as plan:
        return plan.batch()


@dataclass(frozen=True)
class Tally:
    """What a batch did, in counts: all the summary needs (a streamed batch holds no list)."""

    handouts: int
    to_call: int
    problems: tuple[RowProblem, ...]
    booking_checked: bool

    @classmethod
    def of(cls, batch: Batch | BatchPlan) -> Tally:
        if isinstance(batch, BatchPlan):
            return cls(batch.count, batch.to_call, batch.problems, batch.booking_checked)
        return cls(len(batch.handouts), len(batch.to_call), batch.problems, batch.booking_checked)


def summary(batch: Batch | BatchPlan | Tally, cover: bool = True) -> str:
    """What a batch did, for stderr; ``cover``: the output has a cover sheet to point to."""
    tally = batch if isinstance(batch, Tally) else Tally.of(batch)
    n = tally.handouts
    lines = [f"{n} handout{'s' if n != 1 else ''}."]
    errors = [p for p in tally.problems if p.error]
    skipped = [p for p in tally.problems if not p.error]
    if errors:
        lines.append(f"{len(errors)} row{'s' if len(errors) != 1 else ''} skipped:")
        lines.extend(f"  {p}" for p in errors)
    if skipped:
        lines.append(f"{len(skipped)} not printed on purpose:")
        lines.extend(f"  {p}" for p in skipped)
    if n and not tally.booking_checked:
        lines.append("Late bookings could not be checked: the schedule has no booking dates.")
    elif tally.to_call:
        where = " (see the cover sheet)" if cover else ""
        lines.append(f"{tally.to_call} to phone before their appointment{where}.")
    return "\n".join(lines)
