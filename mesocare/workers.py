"""One bounded, ordered pool of worker processes (the PDF batch and ``send`` use it).

- How many: ``MESOCARE_PDF_WORKERS`` is read here only. It must be ASCII digits, at least 1
  (``1``: everything runs in this process); a larger number than this machine's cores (at
  most ``MAX_WORKERS``) is lowered to that. Anything else (``²``, ``-1``, ``two``, ``0``) is one
  sentence naming the variable, exit 2. Unset or empty: one per core, at most ``DEFAULT_CAP``.
- Order and memory: ``Pool.ordered`` gives results in the order the jobs were given, with at
  most ``AHEAD`` jobs per worker in flight, so memory stays flat however long the list.
- Lifetime: workers are spawned (never forked: a Typst compiler may already hold threads) and
  die with their parent. On Linux each worker asks the kernel for SIGKILL when its parent
  dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``, see prctl(2)); elsewhere a thread watches the
  parent's pid. A worker whose parent is already gone when it starts ends at once.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Self, TypeVar

from mesocare.errors import UsageError

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

ENV = "MESOCARE_PDF_WORKERS"
DEFAULT_CAP = 4  # processes when the variable is unset: one per core, at most this many
MAX_WORKERS = 8  # never more, whatever the variable says (each worker holds ~100 MB of fonts)
AHEAD = 2  # jobs in flight per worker
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

T = TypeVar("T")


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def limit() -> int:
    """The most worker processes a run starts: the cores, at most ``MAX_WORKERS``."""
    return max(1, min(cores(), MAX_WORKERS))


def wanted(environ: dict[str, str] | None = None) -> int:
    """The number of worker processes to use, from ``MESOCARE_PDF_WORKERS`` (see the module).

    Raises UsageError (exit 2) for a value that is not a whole number of at least 1.
    """
    raw = (os.environ if environ is None else environ).get(ENV, "")
    text = raw.strip()
    if not text:
        return max(1, min(cores(), DEFAULT_CAP))
    # str.isdigit() accepts '²' and other digits int() refuses: ASCII digits only
    if not (text.isascii() and text.isdigit()) or not text.strip("0"):
        shown = text if len(text) <= 20 else text[:20] + "..."
        raise UsageError(
            f"{ENV}={shown!r} is not a number of worker processes: give a whole number from 1 to "
            f"{limit()} (the cores here), or leave it unset."
        )
    return min(int(text) if len(text) <= 6 else MAX_WORKERS, limit())


def _die_with_parent(parent: int) -> None:
    """Ask for SIGKILL when the parent dies (Linux), else watch its pid from a thread; end now
    if the parent is already gone (it died before this ran)."""
    import signal

    armed = False
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:
        os._exit(1)
    if not armed:
        import threading
        import time

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, name="mesocare-parent-watch", daemon=True).start()


def _worker_start(parent: int, setup: Callable[..., None] | None, args: tuple) -> None:
    _die_with_parent(parent)
    if setup is not None:
        setup(*args)


class Pool:
    """Up to ``n`` spawned worker processes (none when ``n`` is 1: jobs run in this process).

    Use as a context manager; ``ordered`` may be called several times (a batch's second pass).
    ``setup(*args)`` runs once in each worker as it starts. The pool must be used from the
    thread that made it (the main thread): on Linux a worker's death signal follows the
    thread that spawned it.
    """

    def __init__(self, n: int, setup: Callable[..., None] | None = None, args: tuple = ()):
        self.n = max(1, n)
        self._setup, self._args = setup, args
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> Self:
        if self.n > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._executor = ProcessPoolExecutor(
                max_workers=self.n,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_start,
                initargs=(os.getpid(), self._setup, self._args),
            )
        return self

    def __exit__(self, *exc) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def ordered(
        self,
        fn: Callable[..., Any],
        jobs: Iterable[tuple[tuple, T]],
        waiting: Callable[[], object] | None = None,
    ) -> Iterator[tuple[Any, T]]:
        """``fn(*args)`` for each job ``(args, tag)``, yielded as ``(result, tag)`` in the jobs'
        order, each once done; at most ``AHEAD`` jobs per worker are in flight. What the
        caller does with a result runs here while the workers go on with the next jobs.
        ``waiting()``, when given, runs once here as the first result is awaited, while the
        workers start on the first jobs (with workers only)."""
        if self._executor is None:
            for args, tag in jobs:
                yield fn(*args), tag
            return
        pending: deque = deque()

        def result(future) -> Any:
            nonlocal waiting
            if waiting is not None:
                idle, waiting = waiting, None
                idle()
            return future.result()

        try:
            for args, tag in jobs:
                pending.append((self._executor.submit(fn, *args), tag))
                if len(pending) >= AHEAD * self.n:
                    future, done_tag = pending.popleft()
                    yield result(future), done_tag
            while pending:
                future, done_tag = pending.popleft()
                yield result(future), done_tag
        finally:
            for future, _ in pending:
                future.cancel()
