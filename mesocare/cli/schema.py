"""`mesocare schema`: the JSON Schema of the JSON output (or of rule files)."""

from __future__ import annotations

from typing import Annotated

import typer


def schema(
    ctx: typer.Context,
    rules: Annotated[
        bool,
        typer.Option(
            "--rules", help="Print the rule-file schema instead of the handout JSON schema."
        ),
    ] = False,
):
    """Print the JSON Schema of the JSON output (or of rule files)."""
    if rules:
        print_rule_schema(ctx)
    else:
        from mesocare.resources import schema_path

        ctx.obj.stdout.write(schema_path("handout.schema.json").read_text(encoding="utf-8"))


def print_rule_schema(ctx: typer.Context) -> None:
    import json

    from mesocare.rule_schema import rule_file_json_schema

    ctx.obj.echo(json.dumps(rule_file_json_schema(), indent=2, ensure_ascii=False))
