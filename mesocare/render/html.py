"""``--format html``: one standalone, autoescaped page that prints cleanly on A4 and Letter."""

from __future__ import annotations

from mesocare.model import Batch, Handout
from mesocare.render.cover import cover_context
from mesocare.render.templating import render_template
from mesocare.render.view import context


def calendar_context(handout: Handout, ident: str = "cal", locale: str | None = None) -> dict:
    """The calendar picture for ``_calendar.html.j2``: the model, its SVG and legend pictures."""
    from markupsafe import Markup

    from mesocare.render import calendar, calendar_svg

    model = calendar.build(handout, locale)
    return {
        "model": model,
        "id": ident,
        "svg": Markup(calendar_svg.svg(model, ident)),
        "chips": {b.letter: Markup(calendar_svg.chip(b, ident)) for b in model.bands},
        "marks": {k: Markup(calendar_svg.mark(k)) for k in ("appointment", "today", "session")},
    }


def render(handout: Handout, locale: str | None = None, **options) -> str:
    return render_template(
        "handout.html.j2",
        handout.clinic.templates_dir,
        **context(handout),
        calendar=calendar_context(handout, locale=locale),
        large=handout.clinic.large_print,
    )


def render_batch(batch: Batch, **options) -> str:
    """The cover sheet in the clinic's language, then each handout in its own (its section
    carries its ``lang`` when that differs from the page's), each with its calendar picture."""
    from mesocare.lang.jinja import gettext_for

    cover = cover_context(batch)
    views = []
    for n, h in enumerate(batch.handouts, start=1):
        view = context(h)
        view["gettext"] = gettext_for(view["lang"])
        view["section_lang"] = view["lang"].tag if view["lang"].tag != cover["lang"].tag else None
        view["calendar"] = calendar_context(h, f"cal{n}")
        views.append(view)
    return render_template(
        "batch.html.j2",
        batch.clinic.templates_dir,
        lang=cover["lang"],
        cover=cover,
        views=views,
        large=batch.clinic.large_print,
    )
