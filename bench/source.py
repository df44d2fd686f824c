#!/usr/bin/env python3
"""Instructions the main process spends writing a batch's Typst source, counted with callgrind.

    .venv/bin/python bench/source.py                   # bench/batch.py's 1,000 appointments
    .venv/bin/python bench/source.py --languages       # patients in six languages
    .venv/bin/python bench/source.py --keep day.typ    # also write the source, to compare
    .venv/bin/python bench/source.py --write-results   # into bench/RESULTS.md

The batch's handouts are made as `mesocare batch` makes them, then ``typst_source`` writes each
50-handout piece and the cover sheet, as ``pdf.batch_pdf`` does (nothing is typeset). The
figure is that run's count less the count of the same run stopped once the handouts are made
(the process set-up, the templates compiled, the handouts). To check that a change to the
templates or to ``typst_doc`` keeps the PDF the same, write the source with --keep before and
after and compare the two files. Needs valgrind; each count takes about a minute.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from batch import schedule
from results import Figure, add_arguments, interpreters, write_results

# Makes the handouts of a schedule, then (unless told to stop there) the Typst source of each
# piece and of the cover sheet; argv: the schedule, "handouts" or "source", and the file to
# write it to ("-": none, the run counted).
RUN = r"""
import io, sys
from mesocare.batch import BatchPlan
from mesocare.cli.context import Context
from mesocare.readers import stream_schedule
from mesocare.render.pdf import CHUNK_SIZE, _cover_title, _light, outline_titles
from mesocare.render.typst_doc import BATCH_TITLE, typst_source, whole_cover
csv, what, out = sys.argv[1:4]
ctx = Context(io.StringIO(), io.StringIO(), False, False, tz="Europe/London",
              today_opt="2024-06-01")
clinic, today, ruleset = ctx.clinic(), ctx.today(), ctx.ruleset()
with open(csv, "rb") as f:
    rows = stream_schedule(f, clinic, fmt=None, filename="day.csv")
    plan = BatchPlan(rows, ruleset, clinic, today, None, lambda: rows.has_booking_dates)
with plan:
    handouts = [h for h, _ in plan]
lang = plan.lang
common = dict(clinic=clinic, duplex=False, paper=None, title=BATCH_TITLE, lang=lang)
pieces = [tuple(handouts[i:i + CHUNK_SIZE]) for i in range(0, len(handouts), CHUNK_SIZE)]
marks = [[None, *outline_titles(p, True, lang)] for p in pieces]
cover = plan.cover(tuple(_light(h) for h in handouts))
typst_source(pieces[0][:1], **common)  # the templates compiled, in both runs
if what == "source":
    sources = [typst_source(p, bookmarks=m, **common) for p, m in zip(pieces, marks)]
    sources.append(typst_source((), batch=cover, bookmarks=[_cover_title(lang)],
                                part=whole_cover(cover), **common))
    if out != "-":
        with open(out, "w", encoding="utf-8") as f:
            f.write("\n".join(sources))
"""


def count(csv: Path, what: str) -> int:
    run = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            RUN,
            str(csv),
            what,
            "-",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or found is None:
        sys.exit(f"valgrind failed: {run.stderr.strip()[-2000:] or run.returncode}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--languages", action="store_true", help="patients in six languages")
    parser.add_argument("--keep", help="write the batch's Typst source to this file too")
    add_arguments(parser, baseline=False)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    interpreters(args)  # mesocare byte-compiled first, as pip install leaves it
    with tempfile.TemporaryDirectory() as tmp:
        csv, out = Path(tmp) / "day.csv", Path(tmp) / "day.typ"
        schedule(csv, args.count, args.languages)
        handouts, source = count(csv, "handouts"), count(csv, "source")
        if args.keep:
            subprocess.run([sys.executable, "-c", RUN, str(csv), "source", str(out)], check=True)
            same = Path(args.keep).exists() and filecmp.cmp(out, args.keep, shallow=False)
            shutil.copy(out, args.keep)
            print(f"source written to {args.keep}" + (" (the same as before)" if same else ""))
    print(
        f"{(source - handouts) / 1e6:,.0f} million instructions for the Typst source "
        f"({source / 1e6:,.0f} million, less {handouts / 1e6:,.0f} million to make the handouts)"
    )
    if args.write_results:
        what = f"{args.count:,} appointments" + (", six languages" if args.languages else "")
        write_results(
            "bench/source.py",
            ["bench/source.py", *sys.argv[1:]],
            [
                Figure(
                    f"{what}: the Typst source of every piece and the cover sheet",
                    "M instructions",
                    [(source - handouts) / 1e6],
                ),
                Figure(
                    f"{what}: the process set-up, the handouts and the templates compiled",
                    "M instructions",
                    [handouts / 1e6],
                ),
            ],
            args,
            notes=["counted with callgrind; the handouts made as mesocare batch makes them"],
        )


if __name__ == "__main__":
    main()
