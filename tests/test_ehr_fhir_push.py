"""`mesocare push --to fhir` against a FHIR transaction server started by the tests
(tests/fhirserver.py: conditional updates by identifier, conditional references, bearer token,
OperationOutcomes), through a subprocess as a clinic runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fhirserver import FhirServer, FhirStore

HEADER = "date,time,area,name,patient_id,appointment_id\n"
PATIENT_SYSTEM = "urn:mesocare:patient-id"


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


@pytest.fixture
def server():
    store = FhirStore()
    for i in range(3):
        store.add_patient(PATIENT_SYSTEM, f"P-{i}")
    with FhirServer(store) as srv:
        yield srv


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


def test_each_appointment_filed_once_even_when_the_push_log_is_lost(clinic, server):
    store = server.store
    first = push(clinic)
    assert first.returncode == 0, first.stderr
    assert "3 delivered" in first.stderr
    assert len(store.of_kind("DocumentReference")) == 3 and len(store.of_kind("CarePlan")) == 3
    for doc in store.of_kind("DocumentReference"):
        assert doc["subject"]["reference"].startswith(
            "Patient/"
        )  # resolved to the server's patient
    assert "0 delivered, 3 already there" in push(clinic).stderr and store.transactions == 3
    shutil.rmtree(clinic / "state")  # the push log lost: everything is sent again...
    again = push(clinic)
    assert again.returncode == 0 and "3 delivered" in again.stderr
    assert (
        len(store.of_kind("DocumentReference")) == 3 and len(store.of_kind("CarePlan")) == 3
    )  # ...and replaces
    assert {d["meta"]["versionId"] for d in store.of_kind("DocumentReference")} == {"2"}


def test_a_moved_appointment_replaces_its_plan(clinic, server):
    assert push(clinic).returncode == 0
    (clinic / "day.csv").write_text(
        HEADER + rows(3).replace("2026-06-10,10:00", "2026-06-12,15:00"), encoding="utf-8"
    )
    moved = push(clinic)
    assert moved.returncode == 0 and "1 delivered, 2 already there" in moved.stderr
    plans = server.store.of_kind("CarePlan")
    assert len(plans) == 3
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


def test_a_missing_token_and_a_failing_server(clinic, server):
    refused = push(clinic, token=None)
    assert (
        refused.returncode == 3
        and "did not accept our credentials (check MESOCARE_FHIR_TOKEN)" in refused.stderr
    )
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
    server.store.add_patient(PATIENT_SYSTEM, odd)
    server.store.add_patient(PATIENT_SYSTEM, "P&1")  # what a query cut at & would find
    (clinic / "day.csv").write_text(
        HEADER + f'2026-06-10,10:00,face,Secret,"{odd}",A-odd\n', encoding="utf-8"
    )
    result = push(clinic)
    assert result.returncode == 0, result.stderr
    (doc,) = server.store.of_kind("DocumentReference")
    (patient,) = [p for p in server.store.of_kind("Patient") if p["identifier"][0]["value"] == odd]
    assert doc["subject"]["reference"] == f"Patient/{patient['id']}"
