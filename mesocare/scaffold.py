"""A new clinic folder, the library behind ``mesocare init``.

``scaffold(folder, today)`` writes, inside ``folder``:

- ``mesocare.yaml``: the clinic config, every setting with its default and a comment, the
  optional ones (closed weekdays, public holidays, service codes) commented out;
- ``rules/README.md``: how to add a rule, replace one of ours and disable one, with an
  example that is valid as written (the folder itself holds no rule file, so it changes
  nothing until the clinic adds one);
- ``templates/README.md``: which of our templates the clinic can override, by name.

It never overwrites: a file that is already there is left alone and reported as skipped,
and a file is created only if absent (``open(..., "x")``), so a run racing another cannot
clobber it. Nothing is printed; the CLI reports the ``ScaffoldResult``.
"""

from __future__ import annotations

import json
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


def _quoted(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def config_text(name: str | None = None, phone: str | None = None, timezone: str | None = None) -> str:
    """The commented clinic config. Lines ``#key: value`` are optional settings, off."""
    name_line = f"name: {_quoted(name)}" if name else 'name: "Your mesotherapy clinic"'
    phone_line = f"phone: {_quoted(phone)}" if phone else '#phone: "020 7946 0000"'
    zone_line = f"timezone: {_quoted(timezone)}" if timezone else "#timezone: Europe/London"
    return f"""\
# mesocare clinic config. Every setting is shown with its default.
# A line that starts with "#" is a comment; "#setting: value" is an optional setting that
# is off: remove the "#" to use it. Paths are relative to this file's folder.
# Check this folder after each change with:  mesocare rules check --clinic {CONFIG_NAME}

# The clinic's name and phone number, printed at the top of every handout and in the
# "call us" section.
{name_line}
{phone_line}

# The clinic's email address: calendar files (--format ics) name it as the organizer.
#email: desk@example.org
# To email handouts and reminders (mesocare send, mesocare remind), give the mail server
# with it instead (see "Email" in the README; the password goes in the environment
# variable MESOCARE_SMTP_PASSWORD, never in this file):
#email:
#  from: desk@example.org
#  host: smtp.example.org
#  username: desk@example.org

# Where mesocare keeps its log of the emails sent (default: this user's data folder).
#state_dir: state

# To put each handout into the clinic's record (mesocare push): the interface engine
# (HL7 v2 over MLLP, TLS unless security: none) or the FHIR server (https; its bearer token
# goes in the environment variable MESOCARE_FHIR_TOKEN, never in this file).
#ehr:
#  mllp:
#    host: engine.example.org
#    port: 2575
#  fhir:
#    base_url: https://fhir.example.org/r4

# The clinic's time zone (an IANA name). Every date and time on a handout is in this zone.
# Without it, mesocare uses this computer's zone; --tz overrides it for one command.
{zone_line}

# The usual length of an appointment, in minutes (--duration overrides it).
duration: 30

# Paper size for HTML and PDF handouts: A4 or Letter.
paper: A4

# Print size for HTML and PDF handouts: normal (12 pt text), or large (18 pt text, larger
# headings, for patients who see less well). --large-print asks for large print for one command.
print: normal

# Units on handouts: metric (litres) or us (fluid ounces, gallons).
units: metric

# The language of handouts and cover sheets: en-GB (default), en-US, fr, fr-CA, es, es-MX,
# it, pt, pt-BR, de. A patient's own language in a schedule wins for that patient's handout;
# --lang overrides it for one command.
#language: fr
# Every language the clinic hands out: mesocare rules check reports each rule or note of
# the clinic's without a text in one of them (see rules/lang/ in the README). As a mapping,
# each language may name the clinician who reads it and reviewed its handout text, and when;
# the footer of its handouts says so, and until then that the text is not yet reviewed.
#languages: [en, fr]
#languages: {{en-GB: {{reviewed_by: "Dr A. Example", reviewed_on: 2026-11-30}}, fr: null}}

# The clinic's country (ISO 3166 code: GB, FR, US...): every handout gives its emergency
# number beside the clinic's phone. Default: the holidays_country below, else none, and the
# handout says "the emergency number".
#country: GB

# The clinic's own rules: every *.yaml file in this folder is added to ours. A rule with a
# new id is added; a rule with one of our ids replaces ours; "disable: [id]" removes one.
# See {RULES_DIR}/README.md. List the rules in force with: mesocare rules list
rules_dir: {RULES_DIR}

# The clinician who signed off the rules in force (ours and this folder's). Until one does,
# every handout says the rules are "not yet reviewed by a clinician". Default: none.
#reviewed_by: "Dr A. Example, medical director"

# The clinic's own templates: a file here with the name of one of ours is used instead.
# See {TEMPLATES_DIR}/README.md.
templates_dir: {TEMPLATES_DIR}

# Days the clinic is closed: course sessions (mesocare plan, prep --sessions) that fall on
# them move to the next open day. By default no day is closed.
#closed_weekdays: [saturday, sunday]

# Public holidays from the "holidays" package: a country code (GB, US, FR...) and,
# optionally, a region (ENG, SCT, WLS, NIR for GB; a state for US). By default, none.
#holidays_country: GB
#holidays_subdiv: ENG

# Service codes in your booking system's schedules, mapped to the treated area(s) and the
# technique (needle, microneedling or needleless; default needle). Join areas with "+".
# Built-in codes such as MESO-FACE or MESO-NECK-MN work without this. Default: none.
#services:
#  FACE-REJUV: {{area: face}}
#  NECK-MN: {{area: neck, technique: microneedling}}
#  FACE-NECK: {{area: face+neck}}
#  HAIR: {{area: scalp, technique: needleless}}
"""


def rules_readme(today: date) -> str:
    """rules/README.md: how a clinic adds, replaces and disables rules, with an example."""
    return f"""\
# This clinic's rules

Every `*.yaml` file in this folder is laid over mesocare's own rules, in file-name order:

- a rule with a **new id** is added to the handouts;
- a rule with **one of our ids** replaces ours (see the ids with `mesocare rules list`, and
  one rule in full with `mesocare rules show showers`);
- `disable: [id, ...]` removes one of ours.

Handouts mark the clinic's rules "(clinic rule)", and their JSON lists them in
`clinic_rules` with `origin: "clinic"` on each item. Every handout's footer shows the rule-set
version (a hash of the rules in force), the rules' date and who signed them off (`reviewed_by`
in `mesocare.yaml`; until then "not yet reviewed by a clinician"), so you can tell which
version each patient was given.

Files other than `*.yaml` / `*.yml` (like this one) are ignored. An editor that reads JSON
Schema can check a file as you type: `mesocare rules schema > rules.schema.json`.

After every change, run this in the clinic's folder (the one with `mesocare.yaml`):

    mesocare rules check --clinic mesocare.yaml

It reports every problem at once, each with its file, line and field: YAML and schema errors,
duplicate ids, references to missing rules, windows that contradict each other, unknown areas
or techniques, a missing `source`, text above reading grade 8 (errors, exit 1) and reviews
older than 24 months (warnings).

## Example

Save this as, say, `our-protocol.yaml` and change it to your own protocol:

```yaml
rules:
  # A new id: added to every handout that matches its areas.
  - id: aftercare-serum
    name: aftercare serum
    phase: after
    window: {{after: 1w}}
    areas: [face]
    text: Put the serum we gave you on your face each night.
    reason: Our protocol for face treatments.
    source: Our face protocol, version 3, signed off by our medical director
    basis: product-label
    reviewed_on: {today.isoformat()}
    reviewed_by: Dr A. Example, medical director

  # One of our ids: replaces our rule of the same id.
  - id: intense-exercise
    name: hard exercise
    phase: after
    window: {{after: 24h}}
    text: Do not do hard exercise.
    reason: Our protocol allows exercise again after one day.
    source: Our aftercare protocol, version 3
    basis: clinic-policy
    reviewed_on: {today.isoformat()}
    reviewed_by: Dr A. Example, medical director

# Our ids to remove: this clinic lets patients shower straight away.
disable: [showers]
```

## The fields

- `id`: lower case letters, digits and dashes. Ours are a public interface: keep them.
- `name`: a short noun phrase, used in banners ("hard exercise").
- `phase`: `before`, `day` or `after` (the handout section).
- `window`, one start and at most one end:
  - `{{before: 10d}}` or `{{before: 24h}}`: from that long before the appointment until it starts;
  - `{{on: treatment-day}}`, optionally with `until: appointment`;
  - `{{after: 48h}}`, `{{after: 2w}}` or `{{after: open}}`;
  - `{{after_rule: no-sunbathing, until: 2w}}` (or `until: course-end` / `until: open`):
    from the end of another rule's window.
- `areas` (default: every area) and `exclude_areas`: `face`, `neck`, `body`, `hands`, `scalp`.
- `techniques` (default: all): `needle`, `microneedling`, `needleless`.
- `prescription`: `medrol` or `lasix`: shown only when the clinician prescribed it.
- `text`: what the patient reads (aim for reading grade 8 or below); or
  `text: {{metric: ..., us: ...}}` when units matter.
- `resume`: for a step that ends, what the patient may do again then ("You can take
  showers again."): the calendar's reminder at the end says it.
- `asks` and `forbids`: what the step asks the patient to do or use, and what it asks them
  to avoid, from a fixed list: `topical-on-area`, `sunscreen`, `herbal-supplements`,
  `vitamin-e`, `aspirin`, `nsaids`, `painkillers`, `caffeine`, `stimulants`, `medrol`,
  `lasix`, `washing-area`, `food`, `drinking-water`, `shower-bath`, `hot-tub-sauna`,
  `exercise`, `sun`, `loose-clothing`. `mesocare rules check` reports two rules that would
  ask and forbid the same thing on one handout, for one area, at the same time.
- `reason`: one line: why.
- `source`: where the instruction comes from (your protocol, a product leaflet...).
- `basis`: `clinic-policy`, `evidence` or `product-label`.
- `reviewed_on` (YYYY-MM-DD) and `reviewed_by`: who signed it off, and when.

Notes (undated paragraphs) go in a `notes:` list with `id`, `section` (`expect`, `after`,
`talk-first`, `call-us`, `caution`), `text`, `source`, and optionally `areas`,
`techniques`, `reviewed_on`, `reviewed_by`.
"""


def templates_readme(names: list[str], ours: Path | None) -> str:
    """templates/README.md: the template names a clinic can override."""
    listed = "\n".join(f"- `{n}`" + (" (a part included by the others)" if n.startswith("_") else "") for n in names)
    where = f"\nOurs are in `{ours}`: copy one here as a starting point.\n" if ours else ""
    return f"""\
# This clinic's templates

A file in this folder with the name of one of mesocare's templates is used instead of ours;
the others stay ours. The templates are Jinja2; a template that names a value that does not
exist fails with an error instead of printing a blank.

The names you can override:

{listed}
{where}
Files with other names (like this one) are ignored unless one of your templates includes
them.
"""


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
