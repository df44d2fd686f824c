"""Issue 22, part 1: the English source as the clinician who signs it reads it.

Every variant of a handout (each area, technique, prescription, course, timed or not, late,
past) is rendered through the command line and read for what a patient must never see: a
step and its opposite at the same time on the same area, a painkiller that reads as "any
painkiller", injections for a technique that has none, "until your last session" without
a way out for a single session, a double negative on the calendar. The emergency number is
on every handout, in every format, beside the clinic's phone.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from itertools import product

import pytest

from conftest import run_cli
from mesocare.vocab import AREAS, TECHNIQUES

TODAY = "2024-06-01"
AREA_SETS = [*AREAS, "face+body", "neck+hands", "face+hands"]
COURSES = [  # sessions, every, course_end
    ("", "", ""),  # unknown: "until your last session"
    ("1", "", ""),  # a single session
    ("3", "4w", ""),
    ("", "", "2024-09-30"),
]


def _variants() -> list[dict]:
    rows = []
    for n, (area, technique) in enumerate(product(AREA_SETS, TECHNIQUES)):
        for k, (sessions, every, course_end) in enumerate(COURSES):
            past = (n + k) % 7 == 0
            rows.append(
                {
                    "date": "2024-05-20" if past else "2024-06-10",
                    "time": "" if (n + k) % 2 else "10:00",
                    "area": area,
                    "name": f"Patient {n}-{k}",
                    "technique": technique,
                    "prescribed": "medrol,lasix" if k % 2 else "",
                    "booked_on": "2024-06-05" if k == 2 else "2024-05-01",
                    "sessions": sessions,
                    "every": every,
                    "course_end": course_end,
                }
            )
    return rows


@pytest.fixture(scope="module")
def handouts(tmp_path_factory) -> list[dict]:
    folder = tmp_path_factory.mktemp("variants")
    schedule = folder / "schedule.csv"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(_variants()[0]))
    writer.writeheader()
    writer.writerows(_variants())
    schedule.write_text(out.getvalue(), encoding="utf-8")
    result = run_cli(
        "batch", schedule, "--format", "json", "--tz", "Europe/London", "--today", TODAY
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data) == len(_variants())
    return data


@pytest.fixture(scope="module")
def rules() -> dict[str, dict]:
    result = run_cli("rules", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    return {r["id"]: r for r in json.loads(result.stdout)["rules"]}


def _span(item: dict) -> tuple[datetime, datetime | None]:
    end = datetime.fromisoformat(item["end"]) if item["end"] else None
    return datetime.fromisoformat(item["start"]), end


def _meet(a: dict, b: dict) -> bool:
    (a0, a1), (b0, b1) = _span(a), _span(b)
    return (b1 is None or a0 < b1) and (a1 is None or b0 < a1)


def _acts_on(rule: dict, areas: list[str]) -> set[str]:
    return set(areas) & set(rule["areas"] or areas)


def test_the_variants_cover_every_area_technique_prescription_course_and_state(handouts):
    assert {a for h in handouts for a in h["appointment"]["areas"]} == set(AREAS)
    assert {h["appointment"]["technique"] for h in handouts} == set(TECHNIQUES)
    assert any(h["appointment"]["prescribed"] for h in handouts)
    assert any(i["late"] for h in handouts for i in h["items"])
    assert any(h["banners"] for h in handouts if h["appointment"]["date"] < TODAY)
    assert {h["appointment"]["timed"] for h in handouts} == {True, False}


def test_no_handout_asks_and_forbids_the_same_thing_at_the_same_time_on_the_same_area(
    handouts, rules
):
    pairs = []
    for h in handouts:
        areas = h["appointment"]["areas"]
        for a, f in product(h["items"], h["items"]):
            concepts = set(rules[a["rule"]]["asks"]) & set(rules[f["rule"]]["forbids"])
            if (
                concepts
                and _meet(a, f)
                and _acts_on(rules[a["rule"]], areas) & _acts_on(rules[f["rule"]], areas)
            ):
                pairs.append((h["appointment"]["area"], a["rule"], f["rule"], sorted(concepts)))
    assert pairs == []


def test_arnica_and_no_creams_never_meet_and_each_names_the_face(handouts):
    for h in handouts:
        ids = {i["rule"] for i in h["items"]}
        areas = set(h["appointment"]["areas"])
        assert not {"arnica", "no-topicals-before"} <= ids, areas
        assert ("no-topicals-before" in ids) == ("face" in areas)
        assert ("arnica" in ids) == ("face" not in areas)
        for i in h["items"]:
            if i["rule"] == "no-topicals-before":
                assert "on your face" in i["text"]
            if i["rule"] == "arnica":
                assert "Never put it on your face." in i["text"]


def test_no_handout_reads_as_any_painkiller_is_fine(handouts):
    for h in handouts:
        words = " ".join(n["text"] for n in h["notes"])
        assert "from the pharmacy" not in words
        assert "ask us which one to take" in words
        assert "Avoid aspirin and anti-inflammatory painkillers" in words


def test_what_to_expect_follows_the_technique(handouts):
    for h in handouts:
        expect = " ".join(n["text"] for n in h["notes"] if n["section"] == "expect")
        technique = h["appointment"]["technique"]
        if technique == "needle":
            assert "many tiny injections" in expect
        else:
            assert "injection" not in expect, technique
        if technique == "microneedling":
            assert "12 to 36 tiny needles" in expect
        if technique == "needleless":
            assert "No needles are used" in expect and "electroporation" in expect
            assert "pricks" not in expect


def test_the_daily_water_rule_never_binds_a_single_session(handouts):
    for h in handouts:
        water = [i for i in h["items"] if i["rule"] == "water-daily"]
        if h["course"]["end"] is None:
            assert [i["end"] for i in water] == [None]
            assert water[0]["text"].endswith(
                "If you have only one session, you can skip this step."
            )
        elif h["course"]["end"] == h["appointment"]["date"]:  # --sessions 1: the course is that day
            assert water == []
        else:
            assert water and "skip" not in water[0]["text"]
    assert any(h["course"]["end"] == h["appointment"]["date"] for h in handouts)


def test_the_late_booking_banner_is_a_lead_and_a_list(tmp_path):
    result = run_cli(
        "prep",
        "--date",
        "2024-06-10",
        "--area",
        "body",
        "--tz",
        "Europe/London",
        "--booked",
        "2024-06-05",
        "--today",
        "2024-06-05",
        "--format",
        "text",
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("! IMPORTANT:"))
    steps = [line.strip() for line in lines[start : start + 12] if line.strip().startswith("- ")]
    assert steps[:2] == [
        "- ginkgo biloba (from Friday 31 May 2024)",
        "- willow bark (from Friday 31 May 2024)",
    ]
    assert len(steps) == 5
    assert "These steps had already started:" in " ".join(lines[start : start + 3])


# ----------------------------------------------------------------------------- emergency


@pytest.fixture()
def clinic_in(tmp_path):
    def make(country: str | None, phone: str = "020 7946 0000") -> str:
        path = tmp_path / f"clinic-{country}.yaml"
        text = f"name: Harbour Skin Clinic\nphone: {phone}\ntimezone: Europe/London\n"
        path.write_text(text + (f"country: {country}\n" if country else ""), encoding="utf-8")
        return str(path)

    return make


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "terminal", "json"])
@pytest.mark.parametrize(
    "country, lang, expected",
    [
        ("GB", "en", "call 999 or 112 at once"),
        ("US", "en-US", "call 911 at once"),
        ("FR", "fr", "appelez immédiatement le 15 ou le 112"),
        ("IT", "it", "chiami subito il 118 o il 112"),
        ("BR", "pt-BR", "ligue imediatamente para o 192"),
        ("DE", "de", "wählen Sie sofort die 112"),
        (None, "en", "call the emergency number at once"),
        ("JP", "en", "call the emergency number at once"),  # not in the facts: never guessed
    ],
)
def test_the_emergency_number_is_on_every_handout_beside_the_phone(
    clinic_in, fmt, country, lang, expected
):
    result = run_cli(
        "prep",
        "--clinic",
        clinic_in(country),
        "--lang",
        lang,
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--today",
        TODAY,
        "--format",
        fmt,
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    if fmt == "json":
        data = json.loads(result.stdout)
        assert expected in data["emergency"]["text"]
        assert data["emergency"]["numbers"] == {
            "GB": ["999", "112"],
            "US": ["911"],
            "FR": ["15", "112"],
            "IT": ["118", "112"],
            "BR": ["192"],
            "DE": ["112"],
        }.get(country, [])
        return
    assert expected in text
    assert text.index("020 7946 0000", text.index(expected) - 200) < text.index(expected)


def test_the_emergency_line_is_on_the_pdf(clinic_in, tmp_path):
    from pypdf import PdfReader

    out = tmp_path / "h.pdf"
    result = run_cli(
        "prep",
        "--clinic",
        clinic_in("GB"),
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--today",
        TODAY,
        "--format",
        "pdf",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    assert "Call us on 020 7946 0000." in text
    assert "call 999 or 112 at once" in text


def test_a_country_that_is_not_a_code_is_a_config_error(clinic_in):
    result = run_cli(
        "prep",
        "--clinic",
        clinic_in("Britain"),
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--today",
        TODAY,
    )
    assert result.exit_code == 1
    assert "field 'country'" in result.output and "ISO 3166" in result.output


# ----------------------------------------------------------------------------- calendar


def test_the_calendar_says_what_the_patient_may_do_again(tmp_path):
    result = run_cli(
        "prep",
        "--date",
        "2024-06-10",
        "--time",
        "10:00",
        "--area",
        "body",
        "--tz",
        "Europe/London",
        "--today",
        TODAY,
        "--format",
        "ics",
    )
    assert result.exit_code == 0, result.output
    text = result.stdout.replace("\r\n ", "").replace("\\,", ",")
    assert "no longer need to follow" not in text
    assert "This step ends now. You can take showers and hot baths again." in text
    assert "This step ends today. You can use hot tubs and saunas again." in text


def test_every_aftercare_rule_that_ends_says_what_the_patient_may_do_again(rules):
    for rule in rules.values():
        w = rule["window"]
        if rule["phase"] == "after" and w.get("after") != "open" and w.get("until") != "open":
            assert rule["resume"] and "not" not in rule["resume"].split(), rule["id"]


# ----------------------------------------------------------------------------- rules check


def _clinic_folder(tmp_path, rule: str, config: str = "") -> str:
    folder = tmp_path / "clinic"
    (folder / "rules").mkdir(parents=True)
    (folder / "rules" / "ours.yaml").write_text(rule, encoding="utf-8")
    (folder / "mesocare.yaml").write_text(
        "name: Test clinic\nrules_dir: rules\n" + config, encoding="utf-8"
    )
    return str(folder)


CREAMS_EVERYWHERE = """rules:
  - id: no-topicals-before
    name: lotions, creams, bath oils or sprays
    phase: day
    window: {on: treatment-day, until: appointment}
    text: Do not put lotions, creams, bath oils or sprays on the area to be treated.
    forbids: [topical-on-area]
    reason: Our protocol.
    source: our protocol
    basis: clinic-policy
    reviewed_on: 2026-11-24
    reviewed_by: Dr A
