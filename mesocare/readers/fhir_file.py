"""A FHIR file as JSON, before any resource is read: its entries, its release, its validator's
words.

``resources`` parses a file (one resource, a Bundle, a JSON list, or ndjson) within the limits
(MAX_JSON_DEPTH) into (position, resource, search mode) entries; ``release`` tells an STU3 or
DSTU2 Appointment from an R4 one; ``validation_message`` and ``field_name`` put an error of
fhir.resources (pydantic) into our words, never quoting the value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mesocare.errors import InputError
from mesocare.readers.common import MAX_JSON_DEPTH

Entry = tuple[str, Any, str | None]  # (position, parsed resource, Bundle search mode)

BAD_JSON = object()  # stands for an ndjson line that is not JSON
TOO_DEEP = object()  # stands for an ndjson line nested too deeply

# Appointment fields that R4 does not have, by the older release that does
_STU3_ONLY = ("reason", "indication", "incomingReferral")
_DSTU2_ONLY = ("type",)


def _depth_ok(value) -> bool:
    """True when ``value`` nests no deeper than MAX_JSON_DEPTH (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return False
            children = node.values() if isinstance(node, dict) else node
            stack.extend(
                (child, depth + 1) for child in children if isinstance(child, (dict, list))
            )
    return True


def _number(text: str):
    """A JSON integer; one of more than 30 digits stays text (the entry's problem, not the
    file's)."""
    return int(text) if len(text) <= 30 else text


def _load(text: str):
    """Parsed JSON; RecursionError or a depth beyond the limit -> TOO_DEEP."""
    try:
        value = json.loads(text, parse_int=_number)
    except RecursionError:
        return TOO_DEEP
    return value if _depth_ok(value) else TOO_DEEP


def _too_deep() -> InputError:
    return InputError(
        f"the FHIR file is nested more than {MAX_JSON_DEPTH} levels deep: it is not a schedule."
    )


def _expand(value, position: str) -> list[Entry]:
    """(position, resource, search mode) of a parsed JSON value: a Bundle's entries, or the
    value."""
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        entries = value.get("entry") or []
        if not isinstance(entries, list):
            raise InputError("the FHIR Bundle's entry is not a list.")
        prefix = f"{position}, " if position else ""
        found = []
        for n, entry in enumerate(entries, start=1):
            search = entry.get("search") if isinstance(entry, dict) else None
            mode = search.get("mode") if isinstance(search, dict) else None
            resource = entry.get("resource") if isinstance(entry, dict) else None
            found.append((f"{prefix}entry {n}", resource, mode if isinstance(mode, str) else None))
        return found
    return [(position or "entry 1", value, None)]


def resources(text: str, ndjson: bool) -> list[Entry]:
    """Every resource of a FHIR file with its position and search mode: a Bundle's entries, a
    JSON list's items, the single resource, or ndjson lines (BAD_JSON or TOO_DEEP for a line
    that is not JSON or nests too deeply)."""
    if not ndjson:
        try:
            value = _load(text)
        except json.JSONDecodeError as err:
            lines = [line for line in text.splitlines() if line.strip()]
            if len(lines) < 2 or not _is_json_object(lines[0]):
                raise InputError(
                    f"the FHIR file is not valid JSON (line {err.lineno}, column {err.colno})."
                ) from None
        else:
            if value is TOO_DEEP:
                raise _too_deep()
            if isinstance(value, list):
                return [(f"entry {n}", item, None) for n, item in enumerate(value, start=1)]
            if not isinstance(value, dict) or "resourceType" not in value:
                raise InputError(
                    "the file is JSON but not a FHIR resource: it has no resourceType."
                )
            return _expand(value, "")
    found: list[Entry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = _load(line)
        except json.JSONDecodeError:
            found.append((f"line {number}", BAD_JSON, None))
            continue
        if value is TOO_DEEP:
            found.append((f"line {number}", TOO_DEEP, None))
        else:
            found.extend(_expand(value, f"line {number}"))
    return found


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(_load(line), dict)
    except json.JSONDecodeError:
        return False


# --------------------------------------------------------------------------- validation messages

_ERROR_WORDS = {
    "missing": "is missing",
    "extra_forbidden": "is not a field of an R4 Appointment",
    "list_type": "should be a list",
    "dict_type": "should be an object",
    "model_type": "should be an object",
    "model_attributes_type": "should be an object",
    "string_type": "should be text",
    "int_type": "should be a whole number",
    "int_parsing": "should be a whole number",
    "int_from_float": "should be a whole number",
    "bool_type": "should be true or false",
    "bool_parsing": "should be true or false",
    "float_type": "should be a number",
    "float_parsing": "should be a number",
    "decimal_parsing": "should be a number",
    "string_too_long": "is too long",
    "literal_error": "has a value FHIR R4 does not allow",
    "enum": "has a value FHIR R4 does not allow",
    "url_parsing": "is not a valid address",
}


def validation_message(error: Mapping[str, Any]) -> str:
    """One pydantic error of fhir.resources in our words (never quoting the value)."""
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    kind = message.split(" value string does not match spec regex")[0]
    if kind != message:
        if kind == "Instant":
            return (
                "not a FHIR instant: write date, time and UTC offset, "
                "for example 2024-06-10T10:00:00+01:00."
            )
        return f"not a valid FHIR {kind[:1].lower()}{kind[1:]} value."
    words = _ERROR_WORDS.get(str(error.get("type", "")))
    if words:
        return f"{words}."
    if "int" in str(error.get("type", "")) or "Integer" in message:
        return "should be a whole number of a sensible size."
    return "has a value of the wrong kind for FHIR R4."


def field_name(error: Mapping[str, Any]) -> str | None:
    parts = [str(p) for p in error.get("loc", ()) if not str(p).startswith("function-")]
    return ".".join(parts)[:80] or None


def release(raw: dict) -> str | None:
    """ "STU3" or "DSTU2" when an Appointment has fields that only that release has."""
    if any(key in raw for key in _STU3_ONLY) or isinstance(raw.get("serviceCategory"), dict):
        return "STU3"
    if any(key in raw for key in _DSTU2_ONLY):
        return "DSTU2"
    return None
