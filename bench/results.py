"""The bench scripts' figures in bench/RESULTS.md: each script writes (or replaces) its own
section, saying what was run, on what, the figures and the ratio to a baseline.

    from results import Figure, add_arguments, interpreters, measure, write_results

A script adds ``--write-results`` and ``--baseline PATH`` with ``add_arguments``, runs the
installed mesocare with ``sys.executable`` and, with ``--baseline``, the same command with
``baseline_python(PATH)``, then hands its figures to ``write_results``. Nothing else is written
into the file: no narrative, only what the script measured in that run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "RESULTS.md"
LIBRARIES = ["typst", "typer", "jinja2", "pikepdf", "icalendar", "babel", "pyyaml"]

HEADER = """\
# Benchmark results

This file is written by the bench scripts in `bench/`, not by hand: each script run with
`--write-results` replaces its own section below with what it measured in that run. A section
says what was run (the command), on what (CPU, cores, the load average when the run began,
Python, the libraries that do the heavy work, the commit measured), the figures (minimum,
median and maximum over the repetitions) and, where the script was given a baseline
(`--baseline PATH`: another checkout or virtual environment of mesocare, run the same way in
alternation with this one), the baseline's figures and the ratio of the medians.

Figures taken on a loaded machine are slower than on a quiet one; compare a figure with its
baseline from the same run, and rerun a script to refresh its section:

    .venv/bin/python bench/startup.py --write-results
    .venv/bin/python bench/batch.py --write-results --baseline ../mesocare-old
    .venv/bin/python bench/scale.py --write-results
    .venv/bin/python bench/mail.py --write-results
    .venv/bin/python bench/instructions.py --write-results
    .venv/bin/python bench/source.py --write-results
    .venv/bin/python bench/hl7_split.py --write-results
    .venv/bin/python bench/join.py --write-results --baseline ../mesocare-old
"""


@dataclass
class Figure:
    """One measured quantity: every repetition's value, and the baseline's where there is one."""

    what: str
    unit: str
    values: list[float]
    baseline: list[float] = field(default_factory=list)

    def row(self) -> str:
        cells = [
            self.what,
            self.unit,
            str(len(self.values)),
            *(_num(v) for v in _spread(self.values)),
        ]
        if self.baseline:
            ratio = statistics.median(self.values) / statistics.median(self.baseline)
            cells += [_num(statistics.median(self.baseline)), f"{ratio:.2f}x"]
        else:
            cells += ["", ""]
        return "| " + " | ".join(cells) + " |"


def add_arguments(parser: argparse.ArgumentParser, baseline: bool = True) -> None:
    parser.add_argument(
        "--write-results",
        action="store_true",
        help="write this run's figures into bench/RESULTS.md (replacing this script's section)",
    )
    if baseline:
        parser.add_argument(
            "--baseline",
            metavar="PATH",
            help="also run the mesocare of this checkout (with a .venv) or virtual environment",
        )


def baseline_python(path: str) -> str:
    """A baseline's interpreter: PATH/bin/python (a venv) or PATH/.venv/bin/python (a checkout)."""
    for candidate in (Path(path) / "bin" / "python", Path(path) / ".venv" / "bin" / "python"):
        if candidate.exists():
            return str(candidate)
    sys.exit(
        f"{path}: no bin/python or .venv/bin/python; make one with: "
        f"python3 -m venv {path}/.venv && {path}/.venv/bin/pip install {path}"
    )


def interpreters(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(label, python) to measure in turn: this checkout, then the baseline if given. Each one's
    mesocare is byte-compiled first, as ``pip install`` leaves it: a checkout installed in
    editable mode and run with PYTHONDONTWRITEBYTECODE set would otherwise compile every
    module it changed since its bytecode was last written, on every run."""
    found = [("mesocare", sys.executable)]
    if getattr(args, "baseline", None):
        found.append(("baseline", baseline_python(args.baseline)))
    for _, python in found:
        subprocess.run([python, "-c", COMPILE], check=True, stdout=subprocess.DEVNULL)
    return found


COMPILE = (
    "import compileall, os, mesocare; "
    "compileall.compile_dir(os.path.dirname(mesocare.__file__), quiet=1)"
)


# Runs a command as its own process tree and reports on it: the wall time, the time to the first
# line on stdout (which it reads and counts), the CPU time and the peak resident memory of the
# largest process in the tree (RUSAGE_CHILDREN: the main process or any worker).
MEASURE = textwrap.dedent(
    """
    import json, resource, subprocess, sys, time
    start = time.perf_counter()
    proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)
    first, size = None, 0
    while True:
        chunk = proc.stdout.read1(1 << 20) if first is not None else proc.stdout.readline()
        if not chunk:
            break
        if first is None:
            first = time.perf_counter() - start
        size += len(chunk)
    code = proc.wait()
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"code": code, "wall": wall, "first": first, "bytes": size,
                      "peak": usage.ru_maxrss / 1024, "cpu": usage.ru_utime + usage.ru_stime}))
    """
)


def measure(
    cmd: list[str], cwd: str | Path, env: dict | None = None, ok: tuple[int, ...] = (0,)
) -> dict:
    """One run of ``cmd``: code, wall and first-line seconds, bytes out, peak MB, CPU seconds.
    Exits with the run's stderr when its exit code is not in ``ok``."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *cmd],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"could not measure {' '.join(cmd)}:\n{done.stderr}")
    result = json.loads(done.stdout)
    if result["code"] not in ok:
        sys.exit(f"{' '.join(cmd)} exited {result['code']}:\n{done.stderr[-3000:]}")
    return result


