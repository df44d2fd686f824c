"""One FHIR transaction per appointment to the clinic's FHIR server (HTTPS; http only to this
machine), with a bearer token read from the environment only (``MESOCARE_FHIR_TOKEN``).

The Bundle's entries are conditional updates by identifier, so a transaction sent twice (a
lost answer, a lost push log) files nothing twice. A refusal is told in our words from the
server's OperationOutcome; a server that cannot be reached, or answers 5xx, stops the run
(the rest is sent on the next run).
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Callable
from urllib import error, request

from mesocare.config.ehr import TOKEN_ENV
from mesocare.model import Handout
from mesocare.push.deliver import Stop, shown
from mesocare.settings import FhirSettings

_WORDS = {
    "multiple-matches": "more than one record on the server has this identifier, so it cannot tell"
    " which to update",
    "not-found": "the server does not know the patient or a record the document points to",
    "security": "the server did not accept our credentials (check " + TOKEN_ENV + ")",
    "login": "the server did not accept our credentials (check " + TOKEN_ENV + ")",
    "forbidden": "the server does not allow us to file this record",
    "invalid": "the server found the record invalid",
    "structure": "the server found the record invalid",
    "required": "the server found the record incomplete",
    "value": "the server found a value in the record invalid",
    "business-rule": "the server's rules refused the record",
    "conflict": "the record changed on the server meanwhile",
}


def outcome_words(status: int, body: bytes) -> str:
    """The server's OperationOutcome (or its HTTP status) as one sentence of ours."""
    issues = []
    try:
        data = json.loads(body)
        if isinstance(data, dict) and data.get("resourceType") == "OperationOutcome":
            issues = [i for i in data.get("issue", []) if isinstance(i, dict)]
    except ValueError:
        pass
    if status in (401, 403) and not issues:
        issues = [{"code": "security" if status == 401 else "forbidden"}]
    if not issues:
        return f"the server refused the record (HTTP {status})"
    first = issues[0]
    words = _WORDS.get(str(first.get("code")), f"the server refused the record (HTTP {status})")
    detail = first.get("diagnostics") or (first.get("details") or {}).get("text")
    return f"{words}: {shown(str(detail))}" if detail else words


def fhir_deliverer(settings: FhirSettings) -> Callable[[Handout], tuple[bool, str, str]]:
    from mesocare.render.records import fhir_json

    context = ssl.create_default_context(cafile=settings.ca_file)
    token = os.environ.get(TOKEN_ENV, "").strip()

    def deliver(h: Handout) -> tuple[bool, str, str]:
        body = fhir_json(h, indent=None).encode("utf-8")
        headers = {
            "Content-Type": "application/fhir+json; charset=utf-8",
            "Accept": "application/fhir+json",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        call = request.Request(settings.base_url, data=body, headers=headers, method="POST")
        try:
            with request.urlopen(call, timeout=settings.timeout, context=context) as answer:
                reply = json.loads(answer.read() or b"{}")
        except error.HTTPError as e:
            text = e.read()
            if e.code >= 500:
                why = f"the server failed (HTTP {e.code}); it is sent again on the next run"
                raise Stop(why) from None
            return False, "", outcome_words(e.code, text)
        except (error.URLError, OSError, TimeoutError) as e:
            why = getattr(e, "reason", None) or e.__class__.__name__
            raise Stop(
                f"the server cannot be reached ({shown(str(why))}); it is sent again on the"
                " next run"
            ) from None
        except ValueError:
            why = "the server's answer is not JSON; it is sent again on the next run"
            raise Stop(why) from None
        locations = [
            str((e.get("response") or {}).get("location", ""))
            for e in reply.get("entry", [])
            if isinstance(e, dict)
        ]
        return True, " ".join(locations)[:500], ""

    return deliver
