"""Checks of a rule set, the library behind ``mesocare rules check``.

``check_rules(folders, today)`` reads every rule file of every folder (ours, then the
clinic's), overlays them as the handout does, and returns every problem found at once, each
a ``Finding`` with its file, line and field. It never raises for a bad rule file and never
prints; ``today`` is a parameter, so the result is the same on every machine and day.

What is checked, and how serious it is:

========================================================  =======  ========================
problem                                                   level    where from
========================================================  =======  ========================
bad YAML, unknown key, wrong type, unknown area/technique  error    the file's schema
duplicate id in a folder, ``disable`` of a missing id     error    ``rules.overlay``
``after_rule`` naming a missing rule, a rule with no      error    ``rules.overlay``
fixed end, or a loop of them
a window that is always empty (``after_rule: X`` with     error    this module
``until`` no later than the end of X)
a phase that contradicts the window (``phase: after``     error    this module
with ``before: 10d``)
an area both in ``areas`` and ``exclude_areas``, or an    error    this module
empty ``areas``/``techniques`` list (the rule never
applies)
our rule's ``source`` is not a file in ``sources/``       error    this module
a clinic rule's ``source`` is empty                        error    this module (and schema)
patient text above reading grade 8 (Flesch-Kincaid)       error    this module
a clinic's ``lang/`` text: a term its language's          error    ``lang.review``
glossary avoids, English left in it, or below that
language's reading target
no ``reviewed_on``, a review older than 24 months, a      warning  this module
review date after today, or no ``reviewed_by``
two rules that ask and forbid the same concept on the     error    ``conflicts`` (called
same handout, area and time                                        by ``rules check``)
========================================================  =======  ========================

Severity decisions. The issue lists a reading grade above 8 among the things ``rules check``
reports and names only old reviews as a warning, so a hard text is an error for every rule,
ours and the clinic's alike: the patient reads the clinic's text on the same page as ours.
``rules check`` is a sign-off gate; it does not stop ``prep`` from printing, so a clinic
that decides to keep a hard sentence (a product name can push a short sentence over 8) can
still print while its medical director decides. Missing or stale reviews are warnings: they
do not make the text wrong, but the director should see them.

Only the *effective* rules are checked for source, reading grade, review and window
contradictions: a rule of ours that the clinic replaced or disabled is not its concern.
Schema errors are reported for every file, used or not.

The reading grade is ``textstat``'s Flesch-Kincaid grade of the patient-facing text (both
the metric and the US variant; ``reason`` is not printed on handouts and is not graded).
``textstat`` counts English syllables with NLTK's CMU dictionary, which it downloads from
the internet on first use (and fails without a network); the locale is therefore given as
``en-US`` (a hyphen, not an underscore), which makes ``textstat`` count syllables with
pyphen's bundled en_US hyphenation dictionary. The check works offline and gives the same
score on every machine.

Our ``sources/`` folder (the documents every rule of ours cites) sits beside
``instructions/`` in a checkout and is not shipped in the wheel. The source check of our
rules runs when that folder is found (or given as ``sources_dir``); in an installed wheel it
is skipped, since our rules were checked before release.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TypeGuard

from mesocare.findings import Finding
from mesocare.rule_schema import RuleSpec, UnitText
from mesocare.rules import Placed, Window, display_name, overlay, rule_files
from mesocare.vocab import Duration

MAX_GRADE = 8.0
REVIEW_MONTHS = 24
GRADE_LOCALE = "en-US"  # pyphen's bundled dictionary: no download, see the module docstring


# Which window starts fit which phase. A "before" rule may run through the morning of the
# treatment day (on: treatment-day); an "after" rule may start on the treatment day only if
# it does not end when the appointment starts.
_PHASE_STARTS = {
    "before": ("before", "on"),
    "day": ("on", "before"),
    "after": ("after", "after_rule", "on"),
}


def reading_grade(text: str) -> float:
    """The Flesch-Kincaid grade of ``text`` (textstat, with pyphen's en_US syllables)."""
    from textstat.textstat import textstatistics

    stats = textstatistics()
    stats.set_lang(GRADE_LOCALE)
    return float(stats.flesch_kincaid_grade(text))


def default_sources_dir(folders: list[tuple[Path, str]]) -> Path | None:
    """``sources/`` beside our own rule folder, when it is there (a checkout, not a wheel)."""
    for folder, origin in folders:
        if origin == "mesocare":
            candidate = folder.parent / "sources"
            if candidate.is_dir():
                return candidate
    return None


def check_rules(
    folders: list[tuple[Path, str]],
    today: date,
    sources_dir: Path | None = None,
) -> list[Finding]:
    """Every problem of the rule set made of ``folders`` (in overlay order), errors and warnings.

    ``folders`` is a list of (folder, origin) pairs, origin "mesocare" for ours and "clinic"
    for the clinic's, as for ``rules.collect``. ``sources_dir`` is the folder our rules'
    ``source`` must name a file in; None looks for ``sources/`` beside our rule folder and
    skips that check when there is none.
    """
    if sources_dir is None:
        sources_dir = default_sources_dir(folders)
    findings: list[Finding] = []

    # 1. schema errors of every file (each field of each rule), and the errors between files
    # (duplicates, references), as the overlay finds them
    laid = overlay(folders)
    findings.extend(Finding("error", e.file, e.line, e.field, e.problem) for e in laid.errors)

    # 2. the effective rules and notes, with where each came from, for the checks below
    effective = list(laid.placed.values())
    rules = {e.spec.id: e for e in effective if e.kind == "rules"}
    for entry in effective:
        findings.extend(_check_source(entry, sources_dir))
        findings.extend(_check_grade(entry))
        findings.extend(_check_review(entry, today))
        if entry.kind == "rules":
            findings.extend(_check_window(entry, rules))
            findings.extend(_check_applies(entry))

    # 3. the clinic's own translations and corrections (lang/*.yaml): its language's glossary,
    # no English left, and that language's reading level, as ours are held to in the tests
    from mesocare.lang.review import overlay_findings

    for folder, origin in folders:
        if origin != "mesocare":
            findings.extend(overlay_findings(folder))

    order = {name: i for i, name in enumerate(_file_order(folders))}
    findings.sort(key=lambda f: (order.get(f.file, len(order)), f.file, f.line or 0))
    return _unique(findings)


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[Finding] = set()
    out = []
    for f in findings:
        if f not in seen:
            seen.add(f)
            out.append(f)
    return out


def _file_order(folders: list[tuple[Path, str]]) -> list[str]:
    out = []
    for folder, _origin in folders:
        out.append(str(folder))  # collect names a missing folder as given
        if folder.is_dir():
            out.extend(display_name(p) for p in rule_files(folder))
    return out


def _texts(entry: Placed) -> list[tuple[tuple, str]]:
    text = entry.spec.text
    if isinstance(text, UnitText):
        return [(("text", "metric"), text.metric), (("text", "us"), text.us)]
    return [(("text",), text)]


def _check_grade(entry: Placed) -> list[Finding]:
    out = []
    for path, text in _texts(entry):
        grade = reading_grade(text)
        if grade > MAX_GRADE:
            out.append(
                Finding(
                    "error",
                    entry.file,
                    entry.line(*path),
                    ".".join(path),
                    f"{_what(entry)}: the text reads at grade {grade:.1f} (Flesch-Kincaid); "
                    f"aim for {MAX_GRADE:g} or below: shorter sentences and shorter words",
                )
            )
    return out


def _check_source(entry: Placed, sources_dir: Path | None) -> list[Finding]:
    source = (entry.spec.source or "").strip()
    if not source:
        return [
            Finding(
                "error",
                entry.file,
                entry.line("source"),
                "source",
                f"{_what(entry)}: the source is empty: say where the instruction comes from",
            )
        ]
    if entry.origin != "mesocare" or sources_dir is None:
        return []
    if "/" in source or "\\" in source or not (sources_dir / source).is_file():
        return [
            Finding(
                "error",
                entry.file,
                entry.line("source"),
                "source",
                f"{_what(entry)}: the source '{source}' is not a file in {sources_dir.name}/",
            )
        ]
    return []


def _months_before(day: date, months: int) -> date:
    from dateutil.relativedelta import relativedelta

    return day - relativedelta(months=months)


def _check_review(entry: Placed, today: date) -> list[Finding]:
    spec = entry.spec
    what = _what(entry)
    if spec.reviewed_on is None:
        return [
            Finding(
                "warning",
                entry.file,
                entry.line(),
                "reviewed_on",
                f"{what}: has no review date: add reviewed_on and reviewed_by",
            )
        ]
    out = []
    line = entry.line("reviewed_on")
    if spec.reviewed_on > today:
        out.append(
            Finding(
                "warning",
                entry.file,
                line,
                "reviewed_on",
                f"{what}: the review date {spec.reviewed_on.isoformat()} is after today "
                f"({today.isoformat()})",
            )
        )
    elif spec.reviewed_on < _months_before(today, REVIEW_MONTHS):
        out.append(
            Finding(
                "warning",
                entry.file,
                line,
                "reviewed_on",
                f"{what}: last reviewed on {spec.reviewed_on.isoformat()}, "
                f"more than {REVIEW_MONTHS} months ago: review it again",
            )
        )
    if not (spec.reviewed_by or "").strip():
        out.append(
            Finding(
                "warning",
                entry.file,
                line,
                "reviewed_by",
                f"{what}: says when it was reviewed but not by whom: add reviewed_by",
            )
        )
    return out


def _start(window) -> str:
    return next(
        k for k in ("before", "on", "after", "after_rule") if getattr(window, k) is not None
    )


def _hours(duration: str) -> int:
    return Duration.parse(duration).hours


def _is_duration(text: str | None) -> TypeGuard[str]:
    return text is not None and Duration.matches(text)


def _fixed_end_hours(rule: RuleSpec) -> int | None:
    """Hours after the appointment at which a rule's window ends; None when not fixed or after
    it."""
    w = rule.window
    if w.after is not None and w.after != "open":
        return _hours(w.after)
    if w.after_rule is not None and _is_duration(w.until):
        return _hours(w.until)
    return None


def _check_window(entry: Placed, rules: dict[str, Placed]) -> list[Finding]:
    spec: RuleSpec = entry.spec
    w = spec.window
    start = _start(w)
    out = []
    if start not in _PHASE_STARTS[spec.phase] or (
        spec.phase == "after" and start == "on" and w.until == "appointment"
    ):
        out.append(
            Finding(
                "error",
                entry.file,
                entry.line("phase"),
                "phase",
                f"rule '{spec.id}': phase '{spec.phase}' contradicts its window "
                f"({Window(**w.model_dump()).describe()})",
            )
        )
    if start == "after_rule" and w.after_rule is not None and _is_duration(w.until):
        target = rules.get(w.after_rule)
        if target is not None:
            target_end = _fixed_end_hours(target.spec)
            if target_end is not None and _hours(w.until) <= target_end:
                out.append(
                    Finding(
                        "error",
                        entry.file,
                        entry.line("window", "until"),
                        "window.until",
                        f"rule '{spec.id}' starts when '{w.after_rule}' ends ({target_end} hours "
                        "after treatment) "
                        f"but ends {w.until} after treatment, no later: it would never show",
                    )
                )
    return out


def _check_applies(entry: Placed) -> list[Finding]:
    spec: RuleSpec = entry.spec
    out = []
    if spec.areas is not None and not spec.areas:
        out.append(
            Finding(
                "error",
                entry.file,
                entry.line("areas"),
                "areas",
                f"rule '{spec.id}': an empty areas list means it never applies: "
                "remove the key to mean every area",
            )
        )
    if spec.techniques is not None and not spec.techniques:
        out.append(
            Finding(
                "error",
                entry.file,
                entry.line("techniques"),
                "techniques",
                f"rule '{spec.id}': an empty techniques list means it never applies: "
                "remove the key to mean every technique",
            )
        )
    both = [a for a in (spec.areas or []) if a in spec.exclude_areas]
    if both:
        out.append(
            Finding(
                "error",
                entry.file,
                entry.line("exclude_areas"),
                "exclude_areas",
                f"rule '{spec.id}': {', '.join(both)} is both in areas and in exclude_areas",
            )
        )
    return out


def _what(entry: Placed) -> str:
    return f"{'rule' if entry.kind == 'rules' else 'note'} '{entry.spec.id}'"


def summary(findings: list[Finding]) -> tuple[int, int]:
    """(errors, warnings)."""
    errors = sum(1 for f in findings if f.severity == "error")
    return errors, len(findings) - errors
