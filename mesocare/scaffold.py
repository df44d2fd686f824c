"""A new clinic folder, the library behind ``mesocare init``.

``scaffold(folder, today)`` writes, inside ``folder``:

- ``mesocare.yaml``: the clinic config, every setting with its default and a comment, the
  optional ones (closed weekdays, public holidays, service codes) commented out;
- ``rules/README.md``: how to add a rule, replace one of ours and disable one, with an
  example that is valid as written (the folder itself holds no rule file, so it changes
  nothing until the clinic adds one);
- ``templates/README.md``: which of our templates the clinic can override, by name.

Their text is in our ``templates/init/`` (Jinja, rendered as plain text); values that go into
the YAML are written as double-quoted scalars that load back as they were typed.

It never overwrites: a file that is already there is left alone and reported as skipped,
and a file is created only if absent (``open(..., "x")``), so a run racing another cannot
clobber it. Nothing is printed; the CLI reports the ``ScaffoldResult``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from mesocare.config.clinic import CONFIG_NAME
from mesocare.errors import ConfigError, OutputError

RULES_DIR = "rules"
TEMPLATES_DIR = "templates"


@dataclass
class ScaffoldResult:
    """What ``scaffold`` did: paths created (files and folders) and files left alone."""

    folder: Path
    created: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.folder / CONFIG_NAME


# Characters a YAML double-quoted scalar cannot hold as they are: C1 controls and DEL (PyYAML
# refuses them), and NEL, LS and PS (YAML folds them as line breaks). JSON escapes the rest.
_YAML_RAW = re.compile("[\x7f-\x9f\u2028\u2029\ufffe\uffff]")


def yaml_str(value: str) -> str:
    """A YAML double-quoted scalar that loads back as ``value``: a JSON string (valid YAML),
    with the few characters YAML reads otherwise written as ``\\uXXXX`` escapes."""
    quoted = json.dumps(value, ensure_ascii=False)
    return _YAML_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _render(template: str, **values) -> str:
    """One of our ``templates/init/`` files, filled in (text, not HTML: nothing is escaped but
    the values that go into YAML, by the ``yaml_str`` filter)."""
    import jinja2

    from mesocare.resources import init_templates_dir

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(init_templates_dir()),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["yaml_str"] = yaml_str
    return env.get_template(template).render(**values)


def config_text(
    name: str | None = None, phone: str | None = None, timezone: str | None = None
) -> str:
    """The commented clinic config. Lines ``#key: value`` are optional settings, off."""
    return _render(
        "mesocare.yaml.j2",
        name=name,
        phone=phone,
        timezone=timezone,
        config_name=CONFIG_NAME,
        rules_dir=RULES_DIR,
        templates_dir=TEMPLATES_DIR,
    )


def rules_readme(today: date) -> str:
    """rules/README.md: how a clinic adds, replaces and disables rules, with an example."""
    return _render("rules-README.md.j2", today=today.isoformat())


def templates_readme(names: list[str], ours: Path | None) -> str:
    """templates/README.md: the template names a clinic can override."""
    return _render("templates-README.md.j2", names=names, ours=ours)


def our_template_names() -> tuple[list[str], Path | None]:
    from mesocare.resources import templates_dir

    try:
        folder = templates_dir()
    except FileNotFoundError:
        return [], None
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix == ".j2"), folder


def scaffold(
    folder: Path,
    today: date,
    name: str | None = None,
    phone: str | None = None,
    timezone: str | None = None,
) -> ScaffoldResult:
    """Write a new clinic folder in ``folder`` (made if missing); never overwrite a file."""
    config = config_text(name, phone, timezone)
    _validate_config(config)
    result = ScaffoldResult(folder=folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: exists and is not a folder.")
    names, ours = our_template_names()
    plan: list[tuple[Path, str | None]] = [
        (folder, None),
        (folder / CONFIG_NAME, config),
        (folder / RULES_DIR, None),
        (folder / RULES_DIR / "README.md", rules_readme(today)),
        (folder / TEMPLATES_DIR, None),
        (folder / TEMPLATES_DIR / "README.md", templates_readme(names, ours)),
    ]
    for path, text in plan:
        if text is None:
            _make_folder(path, result)
        else:
            _write_new(path, text, result)
    return result


def _make_folder(path: Path, result: ScaffoldResult) -> None:
    if path.is_dir():
        return
    try:
        path.mkdir(parents=True)
    except FileExistsError:
        raise OutputError(f"{path}: exists and is not a folder.") from None
    except OSError as e:
        raise OutputError(f"{path}: cannot make the folder ({e.strerror}).") from None
    result.created.append(path)


def _write_new(path: Path, text: str, result: ScaffoldResult) -> None:
    try:
        with open(path, "x", encoding="utf-8", newline="\n") as f:
            f.write(text)
    except FileExistsError:
        result.skipped.append(path)
        return
    except OSError as e:
        raise OutputError(f"{path}: cannot be written ({e.strerror}).") from None
    result.created.append(path)


def _validate_config(text: str) -> None:
    """The config we are about to write must load (a name or phone could break the YAML)."""
    from pydantic import ValidationError

    from mesocare.config.schema import ClinicSpec
    from mesocare.errors import YamlError
    from mesocare.yamlload import load_yaml_with_lines

    try:
        data, _ = load_yaml_with_lines(text, CONFIG_NAME)
        ClinicSpec.model_validate(data)
    except (YamlError, ValidationError) as e:
        raise ConfigError(f"the clinic config to write would not load: {e}") from None
