"""An unknown service is named by its code, from whichever field holds one: free text in an
earlier field (HL7 SCH-7 "office visit", a FHIR coding whose code is words) must not hide the
code in a later one (SCH-8 ov^office visit). Free text itself is never quoted."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cli

pytestmark = pytest.mark.usefixtures("no_clinic_env")

MSH = r"MSH|^~\&|DESK|HARBOUR|MESOCARE|HARBOUR|20261201091200||SIU^S12|M1|P|2.5"
BATCH = ["--tz", "Europe/London", "--today", "2026-12-01", "--format", "json"]


def hl7(tmp_path, sch7: str, sch8: str, ais3: str = ""):
    segments = [
        MSH,
        f"SCH|A1|F1|||||{sch7}|{sch8}|||^^30^20261210100000",
        "PID|1||C-1||Quixote^Zelda",
    ]
    if ais3:
        segments.append(f"AIS|1||{ais3}")
    path = tmp_path / "day.hl7"
    path.write_text("\r".join(segments) + "\r", encoding="utf-8")
    return run_cli("batch", path, *BATCH)


@pytest.mark.parametrize(
    "sch7, sch8, ais3, code, where",
    [
        ("office visit", "ov^office visit", "", "ov", "SCH-8"),
        ("^office visit", "OV-2^Office visit", "", "OV-2", "SCH-8"),
        ("Zelda Quixote visit", "X1", "", "X1", "SCH-8"),
        ("office visit", "ov^office visit", "consult room", "ov", "SCH-8"),
        ("ov^office visit", "", "", "ov", "SCH-7"),
        ("", "", "AIS9^visit", "AIS9", "AIS-3"),
    ],
)
def test_hl7_names_the_code_from_whichever_field_holds_one(tmp_path, sch7, sch8, ais3, code, where):
    result = hl7(tmp_path, sch7, sch8, ais3)
    assert result.exit_code == 3, result.output
    assert f"service code '{code}' (in {where};" in result.stderr
    assert "Zelda" not in result.stderr and "Quixote" not in result.stderr


def test_hl7_free_text_alone_is_not_quoted(tmp_path):
    result = hl7(tmp_path, "Zelda Quixote visit", "")
    assert result.exit_code == 3
    assert "the service in SCH-7" in result.stderr and "Zelda" not in result.stderr


def test_fhir_names_the_code_after_a_coding_of_words(tmp_path):
    appointment = {
        "resourceType": "Appointment",
        "status": "booked",
        "start": "2026-12-10T10:00:00Z",
        "serviceType": [{"coding": [{"code": "office visit"}, {"code": "ov"}]}],
        "participant": [{"actor": {"reference": "Patient/p1"}, "status": "accepted"}],
    }
    path = tmp_path / "day.json"
    path.write_text(json.dumps(appointment), encoding="utf-8")
    result = run_cli("batch", path, *BATCH)
    assert result.exit_code == 3, result.output
    assert "service code 'ov' is not in the clinic's service map" in result.stderr


codes = st.from_regex(r"[A-Z][A-Z0-9]{1,6}", fullmatch=True)
free = st.sampled_from(
    ["office visit", "follow up", "Zelda Quixote", "visit: face?", "consult (new)"]
)  # not code-like


@given(free, codes, st.booleans())
@settings(max_examples=30, deadline=None)
def test_any_free_text_before_a_code_leaves_the_code_named(text, code, in_text_component):
    import tempfile
    from pathlib import Path

    sch8 = f"{code}^{text}" if in_text_component else code
    with tempfile.TemporaryDirectory() as folder:
        result = hl7(Path(folder), text, sch8)
    assert result.exit_code == 3, result.output
    assert f"service code '{code}' (in SCH-8;" in result.stderr
