"""One error boundary: every error a user can cause is a MesocareError with an exit code.

The CLI catches MesocareError, prints ``str(error)`` (one sentence) to stderr and exits with
``error.exit_code``. Messages never contain patient names or details.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    BAD_INPUT = 1  # bad date, area, schedule, rule file or config: nothing written
    USAGE = 2  # command-line usage (unknown option, missing argument)
    SKIPPED_ROWS = 3  # a batch finished but skipped rows, each named in the summary
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


class MesocareError(Exception):
    """Base class: an error to show the user as one sentence."""

    exit_code: int = ExitCode.BAD_INPUT


class UsageError(MesocareError):
    """A bad setting of how mesocare is run (an environment variable): exit 2, like an option."""

    exit_code = ExitCode.USAGE


class InputError(MesocareError):
    """A bad value on the command line or in a schedule (date, time, area, zone...)."""


class ConfigError(MesocareError):
    """The clinic config cannot be read or has a bad field."""


class FileError(MesocareError):
    """A problem at a place in a file: ``file, line N, field 'x': problem``."""

    def __init__(self, file: str, line: int | None, field: str | None, problem: str):
        self.file, self.line, self.field, self.problem = file, line, field, problem
        where = file if line is None else f"{file}, line {line}"
        what = f", field '{field}'" if field else ""
        super().__init__(f"{where}{what}: {problem}")


class YamlError(FileError):
    """A YAML file is not valid YAML or goes past a limit (size, nesting, aliases)."""


class RuleFileError(FileError):
    """A rule file is broken: bad YAML, unknown key, wrong type, missing reference..."""


class TemplateError(MesocareError):
    """A template cannot be found or fails to render."""


class PastAppointmentError(InputError):
    """The appointment is before today and --strict was given."""


class OutputError(MesocareError):
    """The output file cannot be written."""


class FolderError(OutputError):
    """The folder takes no file at all (it cannot be written in), whatever the file's name."""


class Interrupted(MesocareError):
    """Ctrl-C (SIGINT): stopped; every file written so far is whole."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self):
        super().__init__("interrupted; no file was left half-written.")


class ClosedPipe(MesocareError):
    """The reader of stdout went away (``mesocare ... | head``): stop quietly, as cat does."""

    exit_code = ExitCode.OK
