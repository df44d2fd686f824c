"""Large print: --large-print on prep and batch, and `print: large` in the clinic config.

The PDF's text sizes are read back with pypdf: the body is 18 pt (12 pt in normal print),
headings larger, and no text is smaller than the body minus 2 pt, calendar included.
"""

from __future__ import annotations

import collections
import re
import subprocess
import sys
from pathlib import Path

import pytest

pypdf = pytest.importorskip("pypdf")

BASE = [
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
    "--name",
    "Ana Silva",
]


def mesocare(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "MESOCARE_CLINIC": "", "HOME": str(cwd)}
    result = subprocess.run(
        [sys.executable, "-m", "mesocare", *args], cwd=cwd, capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    return result


def text_sizes(path: Path) -> collections.Counter:
    """Characters of text per font size (pt), over every page."""
    sizes: collections.Counter = collections.Counter()

    def visit(text, cm, tm, font, size):
        if text.strip():
            scale = (tm[0] ** 2 + tm[1] ** 2) ** 0.5 * (cm[0] ** 2 + cm[1] ** 2) ** 0.5
            sizes[round(size * scale, 1)] += len(text.strip())

    for page in pypdf.PdfReader(path).pages:
        page.extract_text(visitor_text=visit)
    return sizes


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_large_print_pdf_sizes(tmp_path, paper):
    mesocare("prep", *BASE, "--paper", paper, "--out", "normal.pdf", cwd=tmp_path)
    mesocare("prep", *BASE, "--paper", paper, "--large-print", "--out", "large.pdf", cwd=tmp_path)
    normal, large = text_sizes(tmp_path / "normal.pdf"), text_sizes(tmp_path / "large.pdf")
    assert normal.most_common(1)[0][0] == 12.0 and min(normal) >= 10.0
    assert large.most_common(1)[0][0] == 18.0 and min(large) >= 16.0
    assert max(large) > 18.0 * 1.5  # headings larger than the body
    # the same words (footers and table headers repeat on every page), on more pages
    normal_pages = pypdf.PdfReader(tmp_path / "normal.pdf").pages
    large_pages = pypdf.PdfReader(tmp_path / "large.pdf").pages
    assert len(large_pages) > len(normal_pages)
    # a word hyphenated at the end of a line ("anti-" / "inflammatory") is one word
    words = lambda pages: re.sub(r"-\s+", "-", " ".join(p.extract_text() for p in pages)).split()  # noqa: E731
    assert {w for w in words(large_pages) if not w.isdigit()} == {
        w for w in words(normal_pages) if not w.isdigit()
    }


def test_clinic_config_print_large_and_batch(tmp_path):
    (tmp_path / "clinic.yaml").write_text(
        "name: Harbour Skin Clinic\nphone: '020 7946 0000'\n"
        "timezone: Europe/London\nprint: large\n",
        encoding="utf-8",
    )
    (tmp_path / "day.csv").write_text(
        "date,time,area,name\n2024-06-10,09:00,face,Ana Silva\n2024-06-10,,neck,Bo Chen\n",
        encoding="utf-8",
    )
    mesocare(
        "batch",
        "day.csv",
        "--clinic",
        "clinic.yaml",
        "--today",
        "2024-06-01",
        "--out",
        "day.pdf",
        cwd=tmp_path,
    )
    sizes = text_sizes(tmp_path / "day.pdf")
    assert sizes.most_common(1)[0][0] == 18.0 and min(sizes) >= 16.0
    html = mesocare(
        "batch",
        "day.csv",
        "--clinic",
        "clinic.yaml",
        "--today",
        "2024-06-01",
        "--format",
        "html",
        cwd=tmp_path,
    ).stdout
    assert '<body class="large">' in html
    (tmp_path / "plain.yaml").write_text("name: Plain\ntimezone: Europe/London\n", encoding="utf-8")
    mesocare(
        "batch",
        "day.csv",
        "--clinic",
        "plain.yaml",
        "--large-print",
        "--today",
        "2024-06-01",
        "--out",
        "flag.pdf",
        cwd=tmp_path,
    )
    assert text_sizes(tmp_path / "flag.pdf").most_common(1)[0][0] == 18.0
    html = mesocare(
        "prep", *BASE, "--clinic", "plain.yaml", "--format", "html", cwd=tmp_path
    ).stdout
    assert '<body class="large">' not in html


def test_bad_print_setting_names_the_field(tmp_path):
    (tmp_path / "clinic.yaml").write_text("name: X\nprint: huge\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mesocare", "prep", *BASE, "--clinic", "clinic.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert (
        "clinic.yaml, line 2, field 'print'" in result.stderr and "Traceback" not in result.stderr
    )
