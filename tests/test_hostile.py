"""The hostile-input corpus (tests/hostile/README.md): each case runs the real CLI in a
subprocess, with a time limit and a memory limit, and must keep the README's promises: the
documented exit code; no traceback; one short line per problem naming where it is; no control
character on stderr; no output left behind on failure; nothing written outside the output
folder; the marker patient's name and address never on stderr.

The cases run a few at a time in a thread pool (one fixture starts every selected case); each
case is still its own test, with its own failure message. Each case's process is forked from a
warm CLI (hostile/forkserver.py: Python and the command line already imported, a third of the
corpus's time saved); HOSTILE_FORK=0 starts a fresh interpreter for each case instead."""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import stat
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent / "hostile"))
from generate import GENERATORS, NAME

CASES = Path(__file__).resolve().parent / "hostile" / "cases"
SECRETS = (NAME, "Zelda", "Quixote", "zelda@example.org")
POSITION = re.compile(r"^\s+(row|entry|event|message|line|header|file|before message)\b")
CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)  # on stderr: never (tabs and line ends are fine)
LINE_MAX = 400  # characters in one line of stderr
# the interpreter that runs the CLI: HOSTILE_PYTHON=../baseline/.venv/bin/python runs
# the corpus against another install (to see a case fail on old code)
PYTHON = os.environ.get("HOSTILE_PYTHON", sys.executable)
WORKERS = max(2, min(4, (os.cpu_count() or 2)))
FORK = os.environ.get("HOSTILE_FORK", "1") != "0" and "HOSTILE_PYTHON" not in os.environ
FORKSERVER = Path(__file__).resolve().parent / "hostile" / "forkserver.py"
# sets the child's limits, then becomes the CLI (no preexec_fn: not safe with threads)
SHIM = (
    "import os, resource, sys\n"
    "size, fsize = int(sys.argv[1]), 512 * 1024 * 1024\n"
    "resource.setrlimit(resource.RLIMIT_AS, (size, size))\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))\n"
    "os.execv(sys.argv[2], [sys.argv[2], '-m', 'mesocare', *sys.argv[3:]])\n"
)


def _cases() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(CASES.rglob("*")):
        if path.name == "case.yaml":
            found.append((str(path.parent.relative_to(CASES)), path))
        elif path.suffix == ".yaml" and not (path.parent / "case.yaml").exists():
            found.append((str(path.relative_to(CASES).with_suffix("")), path))
    return found


CASE_LIST = _cases()


class _Fifo:
    """A named pipe with a reader that drains it for as long as the case runs."""

    def __init__(self, path: Path):
        os.mkfifo(path)
        self.path, self.data, self.stop = path, bytearray(), threading.Event()
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a reader exists: writers never block
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while not self.stop.is_set():
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                chunk = b""
            if chunk:
                self.data += chunk
            else:
                time.sleep(0.02)
        while True:  # what the writer left in the pipe after the last look (a loaded machine)
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            self.data += chunk

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        os.close(self.fd)


def _content(spec, folder: Path) -> bytes:
    if isinstance(spec, str):
        return spec.encode()
    if "generate" in spec:  # first: a generator's options may include a text
        options = {k: v for k, v in spec.items() if k != "generate"}
        return GENERATORS[spec["generate"]](**options)
    if "text" in spec:
        return spec["text"].encode(spec.get("encoding", "utf-8"))
    if "base64" in spec:
        return base64.b64decode(spec["base64"])
    if "copy" in spec:
        return (folder / spec["copy"]).read_bytes()
    raise ValueError(f"unknown file spec {spec!r}")


