"""``--format fhir``: a FHIR R4 transaction Bundle per handout (``mesocare.ehr.fhir_bundle``);
a batch is ndjson, one Bundle a line."""

from __future__ import annotations

from mesocare.model import Batch, Handout


def render(handout: Handout, **options) -> str:
    from mesocare.render.records import fhir_json

    return fhir_json(handout) + "\n"


def render_batch(batch: Batch, **options) -> str:
    from mesocare.render.records import fhir_json

    return "".join(fhir_json(h, indent=None) + "\n" for h in batch.handouts)
