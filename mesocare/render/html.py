"""``--format html``: one standalone, autoescaped page that prints cleanly on A4 and Letter."""

from __future__ import annotations

from mesocare.model import Batch, Handout
from mesocare.render.cover import cover_context
from mesocare.render.templating import render_template
from mesocare.render.view import context


def render(handout: Handout, **options) -> str:
    return render_template("handout.html.j2", handout.clinic.templates_dir, **context(handout))


def render_batch(batch: Batch, **options) -> str:
    return render_template(
        "batch.html.j2",
        batch.clinic.templates_dir,
        cover=cover_context(batch),
        views=[context(h) for h in batch.handouts],
    )
