"""Results do not depend on the machine's own zone: the date, golden and CLI tests again
under TZ=Pacific/Kiritimati (UTC+14), where "today" is already tomorrow for most clinics.
(The date engine's property tests are left out here: they take as long as the rest together
and read no machine clock or zone.)"""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO


def test_suite_passes_under_another_machine_zone():
    env = dict(os.environ, TZ="Pacific/Kiritimati", MESOCARE_CLINIC="")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_dates.py", "tests/test_golden.py", "tests/test_cli.py"],
        cwd=REPO, env=env, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout.splitlines()[-1]
