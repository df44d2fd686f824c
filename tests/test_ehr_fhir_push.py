"""`mesocare push --to fhir` through a subprocess as a clinic runs it, against two servers the
tests start: ours (tests/fhirserver.py: conditional updates by identifier, conditional
references, bearer token, OperationOutcomes) and Medplum's FHIR engine
(tests/medplumserver.py: @medplum/fhir-router over its MemoryRepository, skipped where node or
the packages are missing). What a server holds is read through its own search."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fhirserver import FhirServer, FhirStore
from medplumserver import MedplumServer, medplum_missing
from mesocare.ehr.ids import identifier_query

HEADER = "date,time,area,name,patient_id,appointment_id\n"
PATIENT_SYSTEM = "urn:mesocare:patient-id"
DOC_SYSTEM = "urn:mesocare:handout"
PLAN_SYSTEM = "urn:mesocare:careplan"


def rows(n: int) -> str:
    return "".join(f"2026-06-10,10:{i:02d},face,Secret Name{i},P-{i},A-{i}\n" for i in range(n))


def push(folder: Path, token: str | None = "secret-token") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MESOCARE_FHIR_TOKEN"}
    if token:
        env["MESOCARE_FHIR_TOKEN"] = token
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mesocare",
            "push",
            "day.csv",
            "--clinic",
            "mesocare.yaml",
            "--today",
            "2026-06-01",
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


class Ours(FhirServer):
    """Our transaction server, asked the same questions as Medplum's."""

    name = "ours"

    def add_patient(self, system: str, value: str) -> str:
        return self.store.add_patient(system, value)

    def of_kind(self, kind: str) -> list[dict]:
        return self.store.of_kind(kind)

    def by_identifier(self, kind: str, system: str, value: str) -> list[dict]:
        return self.store.find(kind, identifier_query(system, value))

    def versions(self, kind: str, rid: str) -> int:
        return int(self.store.resources[(kind, rid)]["meta"]["versionId"])


@pytest.fixture(params=["ours", "medplum"])
def server(request):
    if request.param == "medplum":
        why = medplum_missing()
        if why:
            pytest.skip(why)
        srv = MedplumServer()
    else:
        srv = Ours(FhirStore())
    with srv:
        for i in range(3):
            srv.add_patient(PATIENT_SYSTEM, f"P-{i}")
        yield srv


@pytest.fixture
def ours(request):
    """For what only our server can do (count transactions, fail on demand); asked for before
    ``clinic``, so that Medplum's server is not started only to be skipped."""
    if request.node.callspec.params.get("server") != "ours":
        pytest.skip("counts transactions and fails on demand: our test server only")
    return request.getfixturevalue("server")


@pytest.fixture
def clinic(tmp_path, server):
    (tmp_path / "mesocare.yaml").write_text(
        "name: Harbour\ntimezone: Europe/London\nstate_dir: state\nehr:\n  fhir:\n"
        f"    base_url: {server.url}\n"
        "    timeout: 10\n",
        encoding="utf-8",
    )
    (tmp_path / "day.csv").write_text(HEADER + rows(3), encoding="utf-8")
    return tmp_path


def filed(server) -> dict[str, list[dict]]:
    """Each of our identifiers on the server, by kind, with what the server holds under it."""
    found: dict[str, list[dict]] = {}
    for kind, system in (("DocumentReference", DOC_SYSTEM), ("CarePlan", PLAN_SYSTEM)):
        numbers = {
            i["value"]
            for r in server.of_kind(kind)
            for i in r["identifier"]
            if i["system"] == system
        }
        for number in numbers:
            found[f"{kind}|{number}"] = server.by_identifier(kind, system, number)
    return found


