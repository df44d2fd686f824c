"""The rules in force as one FHIR R4 PlanDefinition (``mesocare rules export --format fhir``).

One action per rule: its name and text (in the language asked for), its timing relative to
the treatment (an action of its own, ``treatment``; "10 days before" is a relatedAction
``before-start`` with offset 10 d), and its applicability as a condition (areas, techniques,
prescription). Versioned with the rule set's sha256, which the CarePlans cite.
"""

from __future__ import annotations

from typing import Any

from mesocare.ehr.ids import PLAN_URL, RULE_SYSTEM, RULESET_SYSTEM
from mesocare.model import Clinic
from mesocare.rules import Rule, RuleSet
from mesocare.vocab import Duration

TREATMENT = "treatment"
UCUM = "http://unitsofmeasure.org"
_UNITS = {"h": ("h", "hours"), "d": ("d", "days"), "w": ("wk", "weeks"), "m": ("mo", "months")}


def _offset(text: str | None) -> dict[str, Any]:
    if not text or text == "open":
        return {"value": 0, "unit": "days", "system": UCUM, "code": "d"}
    count, unit = Duration.parse(text)
    code, words = _UNITS[unit]
    return {"value": count, "unit": words, "system": UCUM, "code": code}


def _related(action: str, relationship: str, offset: str) -> dict[str, Any]:
    return {"actionId": action, "relationship": relationship, "offsetDuration": _offset(offset)}


def _timing(rule: Rule) -> list[dict[str, Any]]:
    w = rule.window
    if w.before:
        return [_related(TREATMENT, "before-start", w.before)]
    if w.on:
        return [{"actionId": TREATMENT, "relationship": "concurrent-with-start"}]
    if w.after:
        return [_related(TREATMENT, "after-end", w.after)]
    return [{"actionId": w.after_rule or TREATMENT, "relationship": "after-end"}]


def _quoted(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _applicability(rule: Rule) -> list[dict[str, Any]]:
    """FHIRPath over the variables %areas (the treated areas), %technique and %prescribed."""
    tests, words = [], []
    if rule.areas is not None:
        tests.append(f"%areas.intersect({{{_quoted(rule.areas)}}}).exists()")
        words.append(f"areas {', '.join(rule.areas)}")
    if rule.exclude_areas:
        tests.append(f"%areas.intersect({{{_quoted(rule.exclude_areas)}}}).empty()")
        words.append(f"not for {', '.join(rule.exclude_areas)}")
    if rule.techniques is not None:
        tests.append(f"%technique in {{{_quoted(rule.techniques)}}}")
        words.append(f"techniques {', '.join(rule.techniques)}")
    if rule.prescription is not None:
        tests.append(f"%prescribed contains '{rule.prescription}'")
        words.append(f"when {rule.prescription} is prescribed")
    if not tests:
        return []
    return [
        {
            "kind": "applicability",
            "expression": {
                "description": "; ".join(words),
                "language": "text/fhirpath",
                "expression": " and ".join(tests),
            },
        }
    ]


def _action(rule: Rule, units: str) -> dict[str, Any]:
    action: dict[str, Any] = {
        "id": rule.id,
        "title": rule.name,
        "description": rule.text_for(units),
        "textEquivalent": rule.window.describe(),
        "code": [{"coding": [{"system": RULE_SYSTEM, "code": rule.id}]}],
        "reason": [{"text": rule.reason}] if rule.reason else None,
        "documentation": [{"type": "citation", "citation": rule.source}] if rule.source else None,
        "condition": _applicability(rule) or None,
        "relatedAction": _timing(rule),
    }
    return {k: v for k, v in action.items() if v is not None}


def plan_definition(ruleset: RuleSet, clinic: Clinic, language: str) -> dict[str, Any]:
    """The PlanDefinition (a JSON-ready dict) of ``ruleset``, its texts in ``language``."""
    reviewed = ruleset.reviewed_on.isoformat() if ruleset.reviewed_on else None
    plan: dict[str, Any] = {
        "resourceType": "PlanDefinition",
        "id": f"mesocare-{ruleset.version[:12]}",
        "language": language,
        "url": PLAN_URL,
        "identifier": [{"system": RULESET_SYSTEM, "value": ruleset.version}],
        "version": ruleset.version,
        "name": "MesotherapyCare",
        "title": "Mesotherapy pre- and aftercare",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/plan-definition-type",
                    "code": "clinical-protocol",
                }
            ]
        },
        "status": "active",
        "date": reviewed,
        "publisher": clinic.name,
        "description": "The dated instructions a patient is given before and after mesotherapy.",
        "action": [
            {"id": TREATMENT, "title": "The treatment", "description": "The appointment itself."},
            *(_action(r, clinic.units) for r in ruleset.rules),
        ],
    }
    if clinic.reviewed_by:
        plan["reviewer"] = [{"name": clinic.reviewed_by}]
    return {k: v for k, v in plan.items() if v is not None}


def canonical(rules_version: str) -> str:
    """What a CarePlan's instantiatesCanonical holds: the PlanDefinition at this version."""
    return f"{PLAN_URL}|{rules_version}"
