"""``--format text``: plain text wrapped at 72 columns, fit to paste into an email or SMS."""

from __future__ import annotations

from mesocare.model import Batch, Handout
from mesocare.render.cover import cover_context
from mesocare.render.templating import render_template
from mesocare.render.view import context

PAGE_BREAK = "\f\n"


def render(handout: Handout, **options) -> str:
    return render_template("handout.txt.j2", handout.clinic.templates_dir, **context(handout))


def render_batch(batch: Batch, **options) -> str:
    cover = render_template("cover.txt.j2", batch.clinic.templates_dir, **cover_context(batch))
    return PAGE_BREAK.join([cover, *(render(h) for h in batch.handouts)])
