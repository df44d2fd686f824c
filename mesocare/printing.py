"""Sending a PDF to a printer through CUPS (the ``lp`` command)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from mesocare.errors import MesocareError


class PrintError(MesocareError):
    """CUPS is missing or refused the job. A PDF written with --out stays on disk; a temporary
    one goes with the run (it names patients)."""


def print_pdf(
    path: Path,
    printer: str | None = None,
    duplex: bool = False,
    title: str = "mesocare",
    kept: bool = True,
) -> str:
    """Queue ``path`` with lp; return CUPS's request id (e.g. "PDF-3"). ``kept``: ``path`` stays
    after the run (--out), which an error then says; else it says how to keep one."""
    lp = shutil.which("lp")
    after = (
        f"the PDF was kept at {path}"
        if kept
        else "no PDF was kept (give --out FILE.pdf to keep one)"
    )
    if lp is None:
        raise PrintError(f"CUPS is not installed here (no lp command); {after}.")
    cmd = [lp, "-t", title]
    if printer:
        cmd += ["-d", printer]
    cmd += ["-o", "sides=two-sided-long-edge" if duplex else "sides=one-sided", "--", str(path)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise PrintError(f"CUPS could not be reached ({e.__class__.__name__}); {after}.") from None
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        why = reason[-1] if reason else f"lp exited {done.returncode}"
        raise PrintError(f"CUPS refused the job ({why}); {after}.")
    words = done.stdout.split()
    return (
        words[3] if len(words) > 3 and words[:3] == ["request", "id", "is"] else done.stdout.strip()
    )
