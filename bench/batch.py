#!/usr/bin/env python3
"""A 1,000-appointment schedule to one PDF: wall time, handouts per second, peak memory.

    .venv/bin/python bench/batch.py              # 1,000 appointments
    .venv/bin/python bench/batch.py --count 200 --html
    .venv/bin/python bench/batch.py --languages  # each patient in en, fr, es-MX, it, pt-BR or de
    .venv/bin/python bench/batch.py --repeat 5 --baseline ../mesocare-old --write-results

With --html (and Chromium on PATH) the same handouts also go through an HTML-to-PDF engine
(Chromium's print to PDF) for comparison. With --baseline PATH the mesocare of another checkout
(with a .venv) or venv runs the same batch, in alternation. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import Figure, add_arguments, interpreters, measure, write_results

AREAS = ["face", "neck", "body", "hands", "scalp", "face+neck"]


LANGUAGES = ["en", "fr", "es-MX", "it", "pt-BR", "de"]


def schedule(path: Path, count: int, languages: bool = False) -> None:
    rng = random.Random(7)
    lines = [
        "date,time,area,name,patient_id,booked_on,prescribed" + (",language" if languages else "")
    ]
    for i in range(count):
        hour, minute = 8 + (i % 10), rng.choice([0, 15, 30, 45])
        booked = rng.choice(["2024-05-01", "2024-06-03", "2024-06-09", ""])
        lines.append(
            f"2024-06-10,{hour:02d}:{minute:02d},{rng.choice(AREAS)},Patient "
            f"{i:04d},P-{i:05d},{booked},"
            f"{rng.choice(['', '', 'medrol', 'lasix'])}"
            + (f",{LANGUAGES[i % len(LANGUAGES)]}" if languages else "")
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each (in alternation with the baseline)"
    )
    parser.add_argument(
        "--html", action="store_true", help="also time HTML through Chromium's print to PDF"
    )
    parser.add_argument(
        "--languages", action="store_true", help="patients in six languages (a language column)"
    )
    parser.add_argument(
        "--clinic",
        help="a clinic config for the run (e.g. one whose templates leave something out)",
    )
    add_arguments(parser)
    args = parser.parse_args()
    pythons = interpreters(args)
    wall: dict[str, list[float]] = {name: [] for name, _ in pythons}
    cpu: dict[str, list[float]] = {name: [] for name, _ in pythons}
    peak: dict[str, list[float]] = {name: [] for name, _ in pythons}
    html: list[float] = []
    pages: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "day.csv"
        schedule(csv, args.count, args.languages)
        args_ = ["batch", str(csv), "--tz", "Europe/London", "--today", "2024-06-01"]
        if args.clinic:
            args_ += ["--clinic", str(Path(args.clinic).resolve())]
        for _ in range(args.repeat):
            for name, python in pythons:
                r = measure([python, "-m", "mesocare", *args_, "--out", "day.pdf"], tmp)
                wall[name].append(r["wall"])
                cpu[name].append(r["cpu"])
                peak[name].append(r["peak"])
                count = pages[name] = pdf_pages(Path(tmp) / "day.pdf")
                print(
                    f"{name}: {args.count} handouts to one PDF ({count} pages): "
                    f"{r['wall']:.2f} s, {args.count / r['wall']:.0f} handouts/s, "
                    f"{r['cpu']:.1f} s CPU, "
                    f"peak memory {r['peak']:.0f} MB",
                    flush=True,
                )
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if args.html and chromium:
            for _ in range(args.repeat):
                start = time.perf_counter()
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "mesocare",
                        *args_,
                        "--format",
                        "html",
                        "--out",
                        "day.html",
                    ],
                    cwd=tmp,
                    check=True,
                    stderr=subprocess.DEVNULL,
                )
                subprocess.run(
                    [
                        chromium,
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--no-first-run",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        f"--user-data-dir={tmp}/chromium",
                        "--no-pdf-header-footer",
                        f"--print-to-pdf={tmp}/day-html.pdf",
                        f"file://{tmp}/day.html",
                    ],
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=1800,
                )
                html.append(time.perf_counter() - start)
                print(f"the same through HTML and Chromium: {html[-1]:.2f} s")
        elif args.html:
            print("Chromium is not on PATH: no HTML comparison")
    if args.write_results:
        what = f"{args.count:,} appointments from CSV to one PDF" + (
            ", six languages" if args.languages else ""
        )
        figures = [
            Figure(f"{what}, wall", "s", wall["mesocare"], wall.get("baseline", [])),
            Figure(f"{what}, CPU of every process", "s", cpu["mesocare"], cpu.get("baseline", [])),
            Figure(
                f"{what}, peak memory of the largest process",
                "MB",
                peak["mesocare"],
                peak.get("baseline", []),
            ),
        ]
        if html:
            figures.append(
                Figure("the same through HTML and Chromium's print to PDF, wall", "s", html)
            )
        write_results(
            "bench/batch.py",
            ["bench/batch.py", *sys.argv[1:]],
            figures,
            args,
            notes=[f"{name}'s PDF: {count} pages" for name, count in pages.items()],
        )


def pdf_pages(path: Path) -> int:
    import pikepdf

    with pikepdf.open(path) as doc:
        return len(doc.pages)


if __name__ == "__main__":
    os.environ.pop("MESOCARE_CLINIC", None)
    main()
