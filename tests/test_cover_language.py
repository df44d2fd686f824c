"""A batch PDF's cover sheet is in the clinic's language, outline entry included."""

import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

ROOT = Path(__file__).resolve().parent.parent

COVER = {
    "en": "Cover sheet",
    "fr": "Page de garde",
    "de": "Deckblatt",
    "es": "Portada",
    "it": "Frontespizio",
    "pt": "Folha de rosto",
    "pt-BR": "Folha de rosto",
}


@pytest.mark.parametrize("tag", sorted(COVER))
def test_a_batch_pdf_in_any_language_has_its_cover_sheet_in_that_language(tmp_path, tag):
    out = tmp_path / "day.pdf"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mesocare",
            "batch",
            str(ROOT / "examples/schedule.csv"),
            "--lang",
            tag,
            "--today",
            "2024-06-01",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "MESOCARE_CLINIC": "", "HOME": str(tmp_path)},
    )
    assert run.returncode == 0, run.stderr
    with pikepdf.open(out) as pdf, pdf.open_outline() as outline:
        titles = [item.title for item in outline.root]
    assert titles[0] == COVER[tag]
