#!/usr/bin/env python3
"""Whole-process start-up: `mesocare prep ... --format json` against `python -c pass`.

    python bench/startup.py            # median of 20 runs each, printed as a ratio
    python bench/startup.py --runs 50
    python bench/startup.py --lang fr --format text   # a handout in French, as text

Runs the mesocare of the interpreter running this script (use .venv/bin/python). Run it on a
quiet machine: other load inflates both numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

PREP = ["-m", "mesocare", "prep", "--date", "2024-06-10", "--time", "10:00", "--area", "face",
        "--tz", "Europe/London", "--today", "2024-06-01", "--format", "json"]


def median_ms(cmd: list[str], runs: int, env: dict, cwd: str) -> float:
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd, check=True)  # warm the caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lang", help="add --lang TAG (default: none, the default language)")
    parser.add_argument("--format", default="json", help="the output format (default: json)")
    args = parser.parse_args()
    command = [*PREP[:-1], args.format, *(["--lang", args.lang] if args.lang else [])]
    label = f"mesocare prep --format {args.format}" + (f" --lang {args.lang}" if args.lang else "")
    env = {k: v for k, v in os.environ.items() if k != "MESOCARE_CLINIC"}
    with tempfile.TemporaryDirectory() as cwd:
        bare = median_ms([sys.executable, "-c", "pass"], args.runs, env, cwd)
        prep = median_ms([sys.executable, *command], args.runs, env, cwd)
    print(f"python -c pass: {bare:7.1f} ms (median of {args.runs})")
    print(f"{label}: {prep:7.1f} ms (median of {args.runs})")
    print(f"ratio: {prep / bare:7.1f}x")


if __name__ == "__main__":
    main()
