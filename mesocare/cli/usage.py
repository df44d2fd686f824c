"""Click's usage errors, reworded so they never echo what was typed.

An unquoted name (``--name Zelda Quixote-Marsh``) leaves its second word as an extra argument,
and click's message quotes it; a word of a name that starts with ``-`` becomes an unknown
option (or, first, an unknown command), quoted too. Part of a patient's name must not reach
stderr (or a log), so these messages say what is wrong and how to quote a value instead; a
mistyped option or command gets click's suggestion, which names only our own.
"""

from __future__ import annotations

import re

import typer

_QUOTED = re.compile(r"'[^']*'")
QUOTE_HINT = 'a value with spaces, such as a name, needs quotes: --name "Ann Lee-Marsh"'


def reword(error) -> None:
    """Change ``error``'s message in place so that it quotes no value that was typed."""
    message = error.message
    if message.startswith("Got unexpected extra argument"):
        error.message = f"got extra arguments after the options: {QUOTE_HINT}."
    elif isinstance(getattr(error, "option_name", None), str):  # click's NoSuchOption
        # click adds its suggestions (our own options) after this message
        error.message = (
            f"an option that is not known (see --help); {QUOTE_HINT}, and a value "
            'that starts with - is written --name="-value".'
        )
    elif message.startswith("No such command"):
        close = re.search(r"Did you mean '([a-z-]+)'", message)
        hint = f" (did you mean {close.group(1)}?)" if close else ""
        error.message = f"no such command{hint}: see mesocare --help for the commands."
    elif isinstance(error, typer.BadParameter):
        error.message = _QUOTED.sub("the value", message)
