"""Where our shipped data lives: rule files, templates and JSON Schemas.

In a wheel, ``instructions/`` and ``templates/`` are copied into the package (see
pyproject.toml); in a checkout (or an editable install) they sit at the top of the repo.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder ``name`` inside the installed package, else beside it in a checkout."""
    for candidate in (PACKAGE / name, PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"mesocare's {name}/ folder is missing from this installation")


def instructions_dir() -> Path:
    return data_dir("instructions")


def templates_dir() -> Path:
    return data_dir("templates")


# The templates of what ``mesocare init`` writes (the clinic config, the folders' READMEs), in
# ``templates/init/``: not handout templates, so a clinic's folder cannot replace them.
INIT_TEMPLATES = "init"


def init_templates_dir() -> Path:
    return templates_dir() / INIT_TEMPLATES


def schema_path(name: str) -> Path:
    """A JSON Schema shipped in mesocare/schemas/ (handout.schema.json, rules.schema.json...)."""
    return PACKAGE / "schemas" / name
