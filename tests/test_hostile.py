"""The hostile-input corpus (tests/hostile/README.md): each case runs the real CLI in a
subprocess, with a time limit and a memory limit, and must keep the README's promises: the
documented exit code; no traceback; one short line per problem naming where it is; no output
left behind on failure; nothing written outside the output folder; the marker patient's name
and address never on stderr."""

from __future__ import annotations

import base64
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent / "hostile"))
from generate import GENERATORS, NAME  # noqa: E402

CASES = Path(__file__).resolve().parent / "hostile" / "cases"
SECRETS = (NAME, "Zelda", "Quixote", "zelda@example.org")
POSITION = re.compile(r"^\s+(row|entry|event|message|line|header|file|before message)\b")
LINE_MAX = 400  # characters in one line of stderr


def _cases() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(CASES.rglob("*")):
        if path.name == "case.yaml":
            found.append((str(path.parent.relative_to(CASES)), path))
        elif path.suffix == ".yaml" and (path.parent / "case.yaml") != path and not (path.parent / "case.yaml").exists():
            found.append((str(path.relative_to(CASES).with_suffix("")), path))
    return found


def _content(spec, folder: Path) -> bytes:
    if isinstance(spec, str):
        return spec.encode()
    if "text" in spec:
        return spec["text"].encode(spec.get("encoding", "utf-8"))
    if "base64" in spec:
        return base64.b64decode(spec["base64"])
    if "copy" in spec:
        return (folder / spec["copy"]).read_bytes()
    if "generate" in spec:
        options = {k: v for k, v in spec.items() if k != "generate"}
        return GENERATORS[spec["generate"]](**options)
    raise ValueError(f"unknown file spec {spec!r}")


def _fill(arg: str, work: Path) -> str:
    return arg.replace("{work}", str(work)).replace("{out}", str(work / "out"))


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def _limits(memory_mb: int):
    def apply() -> None:
        size = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
        resource.setrlimit(resource.RLIMIT_FSIZE, (512 * 1024 * 1024, 512 * 1024 * 1024))

    return apply


@pytest.mark.parametrize("name, path", _cases(), ids=[n for n, _ in _cases()])
def test_hostile_case(name: str, path: Path, tmp_path: Path):
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    folder = path.parent
    outside = tmp_path / "outside"  # a neighbour of the work folder: must stay as it was
    work = tmp_path / "work"
    for where in (outside, work, work / "home", work / "out"):
        where.mkdir(parents=True)
    (outside / "keep.txt").write_text("untouched\n")
    if path.name == "case.yaml":  # a folder case: its other files are inputs
        for extra in folder.iterdir():
            if extra.name != "case.yaml" and extra.is_file():
                (work / extra.name).write_bytes(extra.read_bytes())
    for file_name, spec in (case.get("files") or {}).items():
        target = work / file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_content(spec, folder))
    stdin = _content(case["stdin"], folder) if "stdin" in case else b""
    before_work, before_outside = _tree(work), _tree(tmp_path / "outside")
    env = {**os.environ, "HOME": str(work / "home"), "NO_COLOR": "1", "COLUMNS": "100"}
    env.pop("MESOCARE_CLINIC", None)
    args = [sys.executable, "-m", "mesocare", *(_fill(str(a), work) for a in case["args"])]
    expect = case.get("expect") or {}
    try:
        done = subprocess.run(
            args, input=stdin, capture_output=True, cwd=work, env=env,
            timeout=case.get("time_limit", 60), preexec_fn=_limits(case.get("memory_mb", 1536)),
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name}: no answer within {case.get('time_limit', 60)} s")
    stderr = done.stderr.decode("utf-8", errors="replace")
    shown = f"{name}: exit {done.returncode}\n{stderr[-3000:]}"

    assert done.returncode == expect.get("exit", 0), shown
    assert "Traceback" not in stderr and "Error:" not in stderr.replace("mesocare: ", ""), shown
    for secret in SECRETS + tuple(expect.get("private", ())):
        assert secret not in stderr, f"{name}: '{secret}' on stderr\n{stderr}"
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert all(len(line) <= LINE_MAX for line in lines), shown
    errors = [line for line in lines if line.startswith("mesocare: ") and not line.startswith("mesocare: warning")]
    if done.returncode in (1, 2):
        assert len(errors) == 1 or done.returncode == 2, shown  # one sentence (usage errors are typer's box)
    if done.returncode == 3:
        assert any(POSITION.match(line) for line in lines), shown
    for text in expect.get("stderr", ()):
        assert text in stderr, f"{name}: '{text}' not on stderr\n{stderr}"

    after = _tree(work)
    new = sorted(set(after) - set(before_work))
    changed = sorted(k for k in before_work if after.get(k) != before_work[k])
    assert not changed, f"{name}: input files changed: {changed}"
    assert all(n.startswith("out" + os.sep) for n in new), f"{name}: written outside the output folder: {new}"
    if done.returncode in (1, 2):
        assert not new, f"{name}: files left behind after exit {done.returncode}: {new}"
    assert _tree(tmp_path / "outside") == before_outside, f"{name}: a file outside the work folder changed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside", "work"], f"{name}: written next to the work folder"
    for output in expect.get("outputs", ()):
        assert (work / output).is_file(), f"{name}: {output} was not written"
    for output, absent in (expect.get("output_lacks") or {}).items():
        data = done.stdout.decode("utf-8", "replace") if output == "stdout" else (work / output).read_text(encoding="utf-8", errors="replace")
        for text in absent:
            assert text not in data, f"{name}: '{text}' in {output}"
