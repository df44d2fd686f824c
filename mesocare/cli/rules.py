"""`mesocare rules check|list|show|schema`: the rules in force."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mesocare.cli.context import Context
from mesocare.cli.options import (
    ClinicOpt,
    DebugOpt,
    FormatOpt,
    LangOpt,
    TodayOpt,
    TzOpt,
    pick_text_or_json,
)
from mesocare.cli.plan import count
from mesocare.cli.schema import print_rule_schema
from mesocare.errors import ExitCode, InputError

rules_app = typer.Typer(
    help="The rules in force: check them, list them, show one, print the rule-file schema.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@rules_app.command("check")
def rules_check(
    ctx: typer.Context,
    folder: Annotated[
        Path | None,
        typer.Argument(
            help=(
                "The clinic's rule folder, or a clinic folder with its mesocare.yaml "
                "(default: the config's rules_dir)."
            )
        ),
    ] = None,
    fmt: FormatOpt = None,
    _clinic: ClinicOpt = None,
    _tz: TzOpt = None,
    _today: TodayOpt = None,
    _debug: DebugOpt = False,
):
    """Check our rules and the clinic's together; report every problem at once.

    Errors (exit 1): schema errors, duplicate ids, references to missing rules, windows that
    contradict each other, unknown areas or techniques, a missing source, text above reading
    grade 8, a rule or note without its text in one of the config's languages (languages:),
    and in the clinic's own translations (lang/*.yaml) a term that language's glossary avoids,
    English left in, or a text below that language's reading target.
    Errors also: two rules on the same handout, area and time of which one asks for what the
    other forbids (asks: and forbids:). Warnings (printed, exit 0): reviews missing or older
    than 24 months. Then the languages whose text no clinician who reads it has reviewed yet
    (languages: in the clinic config). Formats: text or json.
    """
    import json

    from mesocare.checks import check_rules, summary
    from mesocare.config.clinic import CONFIG_NAME
    from mesocare.rules import collect

    context: Context = ctx.obj
    fmt = pick_text_or_json(fmt)
    clinic_rules = folder
    if (
        folder is not None
        and folder.is_dir()
        and (folder / CONFIG_NAME).is_file()
        and context.clinic_file is None
    ):
        context.use_clinic_file(str(folder / CONFIG_NAME))  # a clinic folder made by init
        clinic_rules = None
    folders = context.rule_folders(clinic_rules)
    findings = check_rules(folders, context.today())
    errors, _ = summary(findings)
    ruleset, _ = collect(folders) if not errors else (None, [])
    clinic = context.clinic()
    tags = (
        tuple(dict.fromkeys((*clinic.languages, clinic.language)))
        if clinic.languages
        else (clinic.language,)
    )
    loaded: list[str] = []
    if ruleset is not None:
        from mesocare.conflicts import conflict_findings
        from mesocare.lang.localize import clinic_translations, translation_findings

        findings += conflict_findings(ruleset)
        findings += translation_findings(ruleset, folders, tags)
        clinic_findings, loaded = clinic_translations(ruleset, folders)
        findings += clinic_findings
    from mesocare.resources import templates_dir
    from mesocare.template_check import clinic_templates

    template_findings, templates = clinic_templates(
        Path(clinic.templates_dir) if clinic.templates_dir else None, templates_dir()
    )
    findings += template_findings
    errors, warnings = summary(findings)
    if errors:
        ruleset = None
    code = ExitCode.BAD_INPUT if errors else ExitCode.OK
    if fmt == "json":
        context.echo(
            json.dumps(
                {
                    "ok": errors == 0,
                    "errors": errors,
                    "warnings": warnings,
                    "folders": [str(f) for f, _ in folders],
                    "rules_version": ruleset.version if ruleset else None,
                    "clinic_translations": loaded,
                    "clinic_templates": templates,
                    "findings": [f.as_dict() for f in findings],
                    "unreviewed_languages": list(unreviewed(clinic, tags)),
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        raise typer.Exit(int(code))
    for finding in findings:
        context.echo(str(finding))
    if ruleset is None:
        checked = " and ".join(str(f) for f, _ in folders)
        context.echo(f"{count(errors, 'error')}, {count(warnings, 'warning')} in {checked}.")
        raise typer.Exit(int(code))
    context.echo(
        f"OK: {count(len(ruleset.rules), 'rule')} and {count(len(ruleset.notes), 'note')} in force"
        f" ({len(ruleset.clinic_rules)} of the clinic's), {count(warnings, 'warning')}."
    )
    context.echo(f"Rule set {ruleset.version[:12]}, {_reviewed(ruleset, context.clinic())}.")
    for line in loaded:
        context.echo(f"Clinic translation {line}.")
    for line in templates:
        context.echo(f"Clinic template {line}.")
    waiting = unreviewed(clinic, tags)
    if waiting:
        context.echo(
            f"Not yet reviewed by a clinician who reads the language: {', '.join(waiting)} "
            "(record a review under languages: in the clinic config; the handout footer says it)."
        )


def unreviewed(clinic, tags: tuple[str, ...]) -> tuple[str, ...]:
    """The clinic's languages whose handout text no clinician who reads it has reviewed
    (English included: it is the source, and signed off the same way)."""
    return tuple(tag for tag in tags if clinic.review(tag) is None)


@rules_app.command("list")
def rules_list(
    ctx: typer.Context,
    fmt: FormatOpt = None,
    _clinic: ClinicOpt = None,
    _lang: LangOpt = None,
    _debug: DebugOpt = False,
):
    """List the rules and notes in force (ours, with the clinic's laid over them), in the
    clinic's language or --lang's. Formats: text or json."""
    import json

    from mesocare import lang
    from mesocare.lang.localize import localized_ruleset, localizer
    from mesocare.rule_info import ruleset_dict

    context: Context = ctx.obj
    fmt = pick_text_or_json(fmt)
    folders = tuple((str(f), origin) for f, origin in context.rule_folders())
    language = lang.clinic_language(context.clinic())  # the config's, or --lang's
    ruleset = localized_ruleset(context.ruleset(), localizer(language, folders))
    if fmt == "json":
        context.echo(json.dumps(ruleset_dict(ruleset), indent=2, ensure_ascii=False))
        return
    from mesocare.cli.rules_table import print_tables

    print_tables(context, ruleset)
    context.echo(f"Rule set {ruleset.version[:12]}, {_reviewed(ruleset, context.clinic())}.")
    if ruleset.disabled:
        context.echo(f"Disabled by the clinic: {', '.join(ruleset.disabled)}.")


@rules_app.command("show")
def rules_show(
    ctx: typer.Context,
    rule_id: Annotated[str, typer.Argument(metavar="ID", help="A rule or note id, e.g. showers.")],
    fmt: FormatOpt = None,
    _clinic: ClinicOpt = None,
    _debug: DebugOpt = False,
):
    """Show one rule (or note) in full: window, areas, text, source, review, and where it is."""
    import difflib
    import json

    from mesocare.rule_info import find, note_dict, rule_dict

    context: Context = ctx.obj
    fmt = pick_text_or_json(fmt)
    ruleset = context.ruleset()
    item = find(ruleset, rule_id)
    if item is None:
        wanted = rule_id.strip().lower()
        close = difflib.get_close_matches(
            wanted, [r.id for r in ruleset.rules] + [n.id for n in ruleset.notes], n=3
        )
        hint = (
            f" Did you mean {' or '.join(close)}?"
            if close
            else " See them all with: mesocare rules list"
        )
        gone = " It is disabled by the clinic's rules." if wanted in ruleset.disabled else ""
        raise InputError(f"no rule or note has the id '{rule_id[:40]}'.{gone}{hint}")
    data = rule_dict(item) if ruleset.rule(item.id) is item else note_dict(item)
    if fmt == "json":
        context.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    labels = {
        "window_words": "window",
        "exclude_areas": "not for areas",
        "text_us": "text (US units)",
        "reviewed_on": "reviewed on",
        "reviewed_by": "reviewed by",
        "origin": "from",
    }
    for key, value in data.items():
        if key in ("window", "kind", "file", "line"):
            continue
        if value is None or value == []:
            if key in ("areas", "techniques"):
                value = "all"
            elif key in ("reviewed_on", "reviewed_by"):
                value = "-"
            else:
                continue
        if isinstance(value, list):
            value = ", ".join(value)
        context.echo(f"{labels.get(key) or key}: {value}")
    context.echo(f"file: {data['file']}, line {data['line']}")


@rules_app.command("export")
def rules_export(
    ctx: typer.Context,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="fhir: one FHIR R4 PlanDefinition (JSON).")
    ] = None,
    out: Annotated[
        str | None,
        typer.Option("--out", "-o", help="Write to this file (whole or not at all); - is stdout."),
    ] = None,
    _clinic: ClinicOpt = None,
    _lang: LangOpt = None,
    _debug: DebugOpt = False,
):
    """Export the rules in force (ours with the clinic's) for another system: --format fhir
    gives one FHIR R4 PlanDefinition, an action per rule with its text (in the clinic's language
    or --lang's), its timing from the treatment and where it applies, versioned with the rule
    set's hash (the version the handouts' CarePlans cite)."""
    import json

    from mesocare import lang, output
    from mesocare.ehr.plan_definition import plan_definition
    from mesocare.lang.localize import localized_ruleset, localizer

    if (fmt or "fhir").strip().lower() != "fhir":
        raise InputError(f"--format '{fmt}' is not known: rules export writes fhir.")
    context: Context = ctx.obj
    clinic = context.clinic()
    language = lang.clinic_language(clinic)
    folders = tuple((str(f), origin) for f, origin in context.rule_folders())
    ruleset = localized_ruleset(context.ruleset(), localizer(language, folders))
    plan = plan_definition(ruleset, clinic, language.tag)
    text = json.dumps(plan, indent=2, ensure_ascii=False) + "\n"
    output.write(text, out or "-", context.stdout_bytes())


@rules_app.command("schema")
def rules_schema(ctx: typer.Context):
    """Print the JSON Schema of rule files (for editors that check YAML as you type)."""
    print_rule_schema(ctx)


def _reviewed(ruleset, clinic) -> str:
    """The rules' date and who signed them off, as the handout's footer says it: the rules'
    own review dates are the content team's, not a clinical review."""
    dated = f"dated {ruleset.reviewed_on.isoformat()}" if ruleset.reviewed_on else "undated"
    signed = (
        f"reviewed by {clinic.reviewed_by}"
        if clinic.reviewed_by
        else "not yet reviewed by a clinician"
    )
    return f"{dated}; {signed}"
