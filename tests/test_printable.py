"""Names and texts print as typed in every human format, without control characters."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from mesocare.cli import app
from mesocare.render.printable import printable
from mesocare.render.templating import md_escape

CONTROL = [chr(c) for c in [*range(0x0A), *range(0x0B, 0x20), *range(0x7F, 0xA0)]]
HOSTILE_NAME = "Ana\x1b[31m Red\x1b[0m\x07 \x1b]0;owned\x07Silva\x9b2J\x08"
PREP = [
    "prep",
    "--date",
    "2030-06-10",
    "--time",
    "10:00",
    "--area",
    "face",
    "--today",
    "2030-06-01",
]


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("Ana\x1b[31mRed\x1b[0m", "AnaRed"),
        ("bell\x07 here", "bell here"),
        ("title \x1b]0;pwned\x07done", "title done"),
        ("8-bit \x9b2Jcsi", "8-bit csi"),
        ("tab\there", "tab here"),
        ("two\r\nlines\nkept", "two\nlines\nkept"),
        ("NUL\x00 DEL\x7f NEL\x85", "NUL DEL NEL"),
        ("José 王小明 😀 שרה", "José 王小明 😀 שרה"),
    ],
)
def test_printable(raw, shown):
    assert printable(raw) == shown


def test_printable_one_line():
    assert printable("a\nb\r\nc", newlines=False) == "a b c"


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "terminal", "ics", "pdf"])
def test_no_control_character_reaches_any_human_format_through_the_real_cli(tmp_path, fmt):
    env = dict(os.environ, MESOCARE_CLINIC="")
    args = [sys.executable, "-m", "mesocare", *PREP, "--name", HOSTILE_NAME, "--format", fmt]
    r = subprocess.run(args, capture_output=True, cwd=tmp_path, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    if fmt == "pdf":
        import io

        import pypdf

        out = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(out)).pages).encode()
    text = out.decode("utf-8")
    found = sorted({hex(ord(c)) for c in text if c in CONTROL and c not in "\n\r\f"})
    assert not found, f"control characters in {fmt}: {found}"
    if fmt == "ics":
        assert "\r\n" in text  # calendar lines end in CRLF, as RFC 5545 asks
        return  # a patient's own calendar does not carry their name
    assert "Ana Red Silva" in " ".join(text.split()).replace("\\", "")


def test_markdown_prints_an_entity_as_typed():
    r = CliRunner().invoke(
        app,
        [*PREP, "--name", "&lt;b&gt;Ana &amp; Bo", "--format", "markdown"],
        env={"MESOCARE_CLINIC": ""},
    )
    assert r.exit_code == 0, r.stderr
    assert "**Instructions for \\&lt;b\\&gt;Ana \\&amp; Bo**" in r.stdout
    assert md_escape("&copy; <b>") == "\\&copy; \\<b\\>"


def test_terminal_shows_the_technique_and_indents_wrapped_bullets():
    r = CliRunner().invoke(
        app, [*PREP, "--format", "terminal"], env={"MESOCARE_CLINIC": "", "COLUMNS": "80"}
    )
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "Area: face (needle mesotherapy)" in lines
    bullets = [i for i, line in enumerate(lines) if line.startswith("• ")]
    assert bullets
    wrapped = [
        lines[i + 1]
        for i in bullets
        if lines[i + 1].strip()
        and not lines[i + 1].startswith(("• ", "─"))
        and not lines[i + 1].rstrip().endswith("─")
        and lines[i + 1].strip() != lines[i + 1].strip().upper()
    ]
    assert wrapped, "no bullet wraps: the test would prove nothing"
    for line in wrapped:
        if line.startswith(("Our phone", "Call the clinic")):
            continue
        assert line.startswith("  ") and not line.startswith("   "), repr(line)
