"""`--format fhir` and `rules export --format fhir`: Bundles and a PlanDefinition a FHIR R4
server accepts (validated with fhir.resources' R4B models, the R4 line it ships), what US Core
DocumentReference requires, and identifiers that keep a second post from filing anything twice."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.plandefinition import PlanDefinition
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cli
from mesocare.ehr import fhir_bundle
from mesocare.handout import build_handout
from mesocare.model import Clinic, Request

pytestmark = pytest.mark.usefixtures("no_clinic_env")
DATA = Path(__file__).resolve().parent / "data" / "schedules"
PREP = (
    "prep",
    "--area",
    "face",
    "--today",
    "2026-06-01",
    "--tz",
    "Europe/London",
    "--format",
    "fhir",
)


def prep(*args: str) -> dict:
    result = run_cli(*PREP, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def resources(bundle: dict) -> dict:
    return {e["resource"]["resourceType"]: e for e in bundle["entry"]}


@pytest.fixture(scope="module")
def bundle() -> dict:
    result = run_cli(
        *PREP,
        "--date",
        "2026-06-10",
        "--time",
        "10:00",
        "--patient-id",
        "P-1",
        "--appointment-id",
        "A-1",
        "--lang",
        "fr",
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_bundle_is_a_valid_r4_transaction(bundle):
    Bundle.model_validate(bundle)
    assert bundle["type"] == "transaction"
    assert sorted(resources(bundle)) == ["CarePlan", "DocumentReference"]


def test_document_reference_carries_what_us_core_requires(bundle):
    entry = resources(bundle)["DocumentReference"]
    doc = entry["resource"]
    assert doc["status"] == "current"
    assert doc["type"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "69730-0",
        "display": "Instructions",
    }
    assert doc["category"][0]["coding"][0]["code"] == "clinical-note"
    assert doc["subject"]["reference"] == "Patient?identifier=urn:mesocare:patient-id|P-1"
    assert doc["date"].startswith("2026-06-01T00:00:00")
    assert doc["author"] and doc["custodian"]
    assert doc["language"] == "fr-FR"
    pdf, text = (c["attachment"] for c in doc["content"])
    assert all(c["format"]["code"] for c in doc["content"])
    data = base64.b64decode(pdf["data"])
    assert data.startswith(b"%PDF") and pdf["contentType"] == "application/pdf"
    assert (
        pdf["size"] == len(data)
        and pdf["hash"] == base64.b64encode(hashlib.sha1(data).digest()).decode()
    )
    assert pdf["title"] and pdf["language"] == "fr-FR"
    assert "douche" in base64.b64decode(text["data"]).decode("utf-8")
    assert doc["context"]["related"][0]["identifier"]["value"] == "A-1"


def test_care_plan_has_a_dated_activity_per_step(bundle):
    plan = resources(bundle)["CarePlan"]["resource"]
    handout = json.loads(
        run_cli(
            *PREP[:-1], "json", "--date", "2026-06-10", "--time", "10:00", "--lang", "fr"
        ).stdout
    )
    assert len(plan["activity"]) == len(handout["items"])
    for activity, item in zip(plan["activity"], handout["items"], strict=True):
        detail = activity["detail"]
        assert detail["code"]["coding"][0]["code"] == item["rule"]
        assert detail["scheduledPeriod"]["start"] == item["start"]  # with the zone's offset
        assert detail["scheduledPeriod"].get("end") == item["end"]
        assert item["text"] in detail["description"]
    assert (
        plan["supportingInfo"][0]["reference"] == resources(bundle)["DocumentReference"]["fullUrl"]
    )
    assert plan["instantiatesCanonical"] == [
        f"urn:mesocare:PlanDefinition:mesotherapy-care|{handout['rules_version']}"
    ]


def test_entries_are_conditional_updates_by_identifier(bundle):
    for entry in bundle["entry"]:
        kind = entry["resource"]["resourceType"]
        ident = entry["resource"]["identifier"][0]
        assert entry["request"] == {
            "method": "PUT",
            "url": f"{kind}?identifier={ident['system']}|{ident['value']}",
        }


def test_same_appointment_keeps_its_identifiers_when_made_again_or_moved(bundle):
    ids = [e["request"]["url"] for e in bundle["entry"]]
    again = prep(
        "--date",
        "2026-06-10",
        "--time",
        "10:00",
        "--patient-id",
        "P-1",
        "--appointment-id",
        "A-1",
        "--lang",
        "fr",
    )
    assert again == bundle  # the same day: the same bytes
    moved = prep(
        "--date", "2026-06-12", "--time", "15:00", "--patient-id", "P-1", "--appointment-id", "A-1"
    )
    assert [e["request"]["url"] for e in moved["entry"]] == ids  # replaces, never adds
    other = prep(
        "--date", "2026-06-10", "--time", "10:00", "--patient-id", "P-1", "--appointment-id", "A-2"
    )
    assert not {e["request"]["url"] for e in other["entry"]} & set(ids)


@pytest.mark.parametrize("missing", ["--patient-id", "--appointment-id"])
def test_prep_without_ids_is_bad_input_and_names_the_option(missing, tmp_path):
    args = {"--patient-id": "P-1", "--appointment-id": "A-1"}
    del args[missing]
    out = tmp_path / "x.json"
    result = run_cli(
        *PREP, "--date", "2026-06-10", *(v for kv in args.items() for v in kv), "--out", out
    )
    assert result.exit_code == 1
    assert missing in result.stderr and not out.exists()


def test_batch_gives_one_valid_bundle_per_appointment_from_a_fhir_schedule(tmp_path):
    result = run_cli(
        "batch",
        DATA / "appointments-bundle.json",
        "--format",
        "fhir",
        "--today",
        "2024-06-01",
        "--tz",
        "Europe/London",
    )
    lines = result.stdout.splitlines()
    assert lines and result.exit_code in (0, 3), result.output
    for line in lines:
        b = json.loads(line)
        Bundle.model_validate(b)
        doc = resources(b)["DocumentReference"]["resource"]
        assert doc["subject"]["reference"].startswith("Patient/")  # the schedule's own Patient
        assert doc["context"]["related"][0]["reference"].startswith("Appointment/")
    folder = run_cli(
        "batch",
        DATA / "appointments-bundle.json",
        "--format",
        "fhir",
        "--today",
        "2024-06-01",
        "--tz",
        "Europe/London",
        "--out",
        f"{tmp_path}/out/",
    )
    files = sorted((tmp_path / "out").glob("*.fhir.json"))
    assert folder.exit_code == result.exit_code and len(files) == len(lines)


def test_batch_rows_without_ids_are_skipped_and_named(tmp_path):
    csv = tmp_path / "day.csv"
    csv.write_text(
        "date,time,area,name,patient_id,appointment_id\n"
        "2026-06-10,10:00,face,Ann Secret,P-1,A-1\n"
        "2026-06-10,11:00,face,Bob Secret,P-2,\n"
        "2026-06-10,12:00,face,Cy Secret,,A-3\n"
    )
    result = run_cli(
        "batch", csv, "--format", "fhir", "--today", "2026-06-01", "--tz", "Europe/London"
    )
    assert result.exit_code == 3
    assert len(result.stdout.splitlines()) == 1
    assert "row 3, appointment_id" in result.stderr and "row 4, patient_id" in result.stderr
    assert "Secret" not in result.stderr


def test_rules_export_is_a_valid_plan_definition_with_an_action_per_rule():
    result = run_cli("rules", "export", "--format", "fhir")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    PlanDefinition.model_validate(plan)
    listed = json.loads(run_cli("rules", "list", "--format", "json").stdout)
    rule_ids = [r["id"] for r in listed["rules"]]
    actions = {a["id"]: a for a in plan["action"]}
    assert sorted(actions) == sorted(["treatment", *rule_ids])
    assert plan["version"] == listed["rules_version"]
    medrol = actions["medrol"]
    assert "prescribed" in medrol["condition"][0]["expression"]["expression"]
    ginkgo = actions["ginkgo-biloba"]["relatedAction"][0]
    assert ginkgo["relationship"] == "before-start" and ginkgo["offsetDuration"]["value"] > 0
    showers = actions["showers"]["relatedAction"][0]
    assert showers == {
        "actionId": "treatment",
        "relationship": "after-end",
        "offsetDuration": {
            "value": 48,
            "unit": "hours",
            "system": "http://unitsofmeasure.org",
            "code": "h",
        },
    }


def test_rules_export_rejects_other_formats():
    assert run_cli("rules", "export", "--format", "json").exit_code == 1


def test_ids_that_are_not_fhir_ids_are_looked_up_by_identifier():
    odd = prep(
        "--date", "2026-06-10", "--patient-id", "P 1/x?y", "--appointment-id", "Appointment/A 1"
    )
    doc = resources(odd)["DocumentReference"]["resource"]
    assert doc["subject"]["reference"] == "Patient?identifier=urn:mesocare:patient-id|P%201/x%3Fy"
    assert doc["context"]["related"][0] == {
        "identifier": {"system": "urn:mesocare:appointment-id", "value": "Appointment/A 1"}
    }
    Bundle.model_validate(odd)


IDS = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None)
@given(patient=IDS, appointment=IDS, name=IDS)
def test_any_ids_make_a_valid_bundle_whose_urls_they_cannot_change(
    ruleset, patient, appointment, name
):
    from urllib.parse import unquote

    clinic = Clinic(timezone="Europe/London")
    request = Request(
        date=date(2026, 6, 10),
        areas=("face",),
        time=time(10),
        name=name,
        patient_id=patient,
        appointment_id=appointment,
    )
    h = build_handout(request, ruleset, clinic, date(2026, 6, 1))
    b = fhir_bundle.bundle(h, b"%PDF-1.7", "text", datetime(2026, 6, 1, tzinfo=UTC))
    Bundle.model_validate(b)
    subject = resources(b)["DocumentReference"]["resource"]["subject"]["reference"]
    for url in [subject] + [e["request"]["url"] for e in b["entry"]]:
        _, _, query = url.partition("?")
        if not query:
            continue
        assert not set(query) & set("&# \t\r\n"), url
        _, sep, value = query.removeprefix("identifier=").partition("|")
        assert sep and "|" not in value
    if subject.startswith("Patient?"):
        raw = subject.partition("|")[2]
        assert re.sub(r"\\(.)", r"\1", unquote(raw)) == patient
