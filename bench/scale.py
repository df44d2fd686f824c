#!/usr/bin/env python3
"""A month of a chain's appointments: ndjson and one PDF, wall time, first line, peak memory.

    .venv/bin/python bench/scale.py                    # 10,000 and 100,000 rows to ndjson;
                                                       # 1,000 and 10,000 handouts to one PDF
    .venv/bin/python bench/scale.py --rows 20000 --pdf 0

The schedules are made at run time: rows share days, 30-minute slots and areas (as a chain's
month does), booking dates and patients vary. Each run is its own process tree, measured from a
small wrapper process: wall time, the time to the first line out (ndjson), and the peak resident
memory of the largest process in the tree (``RUSAGE_CHILDREN``: the main process or any PDF
worker). Output goes to a pipe that is read and counted (ndjson) or to a file in a temporary
folder (PDF). Run it on a quiet machine; on a loaded one, compare ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import textwrap
from datetime import date, timedelta
from pathlib import Path

AREAS = ["face"] * 5 + ["face+neck"] * 2 + ["neck", "body", "hands", "scalp"]
TODAY = "2024-05-01"


def schedule(path: Path, count: int, seed: int = 7) -> None:
    """``count`` appointments over June 2024: 20 half-hour slots a day, booked up to 45 days ahead."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        f.write("date,time,area,name,patient_id,booked_on,prescribed\n")
        for i in range(count):
            day = date(2024, 6, 1) + timedelta(days=rng.randrange(30))
            slot = rng.randrange(20)
            booked = "" if rng.random() < 0.3 else (day - timedelta(days=rng.randrange(45))).isoformat()
            medicine = rng.choice([""] * 8 + ["medrol", "lasix"])
            f.write(f"{day},{8 + slot // 2:02d}:{30 * (slot % 2):02d},{rng.choice(AREAS)},"
                    f"Patient {i:06d},P-{i:06d},{booked},{medicine}\n")


WRAPPER = textwrap.dedent(
    """
    import json, resource, subprocess, sys, time
    start = time.perf_counter()
    proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first = None
    size = 0
    while True:
        chunk = proc.stdout.read1(1 << 20) if first is not None else proc.stdout.readline()
        if not chunk:
            break
        if first is None:
            first = time.perf_counter() - start
        size += len(chunk)
    code = proc.wait()
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"code": code, "wall": wall, "first": first, "bytes": size, "peak": peak}))
    """
)


def measure(cmd: list[str], cwd: str) -> dict:
    done = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], cwd=cwd, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    if result["code"] not in (0, 3):
        raise SystemExit(f"{' '.join(cmd[3:])} exited {result['code']}")
    return result


def base(csv: Path) -> list[str]:
    return [sys.executable, "-m", "mesocare", "batch", str(csv), "--tz", "Europe/London", "--today", TODAY]


def ndjson(tmp: str, rows: int) -> dict:
    csv = Path(tmp) / f"{rows}.csv"
    schedule(csv, rows)
    r = measure([*base(csv), "--format", "ndjson"], tmp)
    print(f"ndjson, {rows:,} rows: {r['wall']:.1f} s ({rows / r['wall']:,.0f} rows/s), first line after "
          f"{r['first']:.2f} s, {r['bytes'] / 1e6:,.0f} MB out, peak memory {r['peak']:.0f} MB", flush=True)
    i = measure([*base(csv), "--format", "ndjson", "--order", "input"], tmp)
    print(f"  the same with --order input: {i['wall']:.1f} s, first line after {i['first']:.2f} s, "
          f"peak memory {i['peak']:.0f} MB", flush=True)
    return r


def pdf(tmp: str, handouts: int) -> dict:
    csv = Path(tmp) / f"pdf-{handouts}.csv"
    schedule(csv, handouts, seed=11)
    out = Path(tmp) / f"{handouts}.pdf"
    r = measure([*base(csv), "--out", str(out)], tmp)
    import pikepdf  # pypdf refuses more than 2,000,000 objects, which a tagged PDF of 10,000 handouts has

    with pikepdf.open(out) as doc, doc.open_outline() as outline:
        pages, entries = len(doc.pages), len(outline.root)
    print(f"PDF, {handouts:,} handouts: {r['wall']:.1f} s ({handouts / r['wall']:.1f} handouts/s), {pages:,} pages, "
          f"{entries:,} outline entries, {out.stat().st_size / 1e6:.0f} MB, peak memory of any process "
          f"{r['peak']:.0f} MB", flush=True)
    out.unlink()
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[10_000, 100_000], help="ndjson runs (rows each)")
    parser.add_argument("--pdf", type=int, nargs="*", default=[1_000, 10_000], help="PDF runs (handouts each)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [(n, ndjson(tmp, n)) for n in args.rows if n]
        if len(runs) > 1:
            (n0, a), (n1, b) = runs[0], runs[-1]
            print(f"  {n1 / n0:.0f}x the rows: {b['wall'] / a['wall']:.1f}x the time, {b['peak'] / a['peak']:.2f}x the memory")
        runs = [(n, pdf(tmp, n)) for n in args.pdf if n]
        if len(runs) > 1:
            (n0, a), (n1, b) = runs[0], runs[-1]
            print(f"  {n1 / n0:.0f}x the handouts: {b['wall'] / a['wall']:.1f}x the time, "
                  f"{b['peak'] / a['peak']:.2f}x the memory")


if __name__ == "__main__":
    os.environ.pop("MESOCARE_CLINIC", None)
    main()
