"""`mesocare init`: start a clinic folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from mesocare.cli.options import DebugOpt, TzOpt


def init(
    ctx: typer.Context,
    folder: Annotated[
        Path, typer.Argument(help="The clinic's folder (made if missing; default: this folder).")
    ] = Path("."),
    name: Annotated[
        str | None, typer.Option("--name", help="The clinic's name, printed on handouts.")
    ] = None,
    phone: Annotated[
        str | None, typer.Option("--phone", help="The clinic's phone number, printed on handouts.")
    ] = None,
    _tz: TzOpt = None,
    _debug: DebugOpt = False,
):
    """Start a clinic folder: a commented mesocare.yaml, and folders for its rules and templates.

    Never overwrites a file: one that is already there is left alone and named. Without
    --tz the clinic's zone is this computer's.
    """
    from mesocare.config.clinic import CONFIG_NAME, machine_zone
    from mesocare.dates import zone
    from mesocare.model import writable
    from mesocare.parse import parse_zone
    from mesocare.scaffold import scaffold

    context = ctx.obj
    zone_name = parse_zone(context.tz, "--tz") if context.tz is not None else machine_zone()
    result = scaffold(
        folder,
        context.clock(zone(zone_name)).date(),
        name=writable(name.strip()) if name and name.strip() else None,
        phone=writable(phone.strip()) if phone and phone.strip() else None,
        timezone=zone_name,
    )
    for path in result.created:
        context.echo(f"created  {path}{os.sep if path.is_dir() else ''}")
    for path in result.skipped:
        context.echo(f"skipped  {path} (already there, left as it was)")
    config = folder / CONFIG_NAME
    context.echo("")
    context.echo(f"Next: edit {config}, add rules in {folder / 'rules'}, then run:")
    context.echo(f"  mesocare rules check --clinic {config}")
