"""Every `mesocare ...` command shown in the README runs (in order, in a scratch folder).

Commands come from the README's indented example lines, run in a folder holding what a fresh
clone has beside them (examples/). `--print` needs a printer and is covered by
tests/test_printing.py; anything after a pipe is left out.
"""

from __future__ import annotations

import re
import shlex
import shutil

from typer.testing import CliRunner

from conftest import REPO
from mesocare.cli import app

README = (REPO / "README.md").read_text(encoding="utf-8")
# "    mesocare ...", and the set-up's "    python3 -m venv .venv && ... && .venv/bin/mesocare ..."
COMMANDS = [m.group(1) for m in re.finditer(r"^    (?:python3 -m venv .* && )?(?:\.venv/bin/)?mesocare (.+)$", README, flags=re.M)]


def test_readme_has_examples():
    assert len(COMMANDS) >= 15
    assert COMMANDS[0].startswith("prep --date tomorrow") and "--clinic examples/clinic.yaml" in COMMANDS[0]  # the first command


def test_every_readme_command_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    # as the README's set-up says: export MESOCARE_CLINIC=$PWD/examples/clinic.yaml
    assert "export MESOCARE_CLINIC=$PWD/examples/clinic.yaml" in README
    monkeypatch.setenv("MESOCARE_CLINIC", str(tmp_path / "examples" / "clinic.yaml"))
    # nothing else: as in a fresh clone, every file a command reads is one the checkout has
    ran = 0
    for line in COMMANDS:
        command = line.split("|")[0].split(">")[0].strip()
        args = shlex.split(command)
        if "--print" in args:
            continue
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, f"mesocare {command}\n{result.stderr}"
        # clean: no warning the reader did not ask for (a past date, a missing phone number)
        assert "warning" not in result.stderr, f"mesocare {command}\n{result.stderr}"
        ran += 1
    assert ran >= 15


def test_the_readme_set_up_commands_are_the_ones_ci_runs():
    assert "./scripts/test" in README
    commands = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert commands[-1].startswith("./scripts/test")
    assert "mesocare prep --date tomorrow" in README


def test_the_development_section_names_every_room_of_the_library():
    """A newcomer finds each module and package of mesocare/ in the README's map."""
    section = README.split("\n## Development", 1)[1].split("\n## ", 1)[0]
    package = REPO / "mesocare"
    rooms = [p.name for p in package.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    rooms += [f"{p.name}/" for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    missing = sorted(r for r in rooms if f"`{r}`" not in section and f"`mesocare/{r}`" not in section)
    assert not missing, f"README 'Development' does not name: {missing}"
