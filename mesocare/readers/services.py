"""Service codes -> (areas, technique): the one place schedules' service codes are mapped.

A clinic maps its own codes in its config (``services: {CODE: {area: ..., technique: ...}}``);
those are checked first, then DEFAULT_SERVICES:

=================  ==============  ==============
code               area(s)         technique
=================  ==============  ==============
face, neck, ...    that area       needle
MESO-<AREA>        that area       needle
MESO-<AREA>-MN     that area       microneedling
MESO-<AREA>-NL     that area       needleless
MESO-FACE-NECK     face + neck     needle
=================  ==============  ==============

where <AREA> is FACE, NECK, BODY, HANDS or SCALP. Codes match case-insensitively, with
surrounding spaces ignored; a display text that equals an area name ("Face") matches too.
An ``area`` value may name several areas ("face+neck").
"""

from __future__ import annotations

import re

from mesocare.model import AREAS, Clinic
from mesocare.parse import parse_areas, parse_technique

_SUFFIXES = {"": "needle", "-MN": "microneedling", "-NL": "needleless"}

DEFAULT_SERVICES: dict[str, dict[str, str]] = {
    **{area: {"area": area, "technique": "needle"} for area in AREAS},
    **{
        f"MESO-{area.upper()}{suffix}": {"area": area, "technique": technique}
        for area in AREAS
        for suffix, technique in _SUFFIXES.items()
    },
    "MESO-FACE-NECK": {"area": "face+neck", "technique": "needle"},
}

_CODE_LIKE = re.compile(r"^[A-Za-z0-9._:/-]{1,32}$")


def _lookup(text: str, services: dict[str, dict[str, str]]) -> dict[str, str] | None:
    key = text.strip().casefold()
    for code, entry in services.items():
        if code.strip().casefold() == key:
            return entry
    return None


def resolve_service(texts: list[str], clinic: Clinic) -> tuple[tuple[str, ...], str] | None:
    """The areas and technique of the first text (code or display) that names a service.

    The clinic's own map wins over the defaults. None when no text matches. Raises
    InputError when the matching map entry itself names an unknown area or technique.
    """
    for services in (clinic.services, DEFAULT_SERVICES):
        for text in texts:
            if not text or not text.strip():
                continue
            entry = _lookup(text, services)
            if entry is not None:
                areas = parse_areas([str(entry.get("area", ""))], field=f"service {text.strip()}")
                return areas, parse_technique(
                    entry.get("technique"), field=f"service {text.strip()}"
                )
    return None


def resolve_each(texts: list[str], clinic: Clinic) -> tuple[tuple[str, ...], str] | None:
    """Resolve every text on its own and merge: the areas of all that match, in order.

    For labels that each name one service (iCalendar CATEGORIES, words of a SUMMARY). The
    technique is the first one other than plain needle, else needle.
    """
    areas: list[str] = []
    techniques: list[str] = []
    for text in texts:
        found = resolve_service([text], clinic)
        if found is None:
            continue
        areas.extend(a for a in found[0] if a not in areas)
        techniques.append(found[1])
    if not areas:
        return None
    return tuple(areas), next((t for t in techniques if t != "needle"), "needle")


def unknown_service(codes: list[str]) -> str:
    """The problem sentence for codes that match no service. Quotes the first that looks like
    a code (free text may hold a patient's name), whatever comes before it."""
    code = next((c.strip() for c in codes if c and _CODE_LIKE.match(c.strip())), "")
    if code:
        return f"service code '{code}' is not in the clinic's service map or the default one."
    return "the service is not in the clinic's service map or the default one."
