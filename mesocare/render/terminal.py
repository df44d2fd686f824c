"""``--format terminal``: the handout drawn with rich, for the desk screen (80 columns).

Rich is imported here only, so scripted runs (json, text) never pay for it. Every value is
wrapped in ``Text`` so that a name with [brackets] is never read as rich markup, and loses its
control characters first (``printable``), so a name typed with an escape sequence cannot
recolour or rewrite the screen. Bullet lines that wrap are indented under their first word.
"""

from __future__ import annotations

from mesocare.lang import ui
from mesocare.model import Handout
from mesocare.render.printable import printable
from mesocare.render.view import context


def _text(value: str, style: str = ""):
    from rich.text import Text

    return Text(printable(value), style=style)


def _bullet(text: str):
    """ "• text", with every wrapped line indented under the text."""
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
    lang = c["lang"]
    _ = lang.gettext
    clinic = c["clinic"]
    parts = []
    head = _text(clinic.name, style="bold cyan")
    if clinic.phone:
        head.append(printable("\n" + lang._("Phone: %(phone)s", phone=clinic.phone)), style="cyan")
    parts.append(head)
    who = Text()

    def labelled(message: str, name: str, value: str, **rest: str) -> None:
        """ "Instructions for <b>Ana</b>": the label in the language's word order, the value
        bold."""
        before, after = ui.split_placeholders(_(message), name)
        who.append(before % rest if rest else before)
        who.append(value, style="bold")
        who.append(after % rest if rest else after)

    if c["patient"]:
        labelled("Instructions for %(name)s", "name", printable(c["patient"], newlines=False))
        who.append("\n")
    labelled("Your appointment: %(when)s", "when", c["appointment"])
    who.append("\n")
    labelled(
        "Area: %(area)s (%(technique)s)",
        "area",
        c["area"],
        technique=ui.technique(lang, handout.technique),
    )
    parts.append(who)
    parts.append(Text(""))
    for banner in c["banners"]:
        lines = [banner.lead, *("  • " + step for step in banner.steps), banner.closing]
        body = "\n".join(line for line in lines if line)
        parts.append(
            Panel(_text(body), title=_("Important"), border_style="bold red", title_align="left")
        )
    drawn = False
    for s in c["sections"]:
        if s.key not in ("before", "day", "after") and not drawn:
            parts.extend(_calendar(handout))
            drawn = True
        parts.append(Text(""))
        parts.append(Rule(_text(s.title, style="bold"), align="left", style="cyan"))
        if s.items:
            table = Table(
                box=box.SIMPLE_HEAD, show_edge=False, expand=True, pad_edge=False, leading=1
            )
            table.add_column(_("When"), style="bold", ratio=2)
            table.add_column(_("What to do"), ratio=3)
            for i in s.items:
                what = _text(i.text)
                if i.origin == "clinic":
                    what.append(" " + _("(clinic rule)"), style="dim")
                when = _text(i.when)
                if i.status == "passed":
                    when.append(" " + _("(passed)"), style="dim")
                if i.late:
                    when.append(" " + _("(started before booking)"), style="bold red")
                table.add_row(when, what)
            parts.append(table)
        for n in s.notes:
            parts.append(_bullet(n.text))
        if s.closing:
            parts.append(_text(s.closing, style="bold"))
    if not drawn:
        parts.extend(_calendar(handout))
    parts.append(Text(""))
    parts.append(Rule(style="dim"))
    parts.append(_text(c["footer"], style="dim"))
    return Group(*parts)


def _calendar(handout: Handout) -> list:
    """The calendar picture under its own heading (mesocare/render/calendar_text.py)."""
    from rich.rule import Rule
    from rich.text import Text

    from mesocare.render import calendar, calendar_text

    title = calendar.WORDS["title"]
    return [
        Text(""),
        Rule(Text(title, style="bold"), align="left", style="cyan"),
        *calendar_text.renderables(handout),
    ]


def render(handout: Handout, width: int = 80, color: bool = True, **options) -> str:
    """The handout as terminal text (with colour codes when ``color``)."""
    from io import StringIO

    from rich.console import Console

    out = StringIO()
    console = Console(
        file=out,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        legacy_windows=False,
    )
    console.print(renderables(handout))
    return out.getvalue()
