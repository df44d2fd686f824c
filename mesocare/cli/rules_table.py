"""The `rules list` tables: every column's content kept, fitted to the width.

Related facts share a cell (id over phase, window over areas, source over basis, review date
over origin), so four columns hold all eight and fit 80 columns: ids, sources and dates are
never cut; the window and areas cell and a clinic's free-text source wrap. In a pipe the width is 80
(or $COLUMNS).
"""

from __future__ import annotations

from mesocare.cli.context import Context
from mesocare.rule_info import areas_words, origin_word, reviewed_word
from mesocare.vocab import PHASE_ORDER


def print_tables(context: Context, ruleset) -> None:
    from rich.table import Table

    console = context.console(
        highlight=False,
        force_terminal=context.is_tty,
        width=None if context.is_tty else _pipe_width(),
    )
    items = (*ruleset.rules, *ruleset.notes)
    # fixed widths, so rich never squeezes an id or a date: ids and dates whole; our sources
    # (file names of 24 characters) whole, a clinic's free-text source wraps; the rest wraps
    id_width = max(len(x.id) for x in items)
    source_width = min(26, max(len(x.source) for x in items))
    free = max(12, console.width - id_width - source_width - 10 - 3)
    rules = Table(
        title="Rules",
        title_justify="left",
        box=None,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        caption="from: ours, or the clinic's own rule",
        caption_justify="left",
    )
    rules.add_column("id\nphase", no_wrap=True, width=id_width)
    rules.add_column("window\nareas", width=free, overflow="fold")
    rules.add_column("source\nbasis", width=source_width, overflow="fold")
    rules.add_column("reviewed\nfrom", no_wrap=True, width=10)
    for r in sorted(ruleset.rules, key=lambda r: PHASE_ORDER.get(r.phase, 3)):
        rules.add_row()  # a blank line between rows: they take two lines or more
        rules.add_row(
            f"{r.id}\n{r.phase}",
            f"{r.window.describe()}\n{areas_words(r)}",
            f"{r.source}\n{r.basis}",
            f"{reviewed_word(r)}\n{origin_word(r)}",
        )
    console.print(rules)
    notes = Table(
        title="Notes",
        title_justify="left",
        box=None,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
    )
    notes.add_column("id\nsection", no_wrap=True, width=id_width)
    notes.add_column("areas", width=free, overflow="fold")
    notes.add_column("source", width=source_width, overflow="fold")
    notes.add_column("reviewed\nfrom", no_wrap=True, width=10)
    for n in ruleset.notes:
        notes.add_row()
        areas = ", ".join(n.areas) if n.areas is not None else "all"
        notes.add_row(
            f"{n.id}\n{n.section}", areas, n.source, f"{reviewed_word(n)}\n{origin_word(n)}"
        )
    console.print(notes)


def _pipe_width() -> int:
    import os

    try:
        return max(40, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return 80
