"""The typed context every command gets: the shared options, the streams, the clock.

Filled once per run: the app's callback makes it (streams, "is a terminal" read once, the
clock), and the shared options (options.py) store their values in it as they are parsed.
The clinic, the rule set and today are loaded from it on demand, once.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TextIO

from mesocare.errors import ClosedPipe

# C0 and C1 controls but line ends and tabs: a value quoted in a message (an option typed
# with an escape sequence) is shown as \x1b, never sent to the terminal as it is
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _shown(message: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", message)


def _now(zone: tzinfo) -> datetime:
    return datetime.now(zone)


@dataclass
class Context:
    stdout: TextIO
    stderr: TextIO
    is_tty: bool  # stdout is a terminal
    stderr_is_tty: bool
    clock: Callable[[tzinfo], datetime] = _now  # the only clock the CLI reads
    debug: bool = False
    clinic_file: str | None = None
    tz: str | None = None
    today_opt: str | None = None
    paper: str | None = None
    lang_opt: str | None = None
    large_print: bool = False  # --large-print (else the clinic config's print: setting)
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_process(cls) -> Context:
        return cls(sys.stdout, sys.stderr, _isatty(sys.stdout), _isatty(sys.stderr))

    # ---- printing
    def echo(self, text: str = "") -> None:
        """A line on stdout; a path with bytes that are not UTF-8 is shown as stderr shows
        it (\\xff), never a UnicodeEncodeError."""
        try:
            self.stdout.write(text + "\n")
        except UnicodeEncodeError:
            self.stdout.write(text.encode("utf-8", "backslashreplace").decode("utf-8") + "\n")

    def err(self, message: str) -> None:
        self.stderr.write(_shown(message.rstrip()) + "\n")
        self.stderr.flush()

    def warn(self, message: str) -> None:
        self.err(f"mesocare: warning: {message}")

    def console(self, **options):
        """A rich Console on stdout whose closed pipe ends the run quietly (rich's own exits 1)."""
        from rich.console import Console

        class _Console(Console):
            def on_broken_pipe(self) -> None:
                raise ClosedPipe()

        return _Console(file=self.stdout, **options)

    def stdout_bytes(self):
        self.stdout.flush()
        return self.stdout.buffer

    # ---- the clinic, today, the rules
    def clinic(self):
        """The clinic's config (--clinic, $MESOCARE_CLINIC, ./mesocare.yaml) with --tz, --paper,
        --large-print."""
        if "clinic" not in self._cache:
            from mesocare.config.clinic import find_config, load_clinic, with_overrides
            from mesocare.parse import parse_paper, parse_zone

            zone_name = parse_zone(self.tz, "--tz") if self.tz is not None else None
            path = find_config(self.clinic_file, dict(os.environ), Path.cwd())
            clinic = load_clinic(path, default_zone=zone_name)
            paper = parse_paper(self.paper, "--paper") if self.paper is not None else None
            self._cache["clinic"] = with_overrides(
                clinic,
                timezone=zone_name,
                paper=paper,
                language=_language(self.lang_opt),
                large_print=True if self.large_print else None,
            )
        return self._cache["clinic"]

    def use_clinic_file(self, path: str) -> None:
        self.clinic_file = path
        self._cache.pop("clinic", None)

    def today(self) -> date:
        """--today, else the current date in the clinic's zone."""
        from mesocare.parse import parse_date

        if self.today_opt:
            return parse_date(self.today_opt, "--today")
        from mesocare.dates import zone

        return self.clock(zone(self.clinic().timezone)).date()

    def rule_folders(self, clinic_rules: Path | None = None) -> list[tuple[Path, str]]:
        from mesocare.resources import instructions_dir

        folders = [(instructions_dir(), "mesocare")]
        if clinic_rules is None and self.clinic().rules_dir:
            clinic_rules = Path(self.clinic().rules_dir)
        if clinic_rules is not None:
            folders.append((clinic_rules, "clinic"))
        return folders

    def ruleset(self):
        from mesocare.rules import load_ruleset

        return load_ruleset(self.rule_folders())

    def warn_if_no_phone(self, clinic) -> None:
        """Once per run: a handout without a phone number tells the patient only "Call the
        clinic"."""
        if not clinic.phone and not self._cache.get("phone_warned"):
            self._cache["phone_warned"] = True
            self.warn(
                'the clinic has no phone number, so handouts say only "Call the clinic.":'
                " add one with mesocare init --phone, or phone: in the clinic config."
            )


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _language(value: str | None) -> str | None:
    """--lang as a canonical tag (fr -> fr-FR); an unknown language is one sentence, exit 1."""
    if value is None:
        return None
    from mesocare import lang

    return lang.get(value).tag
