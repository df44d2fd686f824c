"""The calendar picture for the terminal: month grids drawn with rich, letters for the bands.

Plain enough for a screen reader: each day is its number, then the letters of the bands that
cover it; the appointment day is in square brackets, today in round ones, another session in
braces; the legend below says so in words. Colour only repeats what the letters say.
"""

from __future__ import annotations

from mesocare.model import Handout
from mesocare.render import calendar

# (opening, closing) around a day number
APPOINTMENT = ("[", "]")
TODAY = ("(", ")")
SESSION = ("{", "}")


def day_label(day: calendar.Day) -> str:
    left, right = (
        APPOINTMENT
        if day.appointment
        else TODAY
        if day.today
        else SESSION
        if day.session
        else ("", "")
    )
    if day.appointment and day.today:
        left, right = "[(", ")]"
    return f"{left}{day.number}{right}"


def renderables(handout: Handout, locale: str | None = None) -> list:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    cal = calendar.build(handout, locale)
    colours = {b.letter: b for b in cal.bands}
    parts: list[Table | Text] = []
    for month in cal.months:
        table = Table(
            title=Text(month.title, style="bold"),
            title_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            expand=True,
            padding=(0, 1),
        )
        for name in cal.weekdays:
            table.add_column(Text(name), ratio=1, no_wrap=False, overflow="fold")
        for week in month.weeks:
            cells = []
            for day in week.days:
                if day is None:
                    cells.append(Text(""))
                    continue
                cell = Text(day_label(day), style="bold" if day.in_range else "dim")
                if day.appointment:
                    cell.stylize("reverse")
                if day.letters:
                    cell.append("\n")
                    for letter in day.letters:
                        cell.append(
                            letter, style="bold " + ("" if colours[letter].hatched else "underline")
                        )
                cells.append(cell)
            table.add_row(*cells)
        parts.append(table)
    w = cal.words
    legend = Text()
    for phase in ("before", "after"):
        bands = cal.legend(phase)
        if not bands:
            continue
        legend.append(f"{w[phase]}:\n", style="bold")
        for b in bands:
            legend.append(f"  {b.letter}  ", style="bold")
            legend.append(b.label + (f" ({b.goes_on})" if b.goes_on else "") + "\n")
    signs = {"appointment": APPOINTMENT, "today": TODAY, "session": SESSION}
    for kind, line in cal.marks:
        legend.append(f"{signs[kind][0]}  {signs[kind][1]}  {line}\n")
    legend.rstrip()
    parts.append(legend)
    return parts
