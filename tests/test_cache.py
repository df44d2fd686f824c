"""The rule-set cache: same rules as a fresh read, never stale, and a lean warm start."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import GOOD_RULE
from mesocare.resources import instructions_dir
from mesocare.rule_cache import cache_dir
from mesocare.rules import load_ruleset



def test_cached_ruleset_equals_a_fresh_read(monkeypatch, tmp_path):
    monkeypatch.setenv("MESOCARE_CACHE_DIR", str(tmp_path / "cache"))
    fresh = load_ruleset([(instructions_dir(), "mesocare")], use_cache=False)
    first = load_ruleset([(instructions_dir(), "mesocare")])  # writes the cache
    assert list((tmp_path / "cache").glob("rules-*.json"))
    cached = load_ruleset([(instructions_dir(), "mesocare")])  # reads it
    assert fresh == first == cached


def test_a_changed_rule_file_is_read_again(monkeypatch, tmp_path):
    monkeypatch.setenv("MESOCARE_CACHE_DIR", str(tmp_path / "cache"))
    clinic = tmp_path / "rules"
    clinic.mkdir()
    (clinic / "c.yaml").write_text(GOOD_RULE)
    folders = [(instructions_dir(), "mesocare"), (clinic, "clinic")]
    assert load_ruleset(folders).rule("my-rule").text == "Stop my thing."
    (clinic / "c.yaml").write_text(GOOD_RULE.replace("Stop my thing.", "Stop it now."))
    assert load_ruleset(folders).rule("my-rule").text == "Stop it now."
    (clinic / "c.yaml").write_text(GOOD_RULE.replace("before: 3d", "before: 3x"))
    import pytest

    from mesocare.errors import RuleFileError

    with pytest.raises(RuleFileError):
        load_ruleset(folders)  # a broken file is never hidden by an older cache entry


def test_a_damaged_cache_is_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("MESOCARE_CACHE_DIR", str(tmp_path))
    load_ruleset([(instructions_dir(), "mesocare")])
    for f in tmp_path.glob("rules-*.json"):
        f.write_text("{ not json")
    assert len(load_ruleset([(instructions_dir(), "mesocare")]).rules) == 22


def test_an_unwritable_cache_is_skipped(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("MESOCARE_CACHE_DIR", str(blocker / "cache"))  # cannot be made
    assert len(load_ruleset([(instructions_dir(), "mesocare")]).rules) == 22


def test_no_cache_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MESOCARE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("MESOCARE_NO_CACHE", "1")
    load_ruleset([(instructions_dir(), "mesocare")])
    assert not list(tmp_path.iterdir())
    assert cache_dir() == tmp_path


def test_warm_json_run_imports_nothing_heavy(tmp_path):
    """A scripted json run loads neither YAML nor the rule-file models, jinja2, rich or typst."""
    env = dict(os.environ, MESOCARE_CACHE_DIR=str(tmp_path / "cache"), MESOCARE_CLINIC="")
    cmd = [sys.executable, "-X", "importtime", "-m", "mesocare", "prep", "--date", "2024-06-10", "--area", "face",
           "--tz", "UTC", "--today", "2024-06-01", "--format", "json"]
    subprocess.run(cmd, capture_output=True, env=env, cwd=tmp_path, check=True)  # fills the cache
    warm = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    imported = {line.split("|")[-1].strip() for line in warm.stderr.splitlines() if line.startswith("import time:")}
    for heavy in ("yaml", "mesocare.rule_schema", "mesocare.yamlload", "jinja2", "rich", "typst", "icalendar", "fhir", "hl7apy", "holidays", "textstat"):
        assert heavy not in imported, f"{heavy} was imported on the json path"
