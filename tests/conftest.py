"""Shared fixtures: our rule set, a clinic, and a quick handout builder."""

from __future__ import annotations

import os
import tempfile
from datetime import date, time
from pathlib import Path

import pytest

from mesocare.handout import build_handout
from mesocare.model import Clinic, Course, Request
from mesocare.resources import instructions_dir
from mesocare.rules import load_ruleset

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_clinic_env(monkeypatch, tmp_path):
    """No $MESOCARE_CLINIC, and a fresh working folder (no stray ./mesocare.yaml): a test file of
    CLI runs uses it for every test with
    ``pytestmark = pytest.mark.usefixtures("no_clinic_env")``."""
    monkeypatch.delenv("MESOCARE_CLINIC", raising=False)
    monkeypatch.chdir(tmp_path)


def run_cli(*args, input=None):
    """The command line run in this process (Typer's runner), each argument as text."""
    from typer.testing import CliRunner

    from mesocare.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], input=input)


pytest_plugins = ["pytester"]  # test_reading_level runs its grade gate in a pytest of its own

# the rule cache of the tests (and of the processes they start) lives in a temporary folder
os.environ["MESOCARE_CACHE_DIR"] = tempfile.mkdtemp(prefix="mesocare-test-cache-")
# long batches and mail are typeset in this process (and those it starts), not in worker
# processes: pytest-xdist already keeps every core busy, and each worker would import Typst and
# its fonts again. The tests of the workers themselves set MESOCARE_PDF_WORKERS to 1 and 2.
os.environ.setdefault("MESOCARE_PDF_WORKERS", "1")


@pytest.fixture(scope="session")
def ruleset():
    return load_ruleset([(instructions_dir(), "mesocare")])


@pytest.fixture(scope="session")
def london():
    return Clinic(name="Harbour Skin Clinic", phone="020 7946 0000", timezone="Europe/London")


def make(ruleset, clinic, day, at=None, areas=("face",), today=date(2000, 1, 1), booked=None, **kw):
    """Build a handout with a short call: make(rs, clinic, date(2024, 6, 10), time(10, 0))."""
    course = kw.pop("course", Course())
    req = Request(date=day, time=at, areas=tuple(areas), booked=booked, course=course, **kw)
    return build_handout(req, ruleset, clinic, today)


def item(handout, rule_id):
    return next(i for i in handout.items if i.rule == rule_id)


@pytest.fixture
def build(ruleset, london):
    def _build(day, at=None, clinic=None, **kw):
        return make(ruleset, clinic or london, day, at, **kw)

    return _build


# a small valid clinic rule file, for tests that write rule folders
GOOD_RULE = """\
rules:
  - id: my-rule
    name: my thing
    phase: before
    window: {before: 3d}
    text: Stop my thing.
    reason: The clinic asks for this.
    source: our protocol
    basis: clinic-policy
"""


__all__ = ["GOOD_RULE", "REPO", "date", "item", "make", "time"]
