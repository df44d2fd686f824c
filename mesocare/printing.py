"""Sending a PDF to a printer through CUPS (the ``lp`` command)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from mesocare.errors import MesocareError


class PrintError(MesocareError):
    """CUPS is missing or refused the job. The PDF stays on disk."""


def print_pdf(path: Path, printer: str | None = None, duplex: bool = False, title: str = "mesocare") -> str:
    """Queue ``path`` with lp; return CUPS's request id (e.g. "PDF-3")."""
    lp = shutil.which("lp")
    if lp is None:
        raise PrintError(f"CUPS is not installed here (no lp command); the PDF was kept at {path}.")
    cmd = [lp, "-t", title]
    if printer:
        cmd += ["-d", printer]
    cmd += ["-o", "sides=two-sided-long-edge" if duplex else "sides=one-sided", "--", str(path)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise PrintError(f"CUPS could not be reached ({e.__class__.__name__}); the PDF was kept at {path}.") from None
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        why = reason[-1] if reason else f"lp exited {done.returncode}"
        raise PrintError(f"CUPS refused the job ({why}); the PDF was kept at {path}.")
    words = done.stdout.split()
    return words[3] if len(words) > 3 and words[:3] == ["request", "id", "is"] else done.stdout.strip()
