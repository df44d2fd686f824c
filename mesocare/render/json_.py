"""``--format json`` (one object, schema mesocare.handout/1) and batch ``json`` / ``ndjson``."""

from __future__ import annotations

import json

from mesocare.handout import handout_dict
from mesocare.model import Batch, Handout


def _dumps(obj, indent: int | None) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=indent, separators=None if indent else (",", ":"))


def render(handout: Handout, **options) -> str:
    return _dumps(handout_dict(handout), 2) + "\n"


def render_batch(batch: Batch, ndjson: bool = False, **options) -> str:
    dicts = [handout_dict(h) for h in batch.handouts]
    if ndjson:
        return "".join(_dumps(d, None) + "\n" for d in dicts)
    return _dumps(dicts, 2) + "\n"
