#!/usr/bin/env python3
"""A month of a chain's appointments: ndjson and one PDF, wall time, first line, peak memory.

    .venv/bin/python bench/scale.py                    # 10,000 and 100,000 rows to ndjson;
                                                       # 1,000 and 10,000 handouts to one PDF
    .venv/bin/python bench/scale.py --rows 20000 --pdf 0
    .venv/bin/python bench/scale.py --baseline ../mesocare-old --write-results

The schedules are made at run time: rows share days, 30-minute slots and areas (as a chain's
month does), booking dates and patients vary. Each run is its own process tree, measured from a
small wrapper process: wall time, the time to the first line out (ndjson), and the peak resident
memory of the largest process in the tree (``RUSAGE_CHILDREN``: the main process or any PDF
worker), with bench/results.py's ``measure``. With --baseline PATH the mesocare of another
checkout (with a .venv) or venv runs the same (time-ordered) runs. Output goes to a pipe that is
read and counted (ndjson) or to a file in a temporary folder (PDF). Run it on a quiet machine; on a
loaded one, compare ratios.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from results import Figure, add_arguments, interpreters, measure, write_results

AREAS = ["face"] * 5 + ["face+neck"] * 2 + ["neck", "body", "hands", "scalp"]
TODAY = "2024-05-01"


def schedule(path: Path, count: int, seed: int = 7) -> None:
    """``count`` appointments over June 2024: 20 half-hour slots a day, booked up to 45 days
    ahead."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        f.write("date,time,area,name,patient_id,booked_on,prescribed\n")
        for i in range(count):
            day = date(2024, 6, 1) + timedelta(days=rng.randrange(30))
            slot = rng.randrange(20)
            booked = (
                "" if rng.random() < 0.3 else (day - timedelta(days=rng.randrange(45))).isoformat()
            )
            medicine = rng.choice([""] * 8 + ["medrol", "lasix"])
            f.write(
                f"{day},{8 + slot // 2:02d}:{30 * (slot % 2):02d},{rng.choice(AREAS)},"
                f"Patient {i:06d},P-{i:06d},{booked},{medicine}\n"
            )


def base(python: str, csv: Path) -> list[str]:
    return [python, "-m", "mesocare", "batch", str(csv), "--tz", "Europe/London", "--today", TODAY]


class Runs:
    """Every measured figure of this run, by name, for mesocare and the baseline."""

    def __init__(self) -> None:
        self.figures: dict[tuple[str, str], Figure] = {}
        self.notes: list[str] = []

    def add(self, what: str, unit: str, value: float, baseline: bool = False) -> None:
        figure = self.figures.setdefault((what, unit), Figure(what, unit, []))
        (figure.baseline if baseline else figure.values).append(value)


def ndjson(tmp: str, rows: int, pythons: list[tuple[str, str]], runs: Runs) -> dict:
    csv = Path(tmp) / f"{rows}.csv"
    schedule(csv, rows)
    found = {}
    for name, python in pythons:
        r = found[name] = measure([*base(python, csv), "--format", "ndjson"], tmp, ok=(0, 3))
        print(
            f"{name}: ndjson, {rows:,} rows: {r['wall']:.1f} s ({rows / r['wall']:,.0f} rows/s), "
            "first line after "
            f"{r['first']:.2f} s, {r['bytes'] / 1e6:,.0f} MB out, peak memory {r['peak']:.0f} MB",
            flush=True,
        )
        runs.add(f"{rows:,} rows to ndjson, wall", "s", r["wall"], name == "baseline")
        runs.add(f"{rows:,} rows to ndjson, first line", "s", r["first"], name == "baseline")
        runs.add(f"{rows:,} rows to ndjson, peak memory", "MB", r["peak"], name == "baseline")
    i = measure(
        [*base(sys.executable, csv), "--format", "ndjson", "--order", "input"], tmp, ok=(0, 3)
    )
    print(
        f"  the same with --order input: {i['wall']:.1f} s, first line after {i['first']:.2f} s, "
        f"peak memory {i['peak']:.0f} MB",
        flush=True,
    )
    runs.add(f"{rows:,} rows to ndjson --order input, wall", "s", i["wall"])
    runs.add(f"{rows:,} rows to ndjson --order input, first line", "s", i["first"])
    runs.add(f"{rows:,} rows to ndjson --order input, peak memory", "MB", i["peak"])
    return found["mesocare"]


def pdf(tmp: str, handouts: int, pythons: list[tuple[str, str]], runs: Runs) -> dict:
    csv = Path(tmp) / f"pdf-{handouts}.csv"
    schedule(csv, handouts, seed=11)
    out = Path(tmp) / f"{handouts}.pdf"
    found = {}
    for name, python in pythons:
        r = found[name] = measure([*base(python, csv), "--out", str(out)], tmp, ok=(0, 3))
        # pypdf refuses more than 2,000,000 objects, which a tagged PDF of 10,000 handouts has
        import pikepdf

        with pikepdf.open(out) as doc, doc.open_outline() as outline:
            pages, entries = len(doc.pages), len(outline.root)
        print(
            f"{name}: PDF, {handouts:,} handouts: {r['wall']:.1f} s ({handouts / r['wall']:.1f} "
            "handouts/s), "
            f"{pages:,} pages, {entries:,} outline entries, {out.stat().st_size / 1e6:.0f} MB, "
            "peak memory of any "
            f"process {r['peak']:.0f} MB",
            flush=True,
        )
        runs.add(f"{handouts:,} handouts to one PDF, wall", "s", r["wall"], name == "baseline")
        runs.notes.append(
            f"{name}: {handouts:,} handouts to one PDF of {pages:,} pages, "
            f"{entries:,} outline entries, "
            f"{out.stat().st_size / 1e6:.0f} MB"
        )
        runs.add(
            f"{handouts:,} handouts to one PDF, peak memory", "MB", r["peak"], name == "baseline"
        )
        out.unlink()
    return found["mesocare"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, nargs="*", default=[10_000, 100_000], help="ndjson runs (rows each)"
    )
    parser.add_argument(
        "--pdf", type=int, nargs="*", default=[1_000, 10_000], help="PDF runs (handouts each)"
    )
    add_arguments(parser)
    args = parser.parse_args()
    pythons = interpreters(args)
    figures = Runs()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [(n, ndjson(tmp, n, pythons, figures)) for n in args.rows if n]
        if len(runs) > 1:
            (n0, a), (n1, b) = runs[0], runs[-1]
            print(
                f"  {n1 / n0:.0f}x the rows: {b['wall'] / a['wall']:.1f}x the time, "
                f"{b['peak'] / a['peak']:.2f}x the memory"
            )
        runs = [(n, pdf(tmp, n, pythons, figures)) for n in args.pdf if n]
        if len(runs) > 1:
            (n0, a), (n1, b) = runs[0], runs[-1]
            print(
                f"  {n1 / n0:.0f}x the handouts: {b['wall'] / a['wall']:.1f}x the time, "
                f"{b['peak'] / a['peak']:.2f}x the memory"
            )
    if args.write_results:
        write_results(
            "bench/scale.py",
            ["bench/scale.py", *sys.argv[1:]],
            list(figures.figures.values()),
            args,
            notes=figures.notes,
        )


if __name__ == "__main__":
    os.environ.pop("MESOCARE_CLINIC", None)
    main()
