"""Control characters out of every value a human format shows.

A name typed with an escape sequence (``ESC[31m``, ``ESC]0;title BEL``) or a bell must not
reach a terminal, a text file, a web page, a PDF or a calendar as it is: it could recolour or
rewrite the screen that shows it. ``printable`` drops terminal escape sequences whole and every
other C0 and C1 control character (U+0000-U+001F, U+007F-U+009F), keeping line ends (``\\n``)
where the format allows them and turning tabs, carriage returns and form feeds into spaces.
Everything else (accents, CJK, emoji, right-to-left text) is kept as typed.
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), other two-character ESC sequences;
# the 8-bit CSI (U+009B) and OSC (U+009D) forms too.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]"
)
_SPACES = {ord("\t"): " ", ord("\r"): " ", ord("\f"): " ", ord("\v"): " "}
_DROP = {c: None for c in [*range(0x20), *range(0x7F, 0xA0)] if c not in (0x0A, *_SPACES)}
_KEEP_LINES = {**_DROP, **_SPACES}
_ONE_LINE = {**_KEEP_LINES, 0x0A: " "}
_HAS_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def printable(text: str, newlines: bool = True) -> str:
    """``text`` without control characters; ``newlines=False`` also turns line ends into spaces."""
    if not _HAS_CONTROL.search(text) and (newlines or "\n" not in text):
        return text  # the common case: nothing to do
    return _ESCAPES.sub("", text.replace("\r\n", "\n")).translate(
        _KEEP_LINES if newlines else _ONE_LINE
    )


def printable_value(value):
    """For Jinja's ``finalize``: strings lose their control characters, other values pass."""
    if isinstance(value, str):
        cleaned = printable(value)
        if cleaned is value:
            return value
        # keep Markup (already escaped HTML) marked as such
        return (
            type(value)(cleaned)
            if type(value) is not str and hasattr(value, "__html__")
            else cleaned
        )
    return value
