"""The rule-set cache: same rules as a fresh read, never stale, and a lean warm start."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import GOOD_RULE
from mesocare.resources import instructions_dir
from mesocare.rule_cache import cache_dir
from mesocare.rules import load_ruleset

ORIGINAL_CACHE = os.environ["MESOCARE_CACHE_DIR"]


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
    cmd = [
        sys.executable,
        "-X",
        "importtime",
        "-m",
        "mesocare",
        "prep",
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--tz",
        "UTC",
        "--today",
        "2024-06-01",
        "--format",
        "json",
    ]
    subprocess.run(cmd, capture_output=True, env=env, cwd=tmp_path, check=True)  # fills the cache
    warm = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    imported = {
        line.split("|")[-1].strip()
        for line in warm.stderr.splitlines()
        if line.startswith("import time:")
    }
    for heavy in (
        "yaml",
        "mesocare.rule_schema",
        "mesocare.yamlload",
        "jinja2",
        "rich",
        "typst",
        "icalendar",
        "fhir",
        "hl7apy",
        "holidays",
        "textstat",
    ):
        assert heavy not in imported, f"{heavy} was imported on the json path"


# ----------------------------------------------------------------------------- a planted entry

PLANTED = "Stop taking ALL of your prescribed medicines."
RUN = [
    "prep",
    "--date",
    "2024-06-10",
    "--area",
    "face",
    "--tz",
    "UTC",
    "--today",
    "2024-06-01",
    "--format",
    "json",
]


def _json_run(cache, tmp_path):
    import json

    env = dict(os.environ, MESOCARE_CACHE_DIR=str(cache), MESOCARE_CLINIC="")
    done = subprocess.run(
        [sys.executable, "-m", "mesocare", *RUN],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)


def _entries(path) -> tuple[dict, dict]:
    """An entry's header line and its rule set."""
    head, _, payload = path.read_bytes().partition(b"\n")
    return json.loads(head), json.loads(payload)


def _rewrite(path, header: dict, ruleset: dict, digest: bool = False) -> None:
    """Write an entry back; with ``digest`` its sha256 is made to fit the new bytes (as a
    careful attacker would), else it is left as it was (damage, or a careless edit)."""
    import hashlib

    payload = json.dumps(ruleset).encode("utf-8")
    if digest:
        header = header | {"sha256": hashlib.sha256(payload).hexdigest()}
    path.write_bytes(json.dumps(header).encode("ascii") + b"\n" + payload)


def _plant(cache, edit, digest: bool = False) -> None:
    """Edit every entry of ``cache`` with ``edit(entry's rule set)`` (as an attacker would)."""
    for path in cache.glob("rules-*.json"):
        header, ruleset = _entries(path)
        edit(ruleset)
        _rewrite(path, header, ruleset, digest)


def _medicines(ruleset) -> None:
    ruleset["rules"][0]["text"] = PLANTED


def _shared(cache) -> None:
    cache.chmod(0o777)


def _file_shared(cache) -> None:
    for path in cache.glob("rules-*.json"):
        path.chmod(0o666)


def _others(cache) -> None:
    os.chown(cache, 4321, 4321)


@pytest.mark.parametrize("where", [None, _shared, _file_shared, _others])
def test_a_planted_cache_entry_never_reaches_a_handout(tmp_path, where):
    """An entry whose texts were changed (by whoever could write it) is not used: its bytes no
    longer match the digest it carries; and a folder or file someone else owns or may write is
    not read at all, even when the entry inside matches its digest."""
    cache = tmp_path / "cache"
    honest = _json_run(cache, tmp_path)
    if where is None:
        _plant(cache, _medicines)
    else:
        _plant(cache, _medicines, digest=True)  # a careful attacker makes the digest fit
        if where is _others and os.getuid() != 0:
            pytest.skip("only root can give a folder to another user")
        where(cache)
    again = _json_run(cache, tmp_path)
    assert PLANTED not in json.dumps(again)
    assert again == honest


@pytest.mark.parametrize(
    "edit",
    [
        lambda rs: rs["rules"][0].update(text=5),
        lambda rs: rs["rules"][0].update(areas="face"),
        lambda rs: rs["rules"][0].update(window={"before": "xyz"}),
        lambda rs: rs["rules"][0].update(window=[1]),
        lambda rs: rs["rules"][0].update(colour="blue"),
        lambda rs: rs["rules"][0].pop("text"),
        lambda rs: rs.update(rules={"a": 1}),
        lambda rs: rs.update(rules=[[1]]),
        lambda rs: rs.update(reviewed_on="yesterday"),
        lambda rs: rs["notes"][0].update(line="7"),
        lambda rs: rs.clear(),
    ],
)
def test_a_damaged_entry_is_never_a_traceback(tmp_path, edit):
    cache = tmp_path / "cache"
    honest = _json_run(cache, tmp_path)
    _plant(cache, edit)
    assert _json_run(cache, tmp_path) == honest


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=8,
    ),
    st.sampled_from(["rules", "notes", "version", "reviewed_on", "files", "disabled"]),
)
@settings(max_examples=60, deadline=None)
def test_any_value_in_an_entry_is_read_or_refused(value, key):
    """Whatever an entry holds in place of one of its parts, loading gives the true rule set."""
    import tempfile

    from mesocare.rule_cache import cache_dir

    folders = [(instructions_dir(), "mesocare")]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MESOCARE_CACHE_DIR"] = tmp
        try:
            honest = load_ruleset(folders)
            for path in cache_dir().glob("rules-*.json"):
                header, ruleset = _entries(path)
                ruleset[key] = value
                _rewrite(path, header, ruleset)
            again = load_ruleset(folders)
            # what a patient reads is the true set; the list of file names and of the rules
            # the clinic disabled (for rules list) are not in the hash: they need only be texts
            assert (again.rules, again.notes, again.version, again.reviewed_on) == (
                honest.rules,
                honest.notes,
                honest.version,
                honest.reviewed_on,
            )
            assert all(isinstance(t, str) for t in again.files + again.disabled)
        finally:
            os.environ["MESOCARE_CACHE_DIR"] = ORIGINAL_CACHE