def write_results(
    script: str,
    command: list[str],
    figures: list[Figure],
    args: argparse.Namespace,
    notes: list[str] = (),
) -> None:
    """Replace ``script``'s section of bench/RESULTS.md with this run's figures."""
    shown = [word for word in command if word != "--write-results"]
    lines = [
        f"## {script}",
        "",
        f"- command: `{' '.join(shown)}`",
        *(f"- {k}: {v}" for k, v in _setting().items()),
    ]
    if getattr(args, "baseline", None):
        lines.append(
            f"- baseline: {_describe(baseline_python(args.baseline), Path(args.baseline))}"
        )
    lines += [f"- {note}" for note in dict.fromkeys(notes)]  # once each, in order
    lines += [
        "",
        "| what | unit | runs | min | median | max | baseline median | ratio |",
        "|---|---|---|---|---|---|---|---|",
        *(f.row() for f in figures),
        "",
    ]
    _replace_section(script, "\n".join(lines))
    print(f"written to {RESULTS.relative_to(REPO)}, section {script}")


def _setting() -> dict[str, str]:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {
        "run": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{_cpu()}, {os.cpu_count()} cores, load average {load:.1f} when the run began",
        "Python": f"{platform.python_version()} ({platform.system()} {platform.machine()})",
        "libraries": ", ".join(f"{name} {_version(name)}" for name in LIBRARIES),
        "measured": _describe(sys.executable, REPO),
    }


def _cpu() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown CPU"
    found = re.search(r"^model name\s*:\s*(.+)$", text, flags=re.MULTILINE)
    return found.group(1).strip() if found else "unknown CPU"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _describe(python: str, checkout: Path | None = None) -> str:
    """The mesocare an interpreter runs: its version and the commit of the checkout it comes from
    (an editable install's source folder, else ``checkout``: the folder a baseline was given as,
    or this checkout for a virtual environment that ``pip install .`` made from it)."""
    code = "import mesocare as m, os; print(m.__version__); print(os.path.dirname(m.__file__))"
    done = subprocess.run(
        [python, "-c", code], cwd="/", capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return f"{python} (mesocare does not import)"
    version, folder = done.stdout.split("\n")[:2]
    for place in (folder, checkout):
        if place is None:
            continue
        git = subprocess.run(
            ["git", "-C", str(place), "describe", "--always", "--abbrev=12"],
            capture_output=True,
            text=True,
            check=False,
        )
        if git.returncode == 0:
            # changed files but this one (which the bench scripts write as they go): "-dirty"
            changed = subprocess.run(
                ["git", "-C", str(place), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.split("\n")
            dirty = any(line and not line.endswith("bench/RESULTS.md") for line in changed)
            return f"mesocare {version}, commit {git.stdout.strip()}{'-dirty' if dirty else ''}"
    return f"mesocare {version} (not from a git checkout)"


def _spread(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}" if value < 10 else f"{value:.1f}"
    return f"{value:.3g}"


def _replace_section(script: str, section: str) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    _, *parts = re.split(r"(?m)^(?=## )", text)
    sections = {part.split("\n", 1)[0][3:].strip(): part.rstrip("\n") + "\n" for part in parts}
    sections[script] = section.rstrip("\n") + "\n"
    body = "\n".join(sections[name] for name in sorted(sections))
    tmp = RESULTS.with_name(f".{RESULTS.name}.{os.getpid()}.part")
    tmp.write_text(HEADER.rstrip("\n") + "\n\n" + body, encoding="utf-8")
    os.replace(tmp, RESULTS)
