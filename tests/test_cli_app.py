"""The app a process runs holds only the command it runs (start-up: Typer builds every option
of every command it holds); --help, --version and a mistyped command see them all."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer.main

from mesocare.cli.application import COMMANDS, GROUPS, _command, make_app


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["prep", "--date", "tomorrow"], "prep"),
        (["rules", "list"], "rules"),
        (["--version"], None),
        ([], None),
        (["prpe"], None),
        (["-h"], None),
        (["send", "coming.csv"], "send"),
        (["prep", "batch"], "prep"),
    ],
)
def test_the_command_a_process_runs(args, command):
    assert _command(args) == command


def test_only_that_command_is_built_and_all_without_one():
    assert list(typer.main.get_command(make_app("prep")).commands) == ["prep"]
    assert list(typer.main.get_command(make_app("rules")).commands) == ["rules"]
    assert list(typer.main.get_command(make_app()).commands) == [*COMMANDS, *GROUPS]


SHOW_MODULES = (
    "import os, sys\n"
    "real = os._exit\n"
    "def leave(code):\n"
    "    sys.stderr.write(' '.join(sorted(m for m in sys.modules"
    " if m.startswith('mesocare.cli'))) + '\\n')\n"
    "    sys.stderr.flush(); real(code)\n"
    "os._exit = leave\n"
    "sys.argv = ['mesocare', *sys.argv[1:]]\n"
    "from mesocare.entry import main; main()\n"
)


def test_a_prep_run_imports_no_other_command():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SHOW_MODULES,
            "prep",
            "--date",
            "2024-06-10",
            "--area",
            "face",
            "--tz",
            "Europe/London",
            "--today",
            "2024-06-01",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    imported = set(done.stderr.strip().splitlines()[-1].split())
    assert "mesocare.cli.prep" in imported
    assert not imported & {
        "mesocare.cli.batch",
        "mesocare.cli.mail",
        "mesocare.cli.rules",
        "mesocare.cli.plan",
    }


def test_a_prep_run_imports_neither_pydantic_nor_yaml():
    """Start-up: the rules come from their cache and the options need no validation library
    (Typer 0.29 coerces every option through pydantic, about 100 ms at each start: pyproject.toml
    keeps Typer below it)."""
    show = SHOW_MODULES.replace(
        "if m.startswith('mesocare.cli')", "if m.split('.')[0] in ('pydantic', 'yaml')"
    ).replace("sys.stderr.write(' '.join(", "sys.stderr.write('loaded: ' + ' '.join(")
    for _ in range(2):  # the first run may fill the rule cache (that one reads the YAML files)
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                show,
                "prep",
                "--date",
                "2024-06-10",
                "--area",
                "face",
                "--tz",
                "Europe/London",
                "--today",
                "2024-06-01",
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "loaded:"
