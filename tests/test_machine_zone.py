"""Results do not depend on the machine's own zone.

CI runs the date, golden and CLI tests a second time under TZ=Pacific/Kiritimati (UTC+14),
where "today" is already tomorrow for most clinics: a step of its own in .ci/run, after the
main suite. Here: that the step is there and counts, and one run of the real command under
three machine zones (no pytest inside pytest).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from conftest import REPO

ZONE_TESTS = ["tests/test_dates.py", "tests/test_golden.py", "tests/test_cli.py"]


def test_ci_runs_the_zone_sensitive_tests_again_under_another_machine_zone():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").replace("\\\n", " ")
    steps = [line for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert "set -euo pipefail" in steps  # a failing step fails CI
    main = next(i for i, s in enumerate(steps) if s.startswith("./scripts/test"))
    zone = next(i for i, s in enumerate(steps) if s.startswith("TZ=Pacific/Kiritimati "))
    assert zone > main  # after the main run, which installs .venv
    words = shlex.split(steps[zone])
    settings = [w for w in words if "=" in w and not w.startswith("-")][:2]
    assert settings == ["TZ=Pacific/Kiritimati", "MESOCARE_CLINIC="]  # no clinic config either
    assert words[2:5] == [".venv/bin/python", "-m", "pytest"]
    assert [w for w in words if w.startswith("tests/")] == ZONE_TESTS
    assert all((REPO / t).is_file() for t in ZONE_TESTS)


def prep_today(machine_zone: str) -> str:
    """`prep --date today` for a London clinic, on a machine in ``machine_zone``."""
    env = dict(os.environ, TZ=machine_zone, MESOCARE_CLINIC="")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mesocare",
            "prep",
            "--date",
            "today",
            "--time",
            "23:30",
            "--area",
            "face",
            "--tz",
            "Europe/London",
            "--format",
            "json",
        ],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_today_is_the_clinics_whatever_the_machine_zone():
    """At any hour, Kiritimati (UTC+14) and Pago Pago (UTC-11) are on another calendar day than
    London for some of the day: "today" is London's in all three runs, and so is every date."""
    london = ZoneInfo("Europe/London")
    for _ in range(3):  # once more if London's midnight passed between the runs
        day = datetime.now(london).date()
        runs = {z: prep_today(z) for z in ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago")}
        if datetime.now(london).date() == day:
            break
    assert f'"today": "{day.isoformat()}"' in runs["UTC"]
    assert runs["Pacific/Kiritimati"] == runs["UTC"] == runs["Pacific/Pago_Pago"]
