#!/usr/bin/env python3
"""Instructions Typst spends on one 50-handout piece of a batch, counted with callgrind.

    .venv/bin/python bench/instructions.py              # the first piece of bench/batch.py's list
    .venv/bin/python bench/instructions.py --languages  # patients in six languages
    .venv/bin/python bench/instructions.py --source piece.typ   # a piece's Typst source of your own
    .venv/bin/python bench/instructions.py --write-results      # into bench/RESULTS.md

Counts are repeatable whatever else the machine is doing (wall times here drift by half within a
minute), so they are the way to compare two versions of a template: write the piece's source
with --keep, change the template (or the source), count again. Needs valgrind (Debian's
package); each count takes about half a minute. The figure printed is the piece's compilation
(tagged, PDF/UA-1, one Typst thread) minus that of an empty untagged document (the process set-up).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from batch import schedule
from results import Figure, add_arguments, write_results

# Writes the first piece's source of a batch (one process, no workers) and stops there.
DUMP = r"""
import os, sys
os.environ["MESOCARE_PDF_WORKERS"] = "1"
from mesocare.render import pdf
target = sys.argv[1]
def first_piece(source, day, root, tags=True):
    open(target, "w", encoding="utf-8").write(source)
    os._exit(0)
pdf.compile_pdf = first_piece  # the name pdf.py typesets its pieces with
sys.argv = [
    "mesocare", "batch", sys.argv[2], "--tz", "Europe/London", "--today", "2024-06-01",
    "--out", sys.argv[3],
]
from mesocare.entry import main
main()
"""

# Typesets a source (or an empty document) once, as a batch's worker does.
COMPILE = r"""
import sys
from datetime import date
from mesocare.render import typst_doc
from mesocare.resources import templates_dir
if sys.argv[1] == "-":  # the process set-up alone: an empty, untagged document
    typst_doc.compile_pdf(" ", date(2024, 6, 1), str(templates_dir()), tags=False)
else:
    typst_doc.compile_pdf(
        open(sys.argv[1], encoding="utf-8").read(), date(2024, 6, 1), str(templates_dir())
    )
"""


def count(source: str, tmp: str) -> int:
    out = Path(tmp) / "callgrind.out"
    run = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-c",
            COMPILE,
            source,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "RAYON_NUM_THREADS": "1"},
        check=False,
    )
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or found is None:
        sys.exit(
            "valgrind failed: "
            f"{run.stderr.strip().splitlines()[-1] if run.stderr.strip() else run.returncode}"
        )
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", action="store_true", help="patients in six languages")
    parser.add_argument("--source", help="count this Typst source instead of a batch's first piece")
    parser.add_argument("--keep", help="write the piece's Typst source to this file too")
    add_arguments(parser, baseline=False)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        source = args.source
        if source is None:
            csv = Path(tmp) / "day.csv"
            schedule(csv, 100, args.languages)
            source = str(Path(tmp) / "piece.typ")
            subprocess.run(
                [sys.executable, "-c", DUMP, source, str(csv), str(Path(tmp) / "out.pdf")],
                check=True,
                stderr=subprocess.DEVNULL,
            )
            if args.keep:
                shutil.copy(source, args.keep)
        empty, piece = count("-", tmp), count(source, tmp)
    print(
        f"{(piece - empty) / 1e6:,.0f} million instructions ({piece / 1e6:,.0f} million, "
        f"less {empty / 1e6:,.0f} million "
        f"for an empty document)"
    )
    if args.write_results:
        what = (
            "a 50-handout piece" + (", six languages" if args.languages else "")
            if args.source is None
            else args.source
        )
        figures = [
            Figure(
                f"{what}, typeset once (tagged, one thread), less an empty document",
                "M instructions",
                [(piece - empty) / 1e6],
            ),
            Figure(
                "an empty untagged document (the process set-up)", "M instructions", [empty / 1e6]
            ),
        ]
        write_results(
            "bench/instructions.py",
            ["bench/instructions.py", *sys.argv[1:]],
            figures,
            args,
            notes=[f"counted with {valgrind_version()} (callgrind)"],
        )


def valgrind_version() -> str:
    done = subprocess.run(["valgrind", "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "valgrind"


if __name__ == "__main__":
    main()
