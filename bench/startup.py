#!/usr/bin/env python3
"""Whole-process start-up: `mesocare prep ... --format json` against `python -c pass`.

    python bench/startup.py            # 20 runs each: min, median, max, and the ratio
    python bench/startup.py --runs 50
    python bench/startup.py --lang fr --format text   # a handout in French, as text
    python bench/startup.py --baseline ../mesocare-old --write-results

Runs the mesocare of the interpreter running this script, and with --baseline the one of
another checkout or venv, in alternation. Run it on a quiet machine: other load inflates every
number. Measure what a user runs: a venv made with ``pip install .`` (the test extra adds pytz,
which Babel then uses when it is imported; the section notes which side had it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from results import Figure, add_arguments, interpreters, write_results

PREP = [
    "-m",
    "mesocare",
    "prep",
    "--date",
    "2024-06-10",
    "--time",
    "10:00",
    "--area",
    "face",
    "--tz",
    "Europe/London",
    "--today",
    "2024-06-01",
    "--format",
    "json",
]


def once_ms(cmd: list[str], env: dict, cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd, check=True
    )
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lang", help="add --lang TAG (default: none, the default language)")
    parser.add_argument("--format", default="json", help="the output format (default: json)")
    add_arguments(parser)
    args = parser.parse_args()
    command = [*PREP[:-1], args.format, *(["--lang", args.lang] if args.lang else [])]
    label = f"mesocare prep --format {args.format}" + (f" --lang {args.lang}" if args.lang else "")
    env = {k: v for k, v in os.environ.items() if k != "MESOCARE_CLINIC"}
    pythons = interpreters(args)
    times: dict[str, list[float]] = {"bare": [], **{name: [] for name, _ in pythons}}
    with tempfile.TemporaryDirectory() as cwd:
        for _, python in pythons:  # warm the caches (the rule cache, the file system's)
            subprocess.run(
                [python, *command],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                check=True,
            )
        for _ in range(args.runs):  # in alternation, so a change of load touches each alike
            times["bare"].append(once_ms([sys.executable, "-c", "pass"], env, cwd))
            for name, python in pythons:
                times[name].append(once_ms([python, *command], env, cwd))
    bare, prep = statistics.median(times["bare"]), statistics.median(times["mesocare"])
    print(f"python -c pass: {bare:7.1f} ms (median of {args.runs})")
    print(f"{label}: {prep:7.1f} ms (median of {args.runs})")
    print(f"ratio: {prep / bare:7.1f}x")
    if "baseline" in times:
        base = statistics.median(times["baseline"])
        print(
            f"baseline {label}: {base:7.1f} ms (median of {args.runs}); "
            f"mesocare is {prep / base:.2f}x"
        )
    if args.write_results:
        figures = [
            Figure("python -c pass", "ms", times["bare"]),
            Figure(f"{label}, whole process", "ms", times["mesocare"], times.get("baseline", [])),
            Figure(
                f"{label} over python -c pass",
                "x",
                [p / b for p, b in zip(times["mesocare"], times["bare"], strict=True)],
            ),
        ]
        notes = [f"{name}: {_pytz(python)}" for name, python in pythons]
        write_results("bench/startup.py", ["bench/startup.py", *sys.argv[1:]], figures, args, notes)


def _pytz(python: str) -> str:
    """Whether pytz is installed beside that mesocare: Babel then looks the machine's zone up
    through pytz when it is imported (a few milliseconds). mesocare does not need it; the test
    extra brings it (through vobject), so measure installs made with ``pip install .``."""
    done = subprocess.run([python, "-c", "import pytz"], capture_output=True, check=False)
    return "pytz installed" if done.returncode == 0 else "no pytz"


if __name__ == "__main__":
    main()
