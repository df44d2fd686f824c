"""``--format hl7``: an HL7 v2.5 MDM^T02 message per handout (``mesocare.ehr.hl7_mdm``); a
batch is the messages one after another."""

from __future__ import annotations

from mesocare.model import Batch, Handout


def render(handout: Handout, **options) -> str:
    from mesocare.render.records import hl7_message

    return hl7_message(handout)


def render_batch(batch: Batch, **options) -> str:
    from mesocare.render.records import hl7_message

    return "".join(hl7_message(h) for h in batch.handouts)