"""


def test_rules_check_reports_a_clinic_rule_that_forbids_what_ours_asks(tmp_path):
    result = run_cli(
        "rules", "check", _clinic_folder(tmp_path, CREAMS_EVERYWHERE), "--today", "2026-11-24"
    )
    assert result.exit_code == 1, result.output
    line = next(line for line in result.stdout.splitlines() if "asks for topical-on-area" in line)
    assert "rule 'arnica'" in line and "rule 'no-topicals-before'" in line
    assert "ours.yaml, line 2, field 'forbids'" in line


def test_rules_check_reports_two_clinic_rules_that_meet_and_not_those_apart(tmp_path):
    rules = """rules:
  - id: cool-compress
    name: a cool compress
    phase: after
    window: {after: 2d}
    text: Put a cool compress on the treated area.
    asks: [topical-on-area]
    reason: Our protocol.
    source: our protocol
    basis: clinic-policy
    reviewed_on: 2026-11-24
    reviewed_by: Dr A
  - id: night-serum
    name: the night serum
    phase: after
    window: {after_rule: topicals-after, until: 2w}
    areas: [face]
    text: Put the serum we gave you on your face each night.
    asks: [topical-on-area]
    reason: Our protocol.
    source: our protocol
    basis: clinic-policy
    reviewed_on: 2026-11-24
    reviewed_by: Dr A
