"""``--format html``: one standalone, autoescaped page that prints cleanly on A4 and Letter."""

from __future__ import annotations

from mesocare.model import Batch, Handout
from mesocare.render.cover import cover_context
from mesocare.render.templating import render_template
from mesocare.render.view import context


def render(handout: Handout, **options) -> str:
    return render_template("handout.html.j2", handout.clinic.templates_dir, **context(handout))


def render_batch(batch: Batch, **options) -> str:
    """The cover sheet in the clinic's language, then each handout in its own (its section
    carries its ``lang`` when that differs from the page's)."""
    from mesocare.lang.jinja import gettext_for

    cover = cover_context(batch)
    views = []
    for h in batch.handouts:
        view = context(h)
        view["gettext"] = gettext_for(view["lang"])
        view["section_lang"] = view["lang"].tag if view["lang"].tag != cover["lang"].tag else None
        views.append(view)
    return render_template("batch.html.j2", batch.clinic.templates_dir, lang=cover["lang"], cover=cover, views=views)
