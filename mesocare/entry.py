"""The ``mesocare`` command's entry point, safe from its first instant.

Importing the command line (Typer, click, the commands) takes a good part of a run; a Ctrl-C
in that time would otherwise end in a Python traceback. Here it is the same one line and exit
code 130 as a Ctrl-C later on (``Interrupted``); so is SIGTERM. This module imports nothing
heavy itself.
"""

from __future__ import annotations

import os
import sys

INTERRUPTED = 130  # mesocare.errors.ExitCode.INTERRUPTED (not imported: that is part of the wait)
MESSAGE = "mesocare: interrupted; no file was left half-written.\n"


def main() -> None:
    """Import the command line and run it; an interrupt before or after the commands' own
    handling is one line on stderr and exit 130. SIGTERM (kill, a service manager, timeout)
    ends a run the same way, so its temporary files go and its workers stop with it."""
    _terminate_as_interrupt()
    try:
        from mesocare.cli.application import main as run

        run()
    except BaseException as e:
        if not _interrupted(e):
            raise
        try:
            sys.stderr.write(MESSAGE)
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os._exit(INTERRUPTED)


def _terminate_as_interrupt() -> None:
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, stop)
    except (ValueError, OSError, AttributeError):  # not the main thread, or no SIGTERM here
        pass


def _interrupted(error: BaseException | None) -> bool:
    """A Ctrl-C, even one that Python wrapped on the way (an interrupt in a class's
    ``__set_name__`` during an import becomes a RuntimeError caused by it)."""
    seen = 0
    while error is not None and seen < 8:
        if isinstance(error, KeyboardInterrupt):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False