def _make(target: Path, spec, folder: Path, fifos: list[_Fifo]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(spec, dict) and "symlink" in spec:
        os.symlink(spec["symlink"], target)
    elif isinstance(spec, dict) and spec.get("folder"):
        target.mkdir(exist_ok=True)
    elif isinstance(spec, dict) and spec.get("fifo"):
        fifos.append(_Fifo(target))
    else:
        target.write_bytes(_content(spec, folder))


def _fill(arg, work: Path) -> str:
    """An argument: a string with {work} and {out} filled in, or a file spec (a long value)."""
    if isinstance(arg, dict):
        return _content(arg, work).decode()
    return str(arg).replace("{work}", str(work)).replace("{out}", str(work / "out"))


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


@dataclass
class Run:
    case: dict
    base: Path
    returncode: int | None = None
    stdout: bytes = b""
    stderr: str = ""
    before_work: dict = field(default_factory=dict)
    before_outside: dict = field(default_factory=dict)
    fifos: dict = field(default_factory=dict)  # name -> (still a FIFO, bytes read)


class _Server:
    """One warm CLI (hostile/forkserver.py) that forks a process per case, one case at a time."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [PYTHON, str(FORKSERVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            text=True,
        )

    def run(self, request: dict) -> int | None:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("the hostile corpus's fork server stopped")
        return json.loads(answer)["returncode"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _forked(
    servers: queue.Queue, argv, stdin: bytes, work: Path, env, memory: int, timeout, base: Path
):
    """The case run in a process forked from a warm CLI: exit code, stdout and stderr."""
    streams = base.parent / (base.name + "-streams")  # beside the case's folder, not in it
    streams.mkdir()
    (streams / "stdin").write_bytes(stdin)
    server = servers.get()
    try:
        code = server.run(
            {
                "argv": argv,
                "cwd": str(work),
                "env": env,
                "memory": memory,
                "timeout": timeout,
                "stdin": str(streams / "stdin"),
                "stdout": str(streams / "stdout"),
                "stderr": str(streams / "stderr"),
            }
        )
    finally:
        servers.put(server)
    if code is None:
        return None, None, None
    return code, (streams / "stdout").read_bytes(), (streams / "stderr").read_bytes()


def _executed(argv, stdin: bytes, work: Path, env, memory: int, timeout):
    """The case run by a fresh interpreter (``python -m mesocare``): exit code, stdout and
    stderr."""
    args = [PYTHON, "-I", "-S", "-c", SHIM, str(memory), PYTHON, *argv]
    try:
        done = subprocess.run(
            args, input=stdin, capture_output=True, cwd=work, env=env, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None, None, None
    return done.returncode, done.stdout, done.stderr


def _run(
    path: Path, base: Path, environ: dict[str, str], servers: queue.Queue | None = None
) -> Run:
    """Make the case's files, run it, and keep what the test checks. ``environ``: this
    process's environment, copied once in the main thread (pytest changes os.environ as it
    goes, and a copy taken in a pool thread can meet a key being removed)."""
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    folder, run = path.parent, Run(case, base)
    outside, work = base / "outside", base / "work"  # outside: a neighbour that must stay as it was
    for where in (outside, work, work / "home", work / "out"):
        where.mkdir(parents=True)
    (outside / "keep.txt").write_text("untouched\n")
    if path.name == "case.yaml":  # a folder case: its other files are inputs
        for extra in folder.iterdir():
            if extra.name != "case.yaml" and extra.is_file():
                (work / extra.name).write_bytes(extra.read_bytes())
    fifos: list[_Fifo] = []
    for file_name, spec in (case.get("files") or {}).items():
        _make(work / file_name, spec, folder, fifos)
    stdin = _content(case["stdin"], folder) if "stdin" in case else b""
    run.before_work, run.before_outside = _tree(work), _tree(outside)
    env = {**environ, "HOME": str(work / "home"), "NO_COLOR": "1", "COLUMNS": "100"}
    env.pop("MESOCARE_CLINIC", None)
    memory = case.get("memory_mb", 1536) * 1024 * 1024
    argv = [_fill(a, work) for a in case["args"]]
    try:
        timeout = case.get("time_limit", 60)
        if servers is not None:
            run.returncode, out, err = _forked(
                servers, argv, stdin, work, env, memory, timeout, base
            )
        else:
            run.returncode, out, err = _executed(argv, stdin, work, env, memory, timeout)
        if out is not None:
            run.stdout, run.stderr = out, err.decode("utf-8", errors="replace")
    finally:
        for fifo in fifos:
            fifo.close()
            run.fifos[str(fifo.path.relative_to(work))] = (
                stat.S_ISFIFO(os.lstat(fifo.path).st_mode),
                bytes(fifo.data),
            )
    return run


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    """Start every selected case at once in a small pool; each test waits for its own."""
    wanted = {
        item.callspec.params["name"]
        for item in request.session.items
        if item.originalname == "test_hostile_case"
    }
    environ = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    servers: queue.Queue | None = None
    if FORK:
        servers = queue.Queue()
        for _ in range(WORKERS):
            servers.put(_Server())
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    futures = {
        name: pool.submit(
            _run, path, tmp_path_factory.mktemp(re.sub(r"\W", "-", name)), environ, servers
        )
        for name, path in CASE_LIST
        if name in wanted
    }
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)
    while servers is not None and not servers.empty():
        servers.get().close()


@pytest.mark.xdist_group("hostile")  # one worker runs them all, in its own pool (./scripts/test)
@pytest.mark.parametrize("name, path", CASE_LIST, ids=[n for n, _ in CASE_LIST])
def test_hostile_case(name: str, path: Path, runs):
    run = runs[name].result()
    case, base = run.case, run.base
    work, expect = base / "work", run.case.get("expect") or {}
    if run.returncode is None:
        pytest.fail(f"{name}: no answer within {case.get('time_limit', 60)} s")
    stderr = run.stderr
    shown = f"{name}: exit {run.returncode}\n{stderr[-3000:]}"

    assert run.returncode == expect.get("exit", 0), shown
    assert "Traceback" not in stderr and "Error:" not in stderr.replace("mesocare: ", ""), shown
    for secret in SECRETS + tuple(expect.get("private", ())):
        assert secret not in stderr, f"{name}: '{secret}' on stderr\n{stderr}"
    assert not CONTROL.search(stderr), (
        f"{name}: a control character on stderr: {CONTROL.findall(stderr)!r}\n{stderr!r}"
    )
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert all(len(line) <= LINE_MAX for line in lines), shown
    errors = [
        line
        for line in lines
        if line.startswith("mesocare: ") and not line.startswith("mesocare: warning")
    ]
    if run.returncode in (1, 2) and not expect.get("report"):
        assert len(errors) == 1 or run.returncode == 2, (
            shown
        )  # one sentence (usage errors are typer's box)
    if run.returncode == 3:
        assert any(POSITION.match(line) for line in lines), shown
    for text in expect.get("stderr", ()):
        assert text in stderr, f"{name}: '{text}' not on stderr\n{stderr}"

    after = _tree(work)
    new = sorted(set(after) - set(run.before_work))
    replaced = set(
        expect.get("outputs", ())
    )  # an output may replace what was there (a file, a link)
    changed = sorted(
        k for k in run.before_work if after.get(k) != run.before_work[k] and k not in replaced
    )
    assert not changed, f"{name}: input files changed: {changed}"
    assert all(n.startswith("out" + os.sep) for n in new), (
        f"{name}: written outside the output folder: {new}"
    )
    if run.returncode in (1, 2):
        assert not new, f"{name}: files left behind after exit {run.returncode}: {new}"
    assert _tree(base / "outside") == run.before_outside, (
        f"{name}: a file outside the work folder changed"
    )
    assert sorted(p.name for p in base.iterdir()) == ["outside", "work"], (
        f"{name}: written next to the work folder"
    )
    for fifo, (still, data) in run.fifos.items():
        assert still, f"{name}: the named pipe {fifo} was replaced"
        if run.returncode == 0:
            assert data, f"{name}: nothing was written into the named pipe {fifo}"
    for output in expect.get("outputs", ()):
        assert (work / output).is_file(), f"{name}: {output} was not written"
    for output, absent in (expect.get("output_lacks") or {}).items():
        data = (
            run.stdout.decode("utf-8", "replace")
            if output == "stdout"
            else (work / output).read_text(encoding="utf-8", errors="replace")
        )
        for text in absent:
            assert text not in data, f"{name}: {text!r} in {output}"
    for output, present in (expect.get("output_has") or {}).items():
        data = (
            run.stdout.decode("utf-8", "replace")
            if output == "stdout"
            else (work / output).read_text(encoding="utf-8", errors="replace")
        )
        for text in present:
            assert text in data, f"{name}: {text!r} not in {output}"