"""
    result = run_cli("rules", "check", _clinic_folder(tmp_path, rules), "--today", "2026-11-24")
    assert result.exit_code == 1, result.output
    found = [line for line in result.stdout.splitlines() if "asks for" in line]
    assert len(found) == 1, found
    assert "rule 'cool-compress'" in found[0] and "rule 'topicals-after'" in found[0]


def test_our_rules_say_what_they_ask_and_forbid_and_pass_the_check(rules):
    assert "topical-on-area" in rules["arnica"]["asks"]
    assert "topical-on-area" in rules["no-topicals-before"]["forbids"]
    assert "topical-on-area" in rules["topicals-after"]["forbids"]
    assert {"aspirin", "nsaids"} <= {c for r in rules.values() for c in r["forbids"]}
    result = run_cli("rules", "check", "--format", "json", "--today", "2026-11-24")
    findings = json.loads(result.stdout)["findings"]
    assert [f for f in findings if f["field"] in ("asks", "forbids")] == []


def test_an_unknown_concept_is_a_schema_error_naming_the_line(tmp_path):
    rule = CREAMS_EVERYWHERE.replace("forbids: [topical-on-area]", "forbids: [lotion]")
    result = run_cli("rules", "check", _clinic_folder(tmp_path, rule), "--today", "2026-11-24")
    assert result.exit_code == 1
    line = next(
        line for line in result.stdout.splitlines() if "ours.yaml, line 7, field 'forbids" in line
    )
    assert "'lotion' is not allowed" in line and "'topical-on-area'" in line


# ----------------------------------------------------------------------------- reviews


def test_the_footer_says_who_reviewed_the_language_and_rules_check_lists_the_rest(tmp_path):
    config = (
        "languages:\n  fr: {reviewed_by: Dr Martin, reviewed_on: 2026-11-30}\n  de:\n  en-GB:\n"
    )
    folder = _clinic_folder(tmp_path, "rules: []\n", config)
    clinic = f"{folder}/mesocare.yaml"
    fr = run_cli(
        "prep",
        "--clinic",
        clinic,
        "--lang",
        "fr",
        "--date",
        "2026-12-10",
        "--area",
        "face",
        "--today",
        "2026-12-01",
        "--format",
        "text",
    )
    assert fr.exit_code == 0, fr.output
    assert "Texte en français relu par Dr Martin le lundi 30 novembre 2026." in " ".join(
        fr.stdout.split()
    )
    de = run_cli(
        "prep",
        "--clinic",
        clinic,
        "--lang",
        "de",
        "--date",
        "2026-12-10",
        "--area",
        "face",
        "--today",
        "2026-12-01",
        "--format",
        "text",
    )
    assert (
        "Maschinell unterstützt übersetzt; noch nicht von einer Fachperson geprüft, "
        "die Deutsch liest." in " ".join(de.stdout.split())
    )
    check = run_cli(
        "rules", "check", "--clinic", clinic, "--today", "2026-12-01", "--format", "json"
    )
    assert json.loads(check.stdout)["unreviewed_languages"] == ["de-DE", "en-GB"]
    text = run_cli("rules", "check", "--clinic", clinic, "--today", "2026-12-01")
    assert "Not yet reviewed by a clinician who reads the language: de-DE, en-GB" in text.stdout


def test_an_english_review_is_on_the_english_footer(tmp_path):
    config = "languages:\n  en-GB: {reviewed_by: Dr Jones, reviewed_on: 2026-11-30}\n"
    folder = _clinic_folder(tmp_path, "rules: []\n", config)
    result = run_cli(
        "prep",
        "--clinic",
        f"{folder}/mesocare.yaml",
        "--date",
        "2026-12-10",
        "--area",
        "face",
        "--today",
        "2026-12-01",
        "--format",
        "text",
    )
    assert "Text in this language reviewed by Dr Jones on Monday 30 November 2026." in " ".join(
        result.stdout.split()
    )


def test_the_rules_readme_of_a_new_clinic_lists_every_concept():
    from datetime import date

    from mesocare.scaffold import rules_readme
    from mesocare.vocab import CONCEPTS

    text = rules_readme(date(2026, 12, 1))
    assert [c for c in CONCEPTS if f"`{c}`" not in text] == []
    assert "`resume`" in text and "`asks` and `forbids`" in text


def test_rules_check_finds_sunscreen_on_the_day_creams_are_still_forbidden(tmp_path):
    """The seed's "no other creams for 2 days" as 2 calendar days overlaps the sunscreen that
    starts 48 hours after treatment: a cream asked for and forbidden on the same area and day."""
    rule = """rules:
  - id: topicals-after
    name: other creams or lotions
    phase: after
    window: {after: 2d}
    text: Do not put other creams or lotions on the treated area.
    forbids: [topical-on-area]
    reason: Our protocol.
    source: our protocol
    basis: clinic-policy
    reviewed_on: 2026-11-24
    reviewed_by: Dr A
"""
    result = run_cli("rules", "check", _clinic_folder(tmp_path, rule), "--today", "2026-11-24")
    assert result.exit_code == 1, result.output
    found = [line for line in result.stdout.splitlines() if "asks for topical-on-area" in line]
    assert len(found) == 1 and "rule 'spf30'" in found[0] and "rule 'topicals-after'" in found[0]


def test_loose_clothes_only_where_clothes_go(handouts):
    for h in handouts:
        ids = {i["rule"] for i in h["items"]}
        assert ("loose-clothing" in ids) == bool({"neck", "body"} & set(h["appointment"]["areas"]))
