"""The app: one callback that makes the run's Context, one error boundary, the entry point.

Every MesocareError (and an interrupt, and a closed pipe) is mapped to its ExitCode in one
place, ``_Group.invoke`` (``make_context`` only for a closed pipe under --help or --version),
which both ``main()`` and tests (through ``app``) go through;
``--debug`` shows the traceback instead. Usage errors exit 2 (click's own).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from mesocare import __version__
from mesocare.cli.context import Context
from mesocare.errors import ClosedPipe, ExitCode, Interrupted, MesocareError

# Typer's own copy of click's UsageError (typer.BadParameter is one)
_UsageError: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError"
)


class _Group(TyperGroup):
    interrupt_told = False  # an interrupt's line was printed (main() prints it for Typer's own 130)

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except _UsageError as e:  # mesocare --Zelda prep ...: as in invoke
            from mesocare.cli.usage import reword

            reword(e)
            raise
        except BrokenPipeError:  # --help or --version into a closed pipe (click's own exits 1)
            _quiet_stdout()
            raise typer.Exit(ExitCode.OK) from None

    def invoke(self, ctx):
        try:
            try:
                return super().invoke(ctx)
            except _UsageError as e:  # never echo a typed value: it may be part of a name
                from mesocare.cli.usage import reword

                reword(e)
                raise
            except KeyboardInterrupt:
                raise Interrupted() from None
            except BrokenPipeError:  # the reader went away (mesocare ... | head): stop quietly
                raise ClosedPipe() from None
        except MesocareError as e:
            context = ctx.find_object(Context)
            if context is not None and context.debug and not isinstance(e, ClosedPipe):
                raise
            if isinstance(e, ClosedPipe):
                _quiet_stdout()
            elif context is not None:
                context.err(f"mesocare: {e}")
            else:  # before the callback made the Context
                sys.stderr.write(f"mesocare: {e}\n")
            if isinstance(e, Interrupted):
                _Group.interrupt_told = True
            raise typer.Exit(int(e.exit_code)) from None


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the final flush of a closed pipe is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


# Every command, in the order of --help: its name, module (mesocare.cli.*) and function; and
# the command groups (a Typer of their own). Only the command that is run is imported and
# built at start: Typer makes a click command with a pydantic adapter for every option of
# every command it holds, which for all nine cost a scripted run about 20 ms more.
COMMANDS = {
    "prep": ("prep", "prep"),
    "batch": ("batch", "batch"),
    "schema": ("schema", "schema"),
    "init": ("init", "init"),
    "plan": ("plan", "plan"),
    "send": ("mail", "send"),
    "remind": ("mail", "remind"),
    "push": ("push", "push"),
}
GROUPS = {"rules": ("rules", "rules_app")}


def make_app(only: str | None = None) -> typer.Typer:
    """The command line: every command, or only the command ``only`` (what ``main()`` runs)."""
    import importlib

    made = typer.Typer(
        name="mesocare",
        cls=_Group,
        help="Dated pre- and aftercare handouts for mesotherapy appointments.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    made.callback()(_main)
    for name, (module, function) in COMMANDS.items():
        if only in (None, name):
            made.command(name)(getattr(importlib.import_module(f"mesocare.cli.{module}"), function))
    for name, (module, group) in GROUPS.items():
        if only in (None, name):
            made.add_typer(
                getattr(importlib.import_module(f"mesocare.cli.{module}"), group), name=name
            )
    return made


def _command(args: list[str]) -> str | None:
    """The command a process runs, if its first word is one (else None: every command, for
    --help, --version and a mistyped name's message)."""
    first = next((a for a in args if not a.startswith("-")), None)
    return first if first in COMMANDS or first in GROUPS else None


def __getattr__(name: str):
    """``app``: every command (for tests and for use as a library), made when first asked for."""
    if name == "app":
        globals()["app"] = made = make_app()
        return made
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _version(value: bool):
    if value:
        from mesocare.resources import instructions_dir
        from mesocare.rules import load_ruleset

        ruleset = load_ruleset([(instructions_dir(), "mesocare")])
        typer.echo(f"mesocare {__version__} (rule set {ruleset.version[:12]})")
        raise typer.Exit()


def _main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version,
            is_eager=True,
            help="Print the version and the rule-set hash.",
        ),
    ] = False,
):
    """Dated pre- and aftercare handouts for mesotherapy appointments.

    Start with: mesocare prep --date tomorrow --time 10:00 --area face
    """
    ctx.obj = Context.from_process()


def main() -> None:
    """Entry point (``mesocare`` and ``python -m mesocare``).

    Leaves with ``os._exit`` once output is flushed: every file was already written and
    synced whole (mesocare.output), and tearing the interpreter down costs a scripted run
    about a tenth of its time.
    """
    try:
        make_app(_command(sys.argv[1:]))()
        code: int = ExitCode.OK
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            code = e.code or ExitCode.OK
        else:
            sys.stderr.write(f"{e.code}\n")
            code = ExitCode.BAD_INPUT
    if code == ExitCode.INTERRUPTED and not _Group.interrupt_told:
        # Ctrl-C while Typer was still parsing the options: Typer exits 130 without a word
        sys.stderr.write(f"mesocare: {Interrupted()}\n")
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass  # a closed pipe is not an error
    try:
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(int(code))
