"""``--format terminal``: the handout drawn with rich, for the desk screen (80 columns).

Rich is imported here only, so scripted runs (json, text) never pay for it. Every value is
wrapped in ``Text`` so that a name with [brackets] is never read as rich markup, and loses its
control characters first (``printable``), so a name typed with an escape sequence cannot
recolour or rewrite the screen. Bullet lines that wrap are indented under their first word.
"""

from __future__ import annotations

from mesocare.model import TECHNIQUE_WORDS, Handout
from mesocare.render.printable import printable
from mesocare.render.view import context


def _text(value: str, style: str = ""):
    from rich.text import Text

    return Text(printable(value), style=style)


def _bullet(text: str):
    """"• text", with every wrapped line indented under the text."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(width=1, no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row("•", _text(text))
    return grid


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
    head = _text(clinic.name, style="bold cyan")
    if clinic.phone:
        head.append(printable(f"\nPhone: {clinic.phone}"), style="cyan")
    parts.append(head)
    who = Text()
    if c["patient"]:
        who.append("Instructions for ")
        who.append(printable(c["patient"], newlines=False), style="bold")
        who.append("\n")
    who.append("Your appointment: ")
    who.append(c["appointment"], style="bold")
    who.append("\nArea: ")
    who.append(c["area"], style="bold")
    who.append(f" ({TECHNIQUE_WORDS.get(handout.technique, handout.technique)})")
    parts.append(who)
    parts.append(Text(""))
    for banner in c["banners"]:
        parts.append(Panel(_text(banner), title="Important", border_style="bold red", title_align="left"))
    for s in c["sections"]:
        parts.append(Text(""))
        parts.append(Rule(_text(s.title, style="bold"), align="left", style="cyan"))
        if s.items:
            table = Table(box=box.SIMPLE_HEAD, show_edge=False, expand=True, pad_edge=False, leading=1)
            table.add_column("When", style="bold", ratio=2)
            table.add_column("What to do", ratio=3)
            for i in s.items:
                what = _text(i.text)
                if i.origin == "clinic":
                    what.append(" (clinic rule)", style="dim")
                when = _text(i.when)
                if i.status == "passed":
                    when.append(" (passed)", style="dim")
                if i.late:
                    when.append(" (started before booking)", style="bold red")
                table.add_row(when, what)
            parts.append(table)
        for n in s.notes:
            parts.append(_bullet(n.text))
        if s.closing:
            parts.append(_text(s.closing, style="bold"))
    parts.append(Text(""))
    parts.append(Rule(style="dim"))
    parts.append(_text(c["footer"], style="dim"))
    return Group(*parts)


def render(handout: Handout, width: int = 80, color: bool = True, **options) -> str:
    """The handout as terminal text (with colour codes when ``color``)."""
    from io import StringIO

    from rich.console import Console

    out = StringIO()
    console = Console(file=out, width=width, force_terminal=color, color_system="standard" if color else None, legacy_windows=False)
    console.print(renderables(handout))
    return out.getvalue()
