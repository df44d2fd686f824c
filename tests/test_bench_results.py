"""bench/RESULTS.md is written by the bench scripts: each replaces its own section, keeps the
others, and says what was run, on what, the figures and the ratio to its baseline."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import results

SCRIPTS = [
    "batch.py",
    "hl7_split.py",
    "instructions.py",
    "join.py",
    "mail.py",
    "scale.py",
    "source.py",
    "startup.py",
]


@pytest.fixture
def results_file(tmp_path, monkeypatch):
    path = tmp_path / "RESULTS.md"
    monkeypatch.setattr(results, "RESULTS", path)
    monkeypatch.setattr(results, "REPO", tmp_path)
    return path


def test_a_script_replaces_its_own_section_and_keeps_the_others(results_file):
    plain = argparse.Namespace(baseline=None)
    results.write_results(
        "bench/startup.py",
        ["bench/startup.py", "--runs", "3", "--write-results"],
        [results.Figure("python -c pass", "ms", [20.0, 30.0, 25.0])],
        plain,
    )
    results.write_results(
        "bench/batch.py",
        ["bench/batch.py"],
        [results.Figure("one PDF, wall", "s", [9.0, 11.0], [4.0, 6.0])],
        plain,
    )
    first = results_file.read_text()
    assert first.startswith(results.HEADER)
    assert first.index("## bench/batch.py") < first.index("## bench/startup.py")  # sorted by script
    assert "- command: `bench/startup.py --runs 3`" in first  # --write-results is not part of it
    assert "| python -c pass | ms | 3 | 20.0 | 25.0 | 30.0 |  |  |" in first
    assert "| one PDF, wall | s | 2 | 9.00 | 10.0 | 11.0 | 5.00 | 2.00x |" in first
    for key in (
        "- run: ",
        "- machine: ",
        "- Python: ",
        "- libraries: typst ",
        "- measured: mesocare ",
    ):
        assert first.count(key) == 2, key

    results.write_results(
        "bench/startup.py",
        ["bench/startup.py"],
        [results.Figure("python -c pass", "ms", [40.0])],
        plain,
    )
    second = results_file.read_text()
    assert "| python -c pass | ms | 1 | 40.0 | 40.0 | 40.0 |  |  |" in second
    assert "25.0" not in second.split("## bench/startup.py")[1]  # the old figures are gone
    assert second.split("## bench/startup.py")[0] == first.split("## bench/startup.py")[0]
    assert second.count("## bench/") == 2


def test_a_baseline_is_named_by_its_commit(results_file, tmp_path):
    checkout = tmp_path / "old"
    (checkout / ".venv" / "bin").mkdir(parents=True)
    (checkout / ".venv" / "bin" / "python").symlink_to(sys.executable)
    args = argparse.Namespace(baseline=str(checkout))
    assert results.baseline_python(str(checkout)) == str(checkout / ".venv" / "bin" / "python")
    results.write_results(
        "bench/batch.py", ["bench/batch.py"], [results.Figure("x", "s", [1.0], [2.0])], args
    )
    assert "\n- baseline: " in results_file.read_text()
    with pytest.raises(SystemExit, match="no bin/python"):
        results.baseline_python(str(tmp_path / "nowhere"))


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_bench_script_can_write_its_results(script):
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), "--help"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--write-results" in done.stdout
    # their comparisons are built in, or made with --keep (source.py)
    if script not in ("hl7_split.py", "instructions.py", "source.py"):
        assert "--baseline" in done.stdout


def test_results_md_is_the_scripts_output():
    text = (REPO / "bench" / "RESULTS.md").read_text(encoding="utf-8")
    assert text.startswith(results.HEADER)
    sections = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert sections == sorted(sections) and sections
    assert all(s.startswith("bench/") and s[len("bench/") :] in SCRIPTS for s in sections)


def test_the_source_bench_writes_the_typst_source_of_a_batch(tmp_path):
    # bench/source.py counts this program under callgrind: it must still run against the code
    import batch
    import source

    csv, out = tmp_path / "day.csv", tmp_path / "day.typ"
    batch.schedule(csv, 60)
    for what in ("handouts", "source"):
        subprocess.run(
            [sys.executable, "-c", source.RUN, str(csv), what, str(out)], check=True, timeout=300
        )
        assert out.exists() == (what == "source")
    text = out.read_text(encoding="utf-8")
    assert text.count('#mc-run("h') == 60 and text.count('#mc-run("cover"') == 1