def test_each_appointment_filed_once_even_when_the_push_log_is_lost(clinic, server):
    first = push(clinic)
    assert first.returncode == 0, first.stderr
    assert "3 delivered" in first.stderr
    records = filed(server)
    assert len(records) == 6 and all(len(v) == 1 for v in records.values())
    for doc in server.of_kind("DocumentReference"):
        patient = doc["subject"]["reference"]  # resolved to the server's patient
        assert patient.startswith("Patient/") and "?" not in patient
        (plan,) = [
            p
            for p in server.of_kind("CarePlan")
            if p["identifier"][0]["value"] == doc["identifier"][0]["value"]
        ]  # the plan points at the document's server id, not at its urn:uuid
        assert plan["supportingInfo"][0]["reference"] == f"DocumentReference/{doc['id']}"
    again = push(clinic)
    assert "0 delivered, 3 already there" in again.stderr
    assert {
        server.versions("DocumentReference", d["id"]) for d in server.of_kind("DocumentReference")
    } == {1}  # nothing was sent
    shutil.rmtree(clinic / "state")  # the push log lost: everything is sent again...
    lost = push(clinic)
    assert lost.returncode == 0 and "3 delivered" in lost.stderr
    after = filed(server)  # ...and replaces: the same records, each once, a second version
    assert after.keys() == records.keys() and all(len(v) == 1 for v in after.values())
    assert {v[0]["id"] for v in after.values()} == {v[0]["id"] for v in records.values()}
    docs = server.of_kind("DocumentReference")
    assert {server.versions("DocumentReference", d["id"]) for d in docs} == {2}


def test_a_transaction_sent_twice_is_one_transaction_each(ours, clinic):
    assert push(clinic).returncode == 0
    assert "0 delivered, 3 already there" in push(clinic).stderr and ours.store.transactions == 3


def test_a_moved_appointment_replaces_its_plan(clinic, server):
    assert push(clinic).returncode == 0
    (clinic / "day.csv").write_text(
        HEADER + rows(3).replace("2026-06-10,10:00", "2026-06-12,15:00"), encoding="utf-8"
    )
    moved = push(clinic)
    assert moved.returncode == 0 and "1 delivered, 2 already there" in moved.stderr
    plans = server.of_kind("CarePlan")
    assert len(plans) == 3 and all(len(v) == 1 for v in filed(server).values())
    assert (
        sum(
            p["activity"][0]["detail"]["scheduledPeriod"]["start"].startswith("2026-06-02")
            for p in plans
        )
        == 1
    )


def test_an_unknown_patient_is_refused_in_our_words_by_row(clinic, server):
    (clinic / "day.csv").write_text(HEADER + rows(4), encoding="utf-8")  # P-3 is not on the server
    result = push(clinic)
    assert result.returncode == 3
    assert "row 5: rejected (the server does not know the patient" in result.stderr
    assert "Secret" not in result.stderr
    assert len(server.of_kind("DocumentReference")) == 3  # all or nothing: row 5's not kept
    assert len(server.of_kind("CarePlan")) == 3


def test_a_missing_token(clinic, server):
    for token in (None, "wrong-token"):
        refused = push(clinic, token=token)
        assert (
            refused.returncode == 3
            and "did not accept our credentials (check MESOCARE_FHIR_TOKEN)" in refused.stderr
        )
    assert server.of_kind("DocumentReference") == []


def test_a_failing_server(ours, clinic):
    server = ours
    server.store.fail_next = 1
    failed = push(clinic)
    assert (
        failed.returncode == 3
        and "HTTP 500" in failed.stderr
        and "3 not delivered" in failed.stderr
    )
    assert push(clinic).returncode == 0 and len(server.store.of_kind("CarePlan")) == 3


def test_plain_http_off_this_machine_is_refused_by_the_config(clinic):
    (clinic / "mesocare.yaml").write_text(
        "name: Harbour\nehr:\n  fhir:\n    base_url: http://fhir.clinic.example/r4\n",
        encoding="utf-8",
    )
    result = push(clinic)
    assert result.returncode == 1 and "must use https" in result.stderr and "line" in result.stderr


def test_a_patient_id_with_query_characters_is_found_as_it_is(clinic, server):
    odd = "P&1|x, y$#\\z"
    server.add_patient(PATIENT_SYSTEM, odd)
    server.add_patient(PATIENT_SYSTEM, "P&1")  # what a query cut at & would find
    (clinic / "day.csv").write_text(
        HEADER + f'2026-06-10,10:00,face,Secret,"{odd}",A-odd\n', encoding="utf-8"
    )
    result = push(clinic)
    assert result.returncode == 0, result.stderr
    (doc,) = server.of_kind("DocumentReference")
    (patient,) = server.by_identifier("Patient", PATIENT_SYSTEM, odd)
    assert doc["subject"]["reference"] == f"Patient/{patient['id']}"
