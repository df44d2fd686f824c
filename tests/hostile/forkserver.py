"""A warm command line for the hostile corpus: imports mesocare's CLI once, then runs each case
in a child process forked from it.

Starting Python and importing Typer, click and the commands costs about 0.3 s of CPU per run,
a third of the corpus's time; a forked child starts with all of that done and runs the same
entry point (``mesocare.entry.main``) as the installed ``mesocare`` command, in a process of
its own: its own limits (address space, file size), working folder, environment, stdin,
stdout and stderr, its own exit code. Nothing is run in this process before a fork but the
imports (``WARM``: no clinic, no rule, no cache is loaded), and this process has no threads, so a
fork is safe.

Protocol, one JSON object per line: a request on stdin
``{"argv": [...], "cwd": ..., "env": {...}, "memory": bytes, "stdin": path, "stdout": path,
"stderr": path, "timeout": seconds}``, and its answer on stdout ``{"returncode": n}`` (None
when the child was killed at its time limit; negative: killed by that signal).
"""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import sys
import time
import traceback

FILE_SIZE = 512 * 1024 * 1024  # as the exec shim in test_hostile.py


def _stream(fd: int, mode: str, **options):
    raw = io.FileIO(fd, mode, closefd=False)
    buffered = io.BufferedReader(raw) if mode == "r" else io.BufferedWriter(raw)
    return io.TextIOWrapper(buffered, **options)


def _child(request: dict) -> None:
    """Become the case's CLI process; never returns."""
    code = 1
    try:
        memory = int(request["memory"])
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE, FILE_SIZE))
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for fd, (path, flags) in enumerate(
            (
                (request["stdin"], os.O_RDONLY),
                (request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                (request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
            )
        ):
            opened = os.open(path, flags, 0o600)
            os.dup2(opened, fd)
            os.close(opened)
        # the streams a fresh interpreter would make for files and pipes
        encoding = sys.stdout.encoding
        sys.stdin = sys.__stdin__ = _stream(0, "r", encoding=encoding, errors="strict")
        sys.stdout = sys.__stdout__ = _stream(1, "w", encoding=encoding, errors="strict")
        sys.stderr = sys.__stderr__ = _stream(
            2, "w", encoding=encoding, errors="backslashreplace", line_buffering=True
        )
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.argv = ["mesocare", *request["argv"]]
        from mesocare.entry import main

        main()  # leaves with os._exit
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # what an uncaught exception does in a fresh interpreter
        try:
            traceback.print_exc()
        except BaseException:
            pass
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(code)


def _wait(pid: int, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.005)


# What most runs import on the way (each child would import them anyway; importing them once
# here is what saves the time). Nothing is run.
WARM = (
    "mesocare.entry",
    "mesocare.cli.application",
    "mesocare.cli.prep",
    "mesocare.cli.batch",
    "mesocare.cli.rules",
    "mesocare.cli.plan",
    "mesocare.cli.init",
    "mesocare.cli.schema",
    "mesocare.cli.mail",
    "typer._adapters",
    "pydantic",
    "jinja2",
    "jinja2.sandbox",
    "yaml",
    "rich.console",
    "mesocare.handout",
    "mesocare.batch",
    "mesocare.rules",
    "mesocare.config.clinic",
    "mesocare.render",
    "mesocare.render.templating",
    "mesocare.readers",
)


def main() -> None:
    import importlib

    for name in WARM:
        try:
            importlib.import_module(name)
        except ImportError:  # another install (HOSTILE_PYTHON) may lack one
            pass

    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        answer = {"returncode": _wait(pid, float(request["timeout"]))}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
