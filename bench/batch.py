#!/usr/bin/env python3
"""A 1,000-appointment schedule to one PDF: wall time, handouts per second, peak memory.

    .venv/bin/python bench/batch.py              # 1,000 appointments
    .venv/bin/python bench/batch.py --count 200 --html
    .venv/bin/python bench/batch.py --languages  # each patient in one of en, fr, es-MX, it, pt-BR, de

With --html (and Chromium on PATH) the same handouts also go through an HTML-to-PDF engine
(Chromium's print to PDF) for comparison. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AREAS = ["face", "neck", "body", "hands", "scalp", "face+neck"]


LANGUAGES = ["en", "fr", "es-MX", "it", "pt-BR", "de"]


def schedule(path: Path, count: int, languages: bool = False) -> None:
    rng = random.Random(7)
    lines = ["date,time,area,name,patient_id,booked_on,prescribed" + (",language" if languages else "")]
    for i in range(count):
        hour, minute = 8 + (i % 10), rng.choice([0, 15, 30, 45])
        booked = rng.choice(["2024-05-01", "2024-06-03", "2024-06-09", ""])
        lines.append(f"2024-06-10,{hour:02d}:{minute:02d},{rng.choice(AREAS)},Patient {i:04d},P-{i:05d},{booked},"
                     f"{rng.choice(['', '', 'medrol', 'lasix'])}" + (f",{LANGUAGES[i % len(LANGUAGES)]}" if languages else ""))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(cmd: list[str], cwd: str) -> tuple[float, float]:
    """Wall seconds and the peak resident memory (MB) of the child."""
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--html", action="store_true", help="also time HTML through Chromium's print to PDF")
    parser.add_argument("--languages", action="store_true", help="patients in six languages (a language column)")
    parser.add_argument("--clinic", help="a clinic config for the run (e.g. one whose templates leave something out)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "day.csv"
        schedule(csv, args.count, args.languages)
        base = [sys.executable, "-m", "mesocare", "batch", str(csv), "--tz", "Europe/London", "--today", "2024-06-01"]
        if args.clinic:
            base += ["--clinic", str(Path(args.clinic).resolve())]
        wall, peak = run([*base, "--out", "day.pdf"], tmp)
        pages = subprocess.run([sys.executable, "-c", "import sys; from mesocare.render.pdf import pdf_page_count; "
                                "print(pdf_page_count(open(sys.argv[1], 'rb').read()))", str(Path(tmp) / "day.pdf")],
                               capture_output=True, text=True).stdout.strip()
        print(f"{args.count} handouts to one PDF ({pages} pages): {wall:.2f} s, "
              f"{args.count / wall:.0f} handouts/s, peak memory {peak:.0f} MB")
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if args.html and chromium:
            start = time.perf_counter()
            subprocess.run([*base, "--format", "html", "--out", "day.html"], cwd=tmp, check=True,
                           stderr=subprocess.DEVNULL)
            subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update", "--disable-sync",
                            f"--user-data-dir={tmp}/chromium", "--no-pdf-header-footer",
                            f"--print-to-pdf={tmp}/day-html.pdf", f"file://{tmp}/day.html"],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800)
            html_wall = time.perf_counter() - start
            print(f"the same through HTML and Chromium: {html_wall:.2f} s ({html_wall / wall:.1f}x the Typst time)")
        elif args.html:
            print("Chromium is not on PATH: no HTML comparison")


if __name__ == "__main__":
    os.environ.pop("MESOCARE_CLINIC", None)
    main()
