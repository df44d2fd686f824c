"""A usage error never echoes what was typed as a value: an unquoted name leaves words of it
as extra arguments or unknown options, and click's own messages would quote them on stderr.
Each says what is wrong and how to quote a name instead (exit 2, the documented usage code)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cli

pytestmark = pytest.mark.usefixtures("no_clinic_env")

PREP = ["prep", "--date", "2026-12-10", "--area", "face", "--tz", "UTC", "--today", "2026-12-01"]
SECRET = "Quixote"  # a word of a patient's name

CASES = [
    [*PREP, "--name", "Zelda", "Quixote-Marsh"],
    [*PREP, "--name", "Zelda", "Quixote", "Marsh"],
    [*PREP, "--name", "Zelda", "-Quixote"],
    [*PREP, "--name", "Zelda", "--Quixote"],
    [*PREP, "--name", "Zelda", "--quixote-marsh=1"],
    ["batch", "day.csv", "Quixote"],
    ["rules", "show", "Zelda", "Quixote"],
    ["plan", "--date", "2026-12-10", "--sessions", "3", "--every", "4w", "Quixote"],
    ["init", "clinic", "--name", "Harbour", "Quixote"],
    ["Quixote"],
    ["--Quixote", "prep"],
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c[-2:]) for c in CASES])
def test_a_usage_error_names_no_typed_value(args):
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    assert SECRET.lower() not in result.output.lower()


def test_an_unquoted_name_says_how_to_quote_it():
    """Through the installed entry point, as a nurse would run it."""
    done = subprocess.run(
        [sys.executable, "-m", "mesocare", *PREP, "--name", "Zelda", "Quixote-Marsh"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert (
        "Error: got extra arguments after the options: a value with spaces, such as a name, "
        'needs quotes: --name "Ann Lee-Marsh".' in done.stderr
    )
    assert "Quixote" not in done.stderr + done.stdout


def test_a_mistyped_option_or_command_gets_a_suggestion_of_ours():
    typo = run_cli("prep", "--todya").output
    assert "an option that is not known (see --help)" in typo and "--today" in typo
    assert "no such command (did you mean prep?)" in run_cli("perp").output


words = st.text(st.characters(whitelist_categories=["Lu", "Ll"]), min_size=3, max_size=12)


@given(st.lists(words, min_size=1, max_size=3), st.sampled_from(["", "-", "--"]))
@settings(max_examples=40, deadline=None)
def test_any_unquoted_rest_of_a_name_is_never_echoed(rest, dash):
    typed = [dash + rest[0], *rest[1:]]
    result = run_cli(*PREP, "--name", "Zelda", *typed)
    assert result.exit_code == 2, result.output
    for word in rest:
        if (
            len(word) >= 3
            and word.lower()
            not in "got extra arguments after the options a value "
            "with spaces such as a name needs quotes ann lee-marsh an option that is not known "
            "see help and starts with written value"
        ):
            assert word not in result.output
