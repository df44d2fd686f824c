"""Golden files: each case's handout in text, markdown, html and json, compared byte for byte.

Regenerate after an intended change with:  MESOCARE_REGEN=1 pytest tests/test_golden.py
then review the diff (git diff tests/golden) before committing.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mesocare.cli import app

GOLDEN = Path(__file__).parent / "golden"
FORMATS = {"text": "txt", "markdown": "md", "html": "html", "json": "json"}
REGEN = os.environ.get("MESOCARE_REGEN") == "1"


def cases():
    for line in (GOLDEN / "cases.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, args = (part.strip() for part in line.split("|", 1))
            yield name, shlex.split(args.replace("{golden}", str(GOLDEN)))


CASES = list(cases())


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name, args", CASES, ids=[c[0] for c in CASES])
def test_golden(name, args, fmt, monkeypatch):
    monkeypatch.delenv("MESOCARE_CLINIC", raising=False)
    result = CliRunner().invoke(app, ["prep", *args, "--format", fmt])
    assert result.exit_code == 0, result.stderr
    path = GOLDEN / f"{name}.{FORMATS[fmt]}"
    if REGEN:
        path.write_text(result.stdout, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run MESOCARE_REGEN=1 pytest tests/test_golden.py"
    assert result.stdout == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name, args", CASES, ids=[c[0] for c in CASES])
def test_golden_json_matches_schema(name, args):
    import jsonschema

    from mesocare.resources import schema_path

    schema = json.loads(schema_path("handout.schema.json").read_text())
    data = json.loads((GOLDEN / f"{name}.json").read_text())
    jsonschema.validate(data, schema, format_checker=jsonschema.FormatChecker())
