"""--print against a real CUPS server with a PDF printer (Debian: cups, printer-driver-cups-pdf).

The fixture starts cupsd when it is installed and not running (as root, as on CI), adds a
PDF printer, and stops the cupsd it started at the end. Where CUPS cannot be installed the
test is skipped and says why.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import REPO
from mesocare.cli import app

pytestmark = pytest.mark.xdist_group(
    "printing"
)  # under pytest-xdist, one worker: one system CUPS server: never two workers starting it at once

PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")
PRINTER = f"MesocareTestPDF{os.getpid()}"  # one per test run: runs side by side do not share it


def _scheduler_running() -> bool:
    lpstat = shutil.which("lpstat")
    return bool(lpstat) and subprocess.run(
        [lpstat, "-r"], capture_output=True, text=True
    ).stdout.startswith("scheduler is running")


@pytest.fixture(scope="module")
def cups_printer():
    if not (shutil.which("lp") and Path("/usr/sbin/cupsd").exists() and PPD.exists()):
        pytest.skip(
            "CUPS with cups-pdf is not installed (Debian packages cups and "
            "printer-driver-cups-pdf; ./scripts/test installs them as root)"
        )
    started: subprocess.Popen | None = None
    if not _scheduler_running():
        if os.geteuid() != 0:
            pytest.skip("cupsd is not running and only root can start it here")
        # -f: in the foreground, so this process is the server and its pid is the one to stop
        started = subprocess.Popen(
            ["/usr/sbin/cupsd", "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(50):
            if _scheduler_running():
                break
            time.sleep(0.1)
    try:
        made = subprocess.run(
            ["lpadmin", "-p", PRINTER, "-v", "cups-pdf:/", "-E", "-P", str(PPD)],
            capture_output=True,
            text=True,
        )
        if made.returncode != 0:
            pytest.skip(f"cannot add a CUPS PDF printer here: {made.stderr.strip()}")
        yield PRINTER
        subprocess.run(["lpadmin", "-x", PRINTER], capture_output=True)
    finally:
        if started is not None:  # only the server this fixture started, never another one
            _stop(started)


def _stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=5)


def test_print_sends_the_batch_pdf_to_cups(cups_printer, tmp_path, monkeypatch):
    import pypdf

    monkeypatch.delenv("MESOCARE_CLINIC", raising=False)
    monkeypatch.chdir(tmp_path)
    outdir = Path(os.path.expanduser("~")) / "PDF"
    before = set(outdir.glob("*.pdf")) if outdir.exists() else set()
    r = CliRunner().invoke(
        app,
        [
            "batch",
            str(REPO / "examples" / "schedule.csv"),
            "--date",
            "2024-06-10",
            "--print",
            "--printer",
            cups_printer,
            "--duplex",
            "--tz",
            "Europe/London",
            "--today",
            "2024-06-01",
        ],
    )
    assert r.exit_code == 0, r.stderr
    assert "Sent to the printer: request" in r.stderr
    assert (
        list(tmp_path.iterdir()) == []
    )  # no --out: nothing left behind (the temporary PDF is removed)
    job = re.search(r"request (?:id is )?\S+-(\d+)", r.stderr)
    assert job, r.stderr
    arrived = []
    for _ in range(100):  # cups-pdf writes the file a few seconds later, named after the job
        arrived = (
            [p for p in outdir.glob(f"*job_{job.group(1)}.pdf") if p not in before]
            if outdir.exists()
            else []
        )
        if arrived:
            break
        time.sleep(0.2)
    assert arrived, f"no printed PDF arrived in {outdir}"
    # cups-pdf re-renders through Ghostscript, so its text is not extractable: compare pages
    ours = tmp_path / "ours.pdf"
    again = CliRunner().invoke(
        app,
        [
            "batch",
            str(REPO / "examples" / "schedule.csv"),
            "--date",
            "2024-06-10",
            "--duplex",
            "--out",
            str(ours),
            "--tz",
            "Europe/London",
            "--today",
            "2024-06-01",
        ],
    )
    assert again.exit_code == 0
    printed = _finished_pdf(arrived[0])
    assert len(printed.pages) == len(pypdf.PdfReader(ours).pages) >= 3
    for f in arrived:
        f.unlink()


def _finished_pdf(path: Path, seconds: float = 30):
    """The printed PDF once cups-pdf has finished writing it (Ghostscript is slow on a busy
    machine)."""
    import pypdf

    deadline = time.monotonic() + seconds
    while True:
        try:
            reader = pypdf.PdfReader(path)
            len(reader.pages)
            return reader
        except (pypdf.errors.PyPdfError, OSError):  # Ghostscript may still be writing it
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_print_to_a_missing_printer_keeps_the_pdf(cups_printer, tmp_path, monkeypatch):
    monkeypatch.delenv("MESOCARE_CLINIC", raising=False)
    out = tmp_path / "day.pdf"
    r = CliRunner().invoke(
        app,
        [
            "batch",
            str(REPO / "examples" / "schedule.csv"),
            "--print",
            "--printer",
            "NoSuchPrinter",
            "--out",
            str(out),
            "--tz",
            "Europe/London",
            "--today",
            "2024-06-01",
        ],
    )
    assert r.exit_code == 1
    assert "CUPS refused the job" in r.stderr and str(out) in r.stderr
    assert out.read_bytes().startswith(b"%PDF")
