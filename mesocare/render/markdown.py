"""``--format markdown``: the handout as Markdown, for clinic websites and messages."""

from __future__ import annotations

from mesocare.model import Batch, Handout
from mesocare.render.cover import cover_context
from mesocare.render.templating import render_template
from mesocare.render.view import context


def render(handout: Handout, **options) -> str:
    return render_template("handout.md.j2", handout.clinic.templates_dir, **context(handout))


def render_batch(batch: Batch, **options) -> str:
    cover = render_template("cover.md.j2", batch.clinic.templates_dir, **cover_context(batch))
    return "\n\n---\n\n".join([cover, *(render(h) for h in batch.handouts)])
