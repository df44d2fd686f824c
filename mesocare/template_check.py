"""``rules check``'s look at the clinic's templates folder: which of ours each replaces, and a
warning for a template that replaces none (a misspelt name is never used)."""

from __future__ import annotations

from pathlib import Path

from mesocare.findings import Finding
from mesocare.rules import display_name


def clinic_templates(clinic_dir: Path | None, ours: Path) -> tuple[list[Finding], list[str]]:
    """``rules check``: the clinic's templates folder, as the renderers will load it. One line
    per template that replaces ours; a warning for a ``.j2`` file that replaces none (a
    misspelt name is never used, and the clinic would not know)."""
    if clinic_dir is None or not clinic_dir.is_dir():
        return [], []
    from mesocare.resources import INIT_TEMPLATES

    names = {p.relative_to(ours).as_posix() for p in ours.rglob("*.j2")}
    names = {n for n in names if not n.startswith(f"{INIT_TEMPLATES}/")}  # mesocare init's own
    findings: list[Finding] = []
    loaded: list[str] = []
    for path in sorted(clinic_dir.rglob("*.j2")):
        name = path.relative_to(clinic_dir).as_posix()
        if name in names:
            loaded.append(f"{display_name(path)} replaces ours")
        else:
            findings.append(
                Finding(
                    "warning",
                    display_name(path),
                    None,
                    None,
                    "replaces none of our templates: it is used only if another "
                    "of the clinic's includes it (check its name: mesocare init "
                    "lists ours in the templates folder's README.md)",
                )
            )
    return findings, loaded
