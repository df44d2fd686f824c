"""HL7 v2 files to messages to fields: MLLP framing, line ends, batch segments, each message's
own encoding characters (MSH-1 and MSH-2) and escape sequences. What the fields mean is
hl7_reader's.

Each segment is split by hand, reading only the first segment of each kind asked for and only
the fields asked for. python-hl7 (``hl7.parse``) was measured and not used: it builds the whole
tree of every message, 0.5 to 2 ms a message (20,000 messages: 10 to 43 s, against 0.3 to 0.7 s
here, in one run of ``bench/hl7_split.py``), runs out of 1.5 GB on one 30 MB message of repeated
components (10 MB: 16 s, 900 MB), and logs a field's text (a patient's name) to stderr on an
unknown escape sequence. hl7apy, used before, took about 3 ms a message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mesocare.readers.common import MAX_CELL_CHARS

_BATCH = ("FHS", "BHS", "BTS", "FTS")


class Bad(Exception):
    """A field that stops a message from becoming an appointment."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass
class Message:
    """One message's segments (the first of each wanted kind, as text) and its encoding."""

    segments: dict[str, list[str]]  # the fields of each segment: [name, field 1, field 2...]
    encoding: dict[str, str]

    def field(self, segment: str, field: int) -> str:
        """A field's whole text ('' when absent); MSH counts MSH-1 as the field separator."""
        fields = self.segments.get(segment)
        if fields is None:
            return ""
        index = field - 1 if segment == "MSH" else field
        return fields[index] if 0 < index < len(fields) else ""

    def repetitions(self, segment: str, field: int) -> list[str]:
        text = self.field(segment, field)
        return text.split(self.encoding["REPETITION"]) if text else []

    def get(
        self, segment: str, field: int, component: int = 1, repetition: str | None = None
    ) -> str:
        """A component of a field's first repetition (or of ``repetition``), unescaped ('' when
        absent)."""
        if repetition is None:
            text = self.field(segment, field)
            if segment == "MSH" and field == 2:
                return text
            repetition = text.split(self.encoding["REPETITION"], 1)[0]
        parts = repetition.split(self.encoding["COMPONENT"], component)
        text = (
            parts[component - 1].split(self.encoding["SUBCOMPONENT"], 1)[0]
            if component <= len(parts)
            else ""
        )
        return self._unescape(text.strip()[:MAX_CELL_CHARS])

    def _unescape(self, text: str) -> str:
        """\\F\\ \\S\\ \\T\\ \\R\\ \\E\\ and \\Xhh..\\ (Latin-1 bytes) as characters; formatting
        sequences (\\H\\, \\N\\, \\.br\\, \\.sk5\\...) removed; any other text left as written."""
        enc = self.encoding
        if enc["ESCAPE"] not in text:
            return text
        table = {
            "F": enc["FIELD"],
            "S": enc["COMPONENT"],
            "T": enc["SUBCOMPONENT"],
            "R": enc["REPETITION"],
            "E": enc["ESCAPE"],
        }
        esc = re.escape(enc["ESCAPE"])

        def one(match: re.Match) -> str:
            code = match.group(1)
            if code[:1] == "X":
                return bytes.fromhex(code[1:]).decode("latin-1") if len(code) % 2 == 1 else ""
            return table.get(code, "")

        return re.sub(rf"{esc}([FSTREHN]|X[0-9A-Fa-f]*|\.[a-z]{{2}}[0-9+-]*){esc}", one, text)


def split_messages(text: str) -> tuple[list[list[str]], bool]:
    """The messages (lists of segment texts), and whether other text came before the first MSH.
    MLLP frames (<VT> message <FS><CR>) and batch headers and trailers are dropped."""
    text = text.replace("\x0b", "\r").replace("\x1c", "\r")
    messages: list[list[str]] = []
    stray = False
    for segment in (s.strip() for s in re.split(r"\r\n|\r|\n", text)):
        if segment[:3].upper() == "MSH":
            messages.append([segment])
        elif not segment or segment[:3].upper() in _BATCH:
            continue
        elif messages:
            messages[-1].append(segment)
        else:
            stray = True
    return messages, stray


def parse_message(segments: list[str], wanted: tuple[str, ...]) -> Message:
    """The message's encoding (from MSH-1 and MSH-2) and its first segment of each ``wanted``
    kind."""
    msh = segments[0]
    separator = msh[3:4]
    characters = msh[4:].split(separator, 1)[0] if separator else ""
    if not separator or separator.isalnum() or separator.isspace() or len(characters) < 4:
        raise Bad(
            "MSH",
            "the MSH segment cannot be read: MSH-1 and MSH-2 must give the encoding characters.",
        )
    component, repetition, escape, subcomponent = tuple(characters[:4])
    if len({separator, component, repetition, escape, subcomponent}) < 5 or any(
        c.isalnum() for c in characters[:4]
    ):
        raise Bad(
            "MSH",
            "the MSH segment cannot be read: MSH-1 and MSH-2 must give five different encoding "
            "characters.",
        )
    encoding = {
        "FIELD": separator,
        "COMPONENT": component,
        "REPETITION": repetition,
        "ESCAPE": escape,
        "SUBCOMPONENT": subcomponent,
    }
    found: dict[str, list[str]] = {}
    for text in segments:
        name = text[:3].upper()
        if name in wanted and name not in found:
            if text[3:4] not in (separator, ""):
                raise Bad(
                    name,
                    f"the {name} segment cannot be read: its fields are not separated by "
                    f"'{separator}'.",
                )
            found[name] = text.split(separator)
    return Message(found, encoding)
