"""Python values -> Typst values: how every value reaches a PDF template.

The PDF templates are rendered with a ``finalize`` that turns the result of every ``{{ ... }}``
into a Typst *value*: a quoted string literal (only ``\\`` and ``"`` and control characters
need escaping there), a number, ``true``/``false``, ``none``, an array or a dictionary. The
layout functions in ``style.typ.j2`` show strings as plain text, so a patient name, clinic name
or rule text is never read as Typst markup or code, whatever it contains, even when a template
forgets a filter. (The ``typst`` filter does the same explicitly and marks its result as
already escaped.) Strings lose their control characters first (``printable``): the PDF shows
what a person typed, not an escape sequence.
"""

from __future__ import annotations

import math
import re

from mesocare.errors import TemplateError
from mesocare.render.printable import printable


class TypstCode(str):
    """Typst source that is already safe to paste into a template (what the filter returns)."""

    __slots__ = ()


def _string_table() -> dict[int, str]:
    table = {
        ord("\\"): "\\\\",
        ord('"'): '\\"',
        ord("\n"): "\\n",
        ord("\r"): "\\r",
        ord("\t"): "\\t",
    }
    for code in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]:
        table.setdefault(code, f"\\u{{{code:x}}}")
    for code in range(0xD800, 0xE000):  # lone surrogates cannot be written as UTF-8
        table[code] = "\\u{fffd}"
    return table


_STRING_TABLE = _string_table()


def _escaped_class(codes) -> str:
    """A regular expression's character class of ``codes``, as ranges."""
    ranges: list[list[int]] = []
    for code in sorted(codes):
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "[" + "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges) + "]"


# a character that ``_STRING_TABLE`` changes (most strings have none: they are copied as they are)
_NEEDS_ESCAPE = re.compile(_escaped_class(_STRING_TABLE))


def typst_string(text: str) -> TypstCode:
    """A Typst string literal that shows ``text`` exactly:
    ``Ana "A" \\ B`` -> ``"Ana \\"A\\" \\\\ B"``."""
    text = str(text)
    if _NEEDS_ESCAPE.search(text) is None:
        return TypstCode('"' + text + '"')
    return TypstCode('"' + text.translate(_STRING_TABLE) + '"')


_NONE, _TRUE, _FALSE = TypstCode("none"), TypstCode("true"), TypstCode("false")


def typst_value(value) -> TypstCode:
    """Any value a template prints, as Typst code that evaluates to that value (never markup).

    str -> string literal, None -> none, bool -> true/false, int/float -> number,
    list/tuple -> array, dict -> dictionary. Other types (dates, datetimes, objects) are refused:
    format them first with a filter such as ``day``, ``moment`` or ``clock``.
    """
    kind = type(value)
    # the common case first: a string with nothing to escape, so nothing for ``printable`` to
    # drop either (every character it drops is one ``_NEEDS_ESCAPE`` finds), copied as it is
    if kind is str and _NEEDS_ESCAPE.search(value) is None:
        return TypstCode('"' + value + '"')
    if isinstance(value, TypstCode):
        return value
    if value is None:
        return _NONE
    if kind is bool:
        return _TRUE if value else _FALSE
    if isinstance(value, int):
        return TypstCode(str(int(value)))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TemplateError(
                f"a PDF template printed the number {value}, which Typst cannot hold."
            )
        return TypstCode(repr(value))
    if isinstance(value, str):
        return typst_string(printable(value))
    if isinstance(value, (list, tuple)):
        parts = [typst_value(v) for v in value]
        return TypstCode("(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")")
    if isinstance(value, dict):
        if not value:
            return TypstCode("(:)")
        return TypstCode(
            "("
            + ", ".join(f"{typst_string(str(k))}: {typst_value(v)}" for k, v in value.items())
            + ")"
        )
    _raise_if_undefined(value)
    raise TemplateError(
        f"a PDF template printed a {type(value).__name__} value; format it first "
        "(for example with the day, moment or clock filter)."
    )


def _raise_if_undefined(value) -> None:
    import jinja2

    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises UndefinedError, reported as a template error
