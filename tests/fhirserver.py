"""A small FHIR R4 transaction server for the push tests (no real FHIR server installs here:
HAPI needs Maven Central and Docker; see the report). It does what the spec asks of the parts
mesocare uses, with a real HTTP server:

- ``POST /`` a transaction Bundle, all or nothing; every resource validated with
  fhir.resources (R4B models) or the transaction fails with an OperationOutcome;
- ``PUT Type?identifier=system|value``: conditional update (none: create; one: update, a new
  version; more than one: 412 with ``multiple-matches``);
- ``urn:uuid`` fullUrls rewritten in references; a conditional reference
  (``Patient?identifier=...``) resolved, or the transaction fails (``not-found``);
- a bearer token checked (401 ``security``), and ``fail_next`` for 500s.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from fhir.resources.R4B import get_fhir_model_class


def outcome(code: str, diagnostics: str) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    }


class Refused(Exception):
    def __init__(self, status: int, code: str, diagnostics: str):
        super().__init__(diagnostics)
        self.status, self.body = status, outcome(code, diagnostics)


class FhirStore:
    def __init__(self, token: str = "secret-token"):
        self.token = token
        self.resources: dict[tuple[str, str], dict] = {}  # (type, id) -> resource
        self.transactions = 0
        self.fail_next = 0
        self.lock = threading.Lock()

    def add_patient(self, system: str, value: str) -> str:
        pid = uuid.uuid4().hex[:12]
        self.resources[("Patient", pid)] = {
            "resourceType": "Patient",
            "id": pid,
            "identifier": [{"system": system, "value": value}],
        }
        return pid

    def find(self, kind: str, query: str) -> list[dict]:
        query = query.split("#")[0].split("&")[0]  # as a url's query is read: & and # end it
        if not query.startswith("identifier="):
            raise Refused(400, "not-supported", f"only identifier searches: {query}")
        # the separator is the one bare |; each side percent-decoded, then FHIR's \ escapes undone
        system, value = (
            re.sub(r"\\(.)", r"\1", unquote(part))
            for part in query[len("identifier=") :].split("|", 1)
        )
        return [
            r
            for (t, _), r in self.resources.items()
            if t == kind
            and any(
                i.get("system") == system and i.get("value") == value
                for i in r.get("identifier", [])
            )
        ]

    def of_kind(self, kind: str) -> list[dict]:
        return [r for (t, _), r in self.resources.items() if t == kind]

    def transaction(self, bundle: dict) -> dict:
        if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "transaction":
            raise Refused(400, "invalid", "not a transaction Bundle")
        get_fhir_model_class("Bundle").model_validate(bundle)
        staged = dict(self.resources)
        ids: dict[str, str] = {}
        plan = []
        for entry in bundle["entry"]:
            resource, req = entry["resource"], entry["request"]
            kind = resource["resourceType"]
            if req["method"] != "PUT" or "?" not in req["url"]:
                raise Refused(400, "not-supported", "only conditional updates")
            url_kind, _, query = req["url"].partition("?")
            if url_kind != kind:
                raise Refused(400, "invalid", "the url's type is not the resource's")
            matches = self.find(kind, query)
            if len(matches) > 1:
                raise Refused(412, "multiple-matches", f"{len(matches)} {kind} match {query}")
            rid = matches[0]["id"] if matches else uuid.uuid4().hex[:12]
            ids[entry["fullUrl"]] = f"{kind}/{rid}"
            plan.append((kind, rid, resource, bool(matches)))
        responses = []
        for kind, rid, resource, existed in plan:
            text = json.dumps(resource)
            for full, ref in ids.items():
                text = text.replace(json.dumps(full), json.dumps(ref))
            resource = json.loads(text)
            self._resolve(resource)
            resource["id"] = rid
            old = staged.get((kind, rid))
            version = int(old["meta"]["versionId"]) + 1 if old else 1
            resource["meta"] = {"versionId": str(version)}
            get_fhir_model_class(kind).model_validate(resource)
            staged[(kind, rid)] = resource
            responses.append(
                {
                    "response": {
                        "status": "200 OK" if existed else "201 Created",
                        "location": f"{kind}/{rid}/_history/{version}",
                    }
                }
            )
        self.resources = staged
        self.transactions += 1
        return {"resourceType": "Bundle", "type": "transaction-response", "entry": responses}

    def _resolve(self, value) -> None:
        if isinstance(value, dict):
            ref = value.get("reference")
            if isinstance(ref, str) and "?" in ref:
                kind, _, query = ref.partition("?")
                found = self.find(kind, query)
                if len(found) != 1:
                    raise Refused(400, "not-found", f"{len(found)} {kind} match the reference")
                value["reference"] = f"{kind}/{found[0]['id']}"
            for v in value.values():
                self._resolve(v)
        elif isinstance(value, list):
            for v in value:
                self._resolve(v)


class FhirServer:
    def __init__(self, store: FhirStore):
        self.store = store
        store_ = store

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with store_.lock:
                    if self.headers.get("Authorization") != f"Bearer {store_.token}":
                        self._send(401, outcome("security", "no valid bearer token"))
                        return
                    if store_.fail_next:
                        store_.fail_next -= 1
                        self._send(500, outcome("exception", "the database is down"))
                        return
                    try:
                        self._send(200, store_.transaction(json.loads(body)))
                    except Refused as e:
                        self._send(e.status, e.body)
                    except Exception as e:  # noqa: BLE001 - a resource the models refuse
                        self._send(400, outcome("invalid", str(e)[:300]))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
