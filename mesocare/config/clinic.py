"""The clinic's config: an optional YAML file with its name, phone, zone, paper and units.

Its fields are validated by ``mesocare.config.schema``; the file is read by
``mesocare.yamlload`` (safe, with limits).

Looked up as ``--clinic FILE``, else ``$MESOCARE_CLINIC``, else ``./mesocare.yaml`` when
present; with none, built-in defaults work (a neutral name and the machine's zone). Paths in
the file (``rules_dir``, ``templates_dir``) are relative to the file's own folder.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from mesocare.errors import ConfigError, InputError, YamlError
from mesocare.model import Clinic
from mesocare.vocab import WEEKDAYS

CONFIG_NAME = "mesocare.yaml"
ENV_VAR = "MESOCARE_CLINIC"


def machine_zone() -> str:
    """The machine's IANA zone name (tzlocal), or UTC when it cannot be told."""
    try:
        from tzlocal import get_localzone_name

        name = get_localzone_name()
    except Exception:  # noqa: BLE001 (tzlocal raises several kinds on odd machines; UTC is safe)
        name = None
    return name or "UTC"


def find_config(option: str | None, environ: dict[str, str], cwd: Path) -> Path | None:
    """The config file to use: --clinic, else $MESOCARE_CLINIC, else ./mesocare.yaml if present."""
    if option:
        return Path(option)
    if environ.get(ENV_VAR):
        return Path(environ[ENV_VAR])
    local = cwd / CONFIG_NAME
    return local if local.is_file() else None


def load_clinic(path: Path | None, default_zone: str | None = None) -> Clinic:
    """Read a clinic config (or the defaults when ``path`` is None).

    The zone is the config's ``timezone``, else ``default_zone``, else this machine's (looked
    up only then).
    """
    from mesocare.parse import parse_zone

    if path is None:
        return Clinic(timezone=default_zone or machine_zone())
    name = str(path)
    from mesocare.yamlload import (
        field_name,
        line_for,
        load_yaml_with_lines,
        problem_words,
        read_text,
    )

    try:
        data, lines = load_yaml_with_lines(read_text(path, name), name)
    except FileNotFoundError:
        raise ConfigError(f"{name}: the clinic config file does not exist.") from None
    except OSError as e:
        raise ConfigError(
            f"{name}: the clinic config file cannot be read ({e.__class__.__name__})."
        ) from None
    except YamlError as e:
        raise ConfigError(f"{e}.") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{name}, line 1: the clinic config must be a mapping of settings such as name: "
            "and phone:."
        )
    from pydantic import ValidationError

    from mesocare.config.schema import ClinicSpec

    try:
        spec = ClinicSpec.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(err["loc"])
        line = line_for(lines, loc)
        raise ConfigError(
            f"{name}, line {line}, field '{field_name(loc)}': {problem_words(err)}."
        ) from None
    zone = default_zone
    if spec.timezone:
        try:
            zone = parse_zone(spec.timezone)
        except InputError as e:
            raise ConfigError(
                f"{name}, line {lines.get(('timezone',))}, field 'timezone': {e}"
            ) from None
    if zone is None:
        zone = machine_zone()
    language, languages, reviews = _languages(spec, lines, name)
    bad_address = spec.email.problem() if spec.email else None
    mail_problem = None
    if bad_address:  # only the commands that send mail stop on it; the value is never quoted
        line = lines.get(("email", bad_address)) or lines.get(("email",))
        mail_problem = (
            f"{name}, line {line}, field 'email.{bad_address}': "
            "this is not an email address such as"
            " desk@clinic.example, so no mail can be sent."
        )
    base = path.resolve().parent
    for key in ("rules_dir", "templates_dir"):
        folder = getattr(spec, key)
        if folder and not (base / folder).is_dir():
            raise ConfigError(
                f"{name}, line {lines.get((key,))}, field '{key}': "
                f"the folder '{folder}' does not exist "
                f"(paths are relative to the config file's folder)."
            )
    return Clinic(
        name=spec.name,
        phone=spec.phone,
        email=spec.email.address if spec.email and bad_address != "from" else None,
        timezone=zone,
        duration_minutes=spec.duration,
        paper=spec.paper,
        large_print=spec.print == "large",
        units=spec.units,
        rules_dir=str((base / spec.rules_dir).resolve()) if spec.rules_dir else None,
        templates_dir=str((base / spec.templates_dir).resolve()) if spec.templates_dir else None,
        closed_weekdays=tuple(WEEKDAYS.index(d) for d in spec.closed_weekdays),
        holidays_country=spec.holidays_country,
        holidays_subdiv=spec.holidays_subdiv,
        services={k: {"area": v.area, "technique": v.technique} for k, v in spec.services.items()},
        reviewed_by=spec.reviewed_by or None,
        language=language,
        languages=languages,
        reviews=reviews,
        country=spec.country,
        mail=spec.email.settings(base)
        if spec.email and spec.email.host and not bad_address
        else None,
        state_dir=str((base / spec.state_dir).resolve()) if spec.state_dir else None,
        mail_problem=mail_problem,
        ehr=spec.ehr.settings(base) if spec.ehr else None,
    )


def _languages(spec, lines: dict, name: str) -> tuple[str, tuple[str, ...], tuple]:
    """The config's language and languages, as canonical tags, and the clinicians' reviews of
    each language's text; a bad tag names its line."""
    from mesocare import lang
    from mesocare.lang import LanguageError

    def tag(value: str, where: tuple) -> str:
        try:
            return lang.get(value).tag
        except LanguageError as e:
            field = ".".join(str(p) for p in where)
            raise ConfigError(f"{name}, line {lines.get(where)}, field '{field}': {e}") from None

    language = tag(spec.language, ("language",)) if spec.language is not None else lang.DEFAULT_TAG
    if isinstance(spec.languages, dict):  # {fr: {reviewed_by: ..., reviewed_on: ...}, de: null}
        tags = {tag(k, ("languages", k)): v for k, v in spec.languages.items()}
        reviews = tuple(
            (t, v.reviewed_by, v.reviewed_on.isoformat()) for t, v in tags.items() if v is not None
        )
        return language, tuple(tags), reviews
    languages = tuple(dict.fromkeys(tag(v, ("languages", i)) for i, v in enumerate(spec.languages)))
    return language, languages, ()


def with_overrides(clinic: Clinic, **changes) -> Clinic:
    """The clinic with command-line overrides (--tz, --paper...) applied; None means keep."""
    return replace(clinic, **{k: v for k, v in changes.items() if v is not None})
