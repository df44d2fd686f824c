"""``--format terminal``: the handout drawn with rich, for the desk screen (80 columns).

Rich is imported here only, so scripted runs (json, text) never pay for it. Every value is
wrapped in ``Text`` so that a name with [brackets] is never read as rich markup.
"""

from __future__ import annotations

from mesocare.model import Handout
from mesocare.render.view import context


def renderables(handout: Handout):
    from rich import box
    from rich.console import Group
    from rich.panel import Panel
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    c = context(handout)
    clinic = handout.clinic
    parts = []
    head = Text(clinic.name, style="bold cyan")
    if clinic.phone:
        head.append(f"\nPhone: {clinic.phone}", style="cyan")
    parts.append(head)
    who = Text()
    if c["patient"]:
        who.append("Instructions for ")
        who.append(c["patient"], style="bold")
        who.append("\n")
    who.append("Your appointment: ")
    who.append(c["appointment"], style="bold")
    who.append("\nArea: ")
    who.append(c["area"], style="bold")
    parts.append(who)
    parts.append(Text(""))
    for banner in c["banners"]:
        parts.append(Panel(Text(banner), title="Important", border_style="bold red", title_align="left"))
    for s in c["sections"]:
        parts.append(Text(""))
        parts.append(Rule(Text(s.title, style="bold"), align="left", style="cyan"))
        if s.items:
            table = Table(box=box.SIMPLE_HEAD, show_edge=False, expand=True, pad_edge=False, leading=1)
            table.add_column("When", style="bold", ratio=2)
            table.add_column("What to do", ratio=3)
            for i in s.items:
                what = Text(i.text)
                if i.origin == "clinic":
                    what.append(" (clinic rule)", style="dim")
                when = Text(i.when)
                if i.status == "passed":
                    when.append(" (passed)", style="dim")
                if i.late:
                    when.append(" (started before booking)", style="bold red")
                table.add_row(when, what)
            parts.append(table)
        for n in s.notes:
            parts.append(Text("• ") + Text(n.text))
        if s.closing:
            parts.append(Text(s.closing, style="bold"))
    parts.append(Text(""))
    parts.append(Rule(style="dim"))
    parts.append(Text(c["footer"], style="dim"))
    return Group(*parts)


def render(handout: Handout, width: int = 80, color: bool = True, **options) -> str:
    """The handout as terminal text (with colour codes when ``color``)."""
    from io import StringIO

    from rich.console import Console

    out = StringIO()
    console = Console(file=out, width=width, force_terminal=color, color_system="standard" if color else None, legacy_windows=False)
    console.print(renderables(handout))
    return out.getvalue()
