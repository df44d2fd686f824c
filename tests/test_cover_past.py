"""The batch cover sheet flags past appointments, as their handouts do, in every format."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
from typer.testing import CliRunner

from mesocare.cli import app

SCHEDULE = Path(__file__).parent.parent / "examples" / "schedule.csv"
WARNING = (
    "2 appointments are in the past (marked past): check their dates before you give out "
    "their handouts."
)


def batch(fmt: str, today: str, tmp_path):
    out = tmp_path / f"batch.{ {'markdown': 'md', 'text': 'txt'}.get(fmt, fmt) }"
    r = CliRunner().invoke(
        app,
        ["batch", str(SCHEDULE), "--today", today, "--format", fmt, "--out", str(out)],
        env={"MESOCARE_CLINIC": ""},
    )
    assert r.exit_code in (0, 3), r.stderr
    data = out.read_bytes()
    if fmt == "pdf":
        return " ".join(
            " ".join(pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text().split()).split()
        )
    return " ".join(data.decode("utf-8").split()).replace("\\", "")


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "pdf"])
def test_the_cover_sheet_flags_past_appointments(fmt, tmp_path):
    cover = batch(fmt, "2024-06-11", tmp_path)  # the two 10 June appointments are past
    assert WARNING in cover
    assert cover.count("(past)") >= 2
    for name in ("Alice Example", "Bob Sample"):
        assert name in cover
    later = batch(fmt, "2024-06-01", tmp_path)  # none is past
    assert "in the past" not in later and "(past)" not in later
