"""Rules and notes as plain data, for `rules list` and `rules show` (JSON and text).

Pure: a Rule or Note in, a dict or a short phrase out.
"""

from __future__ import annotations


def rule_dict(rule) -> dict:
    return {
        "id": rule.id,
        "kind": "rule",
        "name": rule.name,
        "phase": rule.phase,
        "window": rule.window.as_dict(),
        "window_words": rule.window.describe(),
        "areas": list(rule.areas) if rule.areas is not None else None,
        "exclude_areas": list(rule.exclude_areas),
        "techniques": list(rule.techniques) if rule.techniques is not None else None,
        "prescription": rule.prescription,
        "text": rule.text,
        "text_us": rule.text_us,
        "resume": rule.resume,
        "asks": list(rule.asks),
        "forbids": list(rule.forbids),
        "reason": rule.reason,
        "source": rule.source,
        "basis": rule.basis,
        "reviewed_on": rule.reviewed_on.isoformat() if rule.reviewed_on else None,
        "reviewed_by": rule.reviewed_by,
        "origin": rule.origin,
        "file": rule.file,
        "line": rule.line,
    }


def note_dict(note) -> dict:
    return {
        "id": note.id,
        "kind": "note",
        "section": note.section,
        "areas": list(note.areas) if note.areas is not None else None,
        "techniques": list(note.techniques) if note.techniques is not None else None,
        "text": note.text,
        "text_us": note.text_us,
        "source": note.source,
        "reviewed_on": note.reviewed_on.isoformat() if note.reviewed_on else None,
        "reviewed_by": note.reviewed_by,
        "origin": note.origin,
        "file": note.file,
        "line": note.line,
    }


def ruleset_dict(ruleset) -> dict:
    return {
        "rules_version": ruleset.version,
        "reviewed_on": ruleset.reviewed_on.isoformat() if ruleset.reviewed_on else None,
        "disabled": list(ruleset.disabled),
        "rules": [rule_dict(r) for r in ruleset.rules],
        "notes": [note_dict(n) for n in ruleset.notes],
    }


def areas_words(rule) -> str:
    """ "face, neck; not body; needle; if prescribed medrol" (or "all")."""
    parts = [", ".join(rule.areas) if rule.areas is not None else "all"]
    if rule.exclude_areas:
        parts.append("not " + ", ".join(rule.exclude_areas))
    if rule.techniques is not None:
        parts.append(", ".join(rule.techniques))
    if rule.prescription:
        parts.append(f"if prescribed {rule.prescription}")
    return "; ".join(parts)


def find(ruleset, rule_id: str):
    """The rule or note with this id, else None."""
    wanted = rule_id.strip().lower()
    return ruleset.rule(wanted) or next((n for n in ruleset.notes if n.id == wanted), None)


def origin_word(item) -> str:
    return "clinic" if item.origin == "clinic" else "ours"


def reviewed_word(item) -> str:
    return item.reviewed_on.isoformat() if item.reviewed_on else "-"
