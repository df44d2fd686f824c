#!/usr/bin/env python3
"""CPU of joining a 1,000-handout batch's pieces into one PDF, as the join does it and with qpdf
writing every object.

    .venv/bin/python bench/join.py                      # the 21 pieces of bench/batch.py's list
    .venv/bin/python bench/join.py --count 200 --repeat 5
    .venv/bin/python bench/join.py --baseline ../mesocare-old --write-results

The pieces are typeset once (``mesocare batch``, each piece kept as the join receives it), then
joined in a fresh process each time, in alternation: as the join does it (each object the join
leaves as it is copied from the piece's own bytes, renumbered), and with every object parsed and
written by qpdf instead (what the copy is measured against: the rule for code that does a
library's job). With --baseline, that checkout's join runs on the same pieces too.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from batch import schedule
from results import Figure, add_arguments, baseline_python, write_results

# Runs a batch to one PDF and keeps each piece the join is given, in order, in a folder.
KEEP = r"""
import shutil, sys
from pathlib import Path
from mesocare.render import pdf_join
folder = Path(sys.argv[1])
joined_add = pdf_join.Joined.add
kept = []
def add(self, path, front=False):
    kept.append(folder / f"{'front' if front else 'piece'}-{len(kept):04d}.pdf")
    shutil.copy(path, kept[-1])
    return joined_add(self, path, front)
pdf_join.Joined.add = add
sys.argv = ["mesocare", "batch", sys.argv[2], "--tz", "Europe/London", "--today", "2024-06-01",
            "--out", sys.argv[3]]
from mesocare.entry import main
main()
"""

# Joins the kept pieces once (the cover sheet's first) and prints the CPU seconds it took.
JOIN = r"""
import sys, time
from pathlib import Path
from mesocare.render import pdf_join
folder, out, how = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
pieces = sorted(folder.glob("front-*.pdf")) + sorted(folder.glob("piece-*.pdf"))
if how == "qpdf":  # every object read and written by qpdf, none copied
    own = pdf_join._own_texts
    pdf_join._own_texts = lambda src, data: dict.fromkeys(own(src, data))
import pikepdf  # loaded before the clock starts, as a batch loads it while pieces are typeset
start = time.process_time()
pdf_join.join(pieces, out)
print(time.process_time() - start)
"""


def joined(python: str, folder: Path, out: Path, how: str) -> float:
    done = subprocess.run(
        [python, "-c", JOIN, str(folder), str(out), how],
        cwd=folder,  # not a checkout, whose mesocare "python -c" would import first
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"the join failed:\n{done.stderr[-3000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="appointments in the list")
    parser.add_argument("--repeat", type=int, default=3, help="joins of each kind")
    add_arguments(parser)
    args = parser.parse_args()
    runs: dict[str, list[float]] = {"own": [], "qpdf": [], "baseline": []}
    with tempfile.TemporaryDirectory() as tmp:
        csv, folder = Path(tmp) / "day.csv", Path(tmp) / "pieces"
        folder.mkdir()
        schedule(csv, args.count)
        subprocess.run(
            [sys.executable, "-c", KEEP, str(folder), str(csv), str(Path(tmp) / "batch.pdf")],
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        pieces = len(list(folder.glob("*.pdf")))
        out = Path(tmp) / "joined.pdf"
        for _ in range(args.repeat):
            for how in ("own", "qpdf"):
                runs[how].append(joined(sys.executable, folder, out, how))
            if args.baseline:
                runs["baseline"].append(
                    joined(baseline_python(args.baseline), folder, out, "baseline")
                )
    what = f"{args.count:,} handouts' {pieces} pieces joined into one PDF"
    figures = [
        Figure(f"{what}, the pieces' own bytes copied", "s CPU", runs["own"], runs["baseline"]),
        Figure(f"{what}, qpdf writing every object", "s CPU", runs["qpdf"]),
    ]
    for figure in figures:
        print(figure.row())
    if args.write_results:
        write_results("bench/join.py", sys.argv, figures, args)


if __name__ == "__main__":
    main()
