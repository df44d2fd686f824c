"""The core's limits against hostile input (issue 13): YAML size, nesting and aliases; the
supported date range; zone names; joined areas; clinic folders that do not exist.

Each bad input is one MesocareError with one sentence (naming the file, line and field where
there is one), never a traceback, a hang or a silent guess.
"""

from __future__ import annotations

import time as clock
from dataclasses import replace
from datetime import date, time

import pytest
from typer.testing import CliRunner

from conftest import GOOD_RULE
from mesocare.batch import build_batch
from mesocare.cli import app
from mesocare.config.clinic import load_clinic
from mesocare.course import make_course, session_dates
from mesocare.dates import appointment_times, check_day, zone
from mesocare.errors import ConfigError, InputError, YamlError
from mesocare.handout import build_handout
from mesocare.model import Course, Request, Schedule, ScheduleRow
from mesocare.parse import parse_areas, parse_date, parse_every, parse_zone
from mesocare.resources import instructions_dir
from mesocare.rules import collect
from mesocare.vocab import AREAS, FIRST_DAY, LAST_DAY, PRESCRIPTIONS, Duration
from mesocare.yamlload import MAX_BYTES, MAX_DEPTH, MAX_NODES, load_yaml_with_lines

LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
)


def one_sentence(message: str) -> None:
    assert "\n" not in message and "Traceback" not in message and len(message) < 300, message


# ----------------------------------------------------------------------------- YAML


def test_billion_laughs_is_refused_quickly():
    started = clock.monotonic()
    with pytest.raises(YamlError) as e:
        load_yaml_with_lines(LAUGHS, "mesocare.yaml")
    assert clock.monotonic() - started < 5
    assert str(e.value).startswith("mesocare.yaml, line ") and f"{MAX_NODES:,} values" in str(
        e.value
    )
    one_sentence(str(e.value))


def test_a_few_aliases_are_fine():
    data, _ = load_yaml_with_lines("base: &b {area: face}\nother: *b\n", "x.yaml")
    assert data == {"base": {"area": "face"}, "other": {"area": "face"}}


def test_an_alias_inside_itself_is_refused():
    with pytest.raises(YamlError, match="refers to the value it is inside"):
        load_yaml_with_lines("a: &a [1, *a]\n", "x.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
        "".join(f"{'  ' * i}k{i}:\n" for i in range(MAX_DEPTH + 2)) + "  " * (MAX_DEPTH + 2) + "v",
    ],
)
def test_deep_nesting_is_refused(text):
    with pytest.raises(YamlError, match=f"more than {MAX_DEPTH} levels"):
        load_yaml_with_lines(text, "x.yaml")


def test_a_huge_file_is_refused(tmp_path):
    big = tmp_path / "mesocare.yaml"
    big.write_text("name: x\n" + "#" * (MAX_BYTES + 10) + "\n")
    with pytest.raises(ConfigError) as e:
        load_clinic(big)
    assert "larger than 1 MB" in str(e.value) and str(big) in str(e.value)


def test_a_huge_integer_is_one_sentence():
    with pytest.raises(YamlError, match="a value cannot be read"):
        load_yaml_with_lines("duration: " + "9" * 5000 + "\n", "x.yaml")


def test_billion_laughs_in_a_clinic_config_is_a_config_error(tmp_path):
    path = tmp_path / "mesocare.yaml"
    path.write_text(LAUGHS + "\nname: Harbour\n")
    with pytest.raises(ConfigError) as e:
        load_clinic(path)
    assert str(path) in str(e.value)
    one_sentence(str(e.value))


def test_billion_laughs_in_a_rule_file_is_a_rule_file_error(tmp_path):
    (tmp_path / "laughs.yaml").write_text(LAUGHS)
    ruleset, errors = collect([(tmp_path, "clinic")])
    assert ruleset is None and len(errors) == 1
    assert errors[0].file.endswith("laughs.yaml") and "values" in errors[0].problem


def _rule_errors(tmp_path, rule: str):
    (tmp_path / "ours.yaml").write_text(rule)
    ruleset, errors = collect([(instructions_dir(), "mesocare"), (tmp_path, "clinic")])
    assert ruleset is None
    return errors


def test_an_impossible_review_date_is_a_named_error(tmp_path):
    rule = GOOD_RULE + "    reviewed_on: 2024-02-30\n"
    (err,) = _rule_errors(tmp_path, rule)
    assert err.field == "reviewed_on" and err.line is not None
    assert "'2024-02-30' is not a real date" in err.problem


@pytest.mark.parametrize(
    "window",
    ["{before: 9999999d}", "{after: 600w}", "{after_rule: no-sunbathing, until: 9999999h}"],
)
def test_a_window_longer_than_ten_years_is_a_named_error(tmp_path, window):
    rule = (
        "\n".join(
            f"    window: {window}" if line.strip().startswith("window:") else line
            for line in GOOD_RULE.splitlines()
        )
        + "\n"
    )
    errors = _rule_errors(tmp_path, rule)
    assert any(
        e.field and e.field.startswith("window") and "too long" in e.problem for e in errors
    ), errors


# ----------------------------------------------------------------------------- dates


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"])
def test_dates_outside_the_range_are_refused(text):
    with pytest.raises(InputError, match="outside the dates mesocare works with"):
        parse_date(text, "--date")


def test_the_edges_of_the_range_are_computed(ruleset, london):
    for day in (FIRST_DAY, LAST_DAY):
        h = build_handout(Request(date=day, areas=("face",), time=time(10)), ruleset, london, day)
        assert h.start.date() == day


@pytest.mark.parametrize(
    "request_, today",
    [
        (Request(date=date(9999, 12, 31), areas=("face",)), date(2026, 1, 1)),
        (Request(date=date(1, 1, 1), areas=("face",)), date(2026, 1, 1)),
        (
            Request(
                date=date(2027, 1, 1),
                areas=("face",),
                course=Course(sessions=(date(2027, 1, 1),), end=date(9999, 12, 31)),
            ),
            date(2026, 1, 1),
        ),
        (Request(date=date(2027, 1, 1), areas=("face",)), date(9999, 12, 30)),
        (Request(date=date(2027, 1, 1), areas=("face",), booked=date(1, 1, 1)), date(2026, 1, 1)),
    ],
    ids=["date-9999", "date-1", "course-end-9999", "today-9999", "booked-1"],
)
def test_the_engine_refuses_dates_out_of_range(ruleset, london, request_, today):
    with pytest.raises(InputError) as e:
        build_handout(request_, ruleset, london, today)
    one_sentence(str(e.value))


def test_a_bad_row_is_skipped_not_the_batch(ruleset, london):
    rows = (
        ScheduleRow("row 2", Request(date=date(9999, 12, 31), areas=("face",))),
        ScheduleRow("row 3", Request(date=date(2027, 1, 4), areas=("face",))),
    )
    batch = build_batch(Schedule(rows=rows), ruleset, london, date(2027, 1, 1))
    assert len(batch.handouts) == 1
    (problem,) = batch.errors
    assert problem.position == "row 2" and "outside the dates" in problem.problem


@pytest.mark.parametrize("every", ["3000000d", "53w", "13m", "9999999999d"])
def test_an_interval_over_a_year_is_refused(every):
    with pytest.raises(InputError) as e:
        parse_every(every, "--every")
    one_sentence(str(e.value))


def test_a_course_past_the_last_day_is_refused():
    with pytest.raises(InputError, match="after 2999-12-31"):
        session_dates(date(2999, 1, 1), 5, Duration(12, "m"))
    with pytest.raises(InputError, match="course end"):
        make_course(date(2027, 1, 1), course_end=date(9999, 12, 31))


def test_every_is_a_duration_that_unpacks():
    assert parse_every("4w") == Duration(4, "w") and tuple(parse_every("1m")) == (1, "m")


def test_a_day_the_zone_skipped_is_an_error():
    for at in (None, time(10)):
        with pytest.raises(InputError, match="2011-12-30 does not exist in Pacific/Apia"):
            appointment_times(date(2011, 12, 30), at, 30, "Pacific/Apia")
    assert appointment_times(date(2011, 12, 31), None, 30, "Pacific/Apia").start.date() == date(
        2011, 12, 31
    )


def test_check_day_names_the_field():
    with pytest.raises(InputError, match=r"^booking date 0001-01-01 is outside"):
        check_day(date(1, 1, 1), "booking date")


# ----------------------------------------------------------------------------- zones


@pytest.mark.parametrize(
    "name",
    [
        "x" * 5000,
        "",
        "   ",
        "Europe",
        "America",
        "Europe/London/",
        "../etc/passwd",
        "/etc/localtime",
        "Europe/Lon don",
        "\x00",
    ],
)
def test_a_bad_zone_is_one_sentence(name):
    with pytest.raises(InputError) as e:
        parse_zone(name, "--tz")
    one_sentence(str(e.value))
    assert str(e.value).startswith("--tz ")
    with pytest.raises(InputError):
        zone(name)


def test_a_zone_folder_in_the_config_is_a_config_error(tmp_path):
    path = tmp_path / "mesocare.yaml"
    path.write_text("name: Harbour\ntimezone: Europe\n")
    with pytest.raises(
        ConfigError, match=r"line 2, field 'timezone'.*'Europe' is not a known time zone"
    ):
        load_clinic(path)


@pytest.mark.parametrize(
    "args",
    [
        ["prep", "--date", "2027-01-01", "--area", "face", "--tz", ""],
        ["prep", "--date", "2027-01-01", "--area", "face", "--tz", "Europe"],
        ["init", "new", "--tz", "Europe"],
        ["init", "new", "--tz", ""],
    ],
)
def test_the_cli_refuses_bad_zones_with_one_line(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MESOCARE_CLINIC", raising=False)
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 1, r.output
    assert r.stderr.startswith("mesocare: --tz ") and r.stderr.count("\n") == 1
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    "option, value",
    [
        ("--date", "9999-12-31"),
        ("--date", "0001-01-01"),
        ("--course-end", "9999-12-31"),
        ("--today", "9999-12-30"),
        ("--every", "3000000d"),
    ],
)
def test_the_cli_refuses_dates_out_of_range_with_one_line(option, value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MESOCARE_CLINIC", raising=False)
    args = ["prep", "--area", "face", "--tz", "Europe/London", option, value]
    if option != "--date":
        args += ["--date", "2027-01-04"]
    if option == "--every":
        args += ["--sessions", "3"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 1, r.output
    assert (
        r.stderr.startswith("mesocare: ")
        and r.stderr.count("\n") == 1
        and "Traceback" not in r.output
    )


# ----------------------------------------------------------------------------- areas and folders


@pytest.mark.parametrize("value", ["face+", "+face", "face,,neck", "face;", "+"])
def test_an_empty_part_of_a_joined_area_is_an_error(value):
    with pytest.raises(InputError, match="empty part"):
        parse_areas([value])


def test_joined_areas_still_work():
    assert parse_areas(["face+neck", "neck,scalp"]) == ("face", "neck", "scalp")


def test_an_empty_part_of_a_service_area_is_a_config_error(tmp_path):
    path = tmp_path / "mesocare.yaml"
    path.write_text("services:\n  FACE: {area: face+}\n")
    with pytest.raises(ConfigError, match=r"services.FACE.area|services"):
        load_clinic(path)


@pytest.mark.parametrize("key", ["rules_dir", "templates_dir"])
def test_a_clinic_folder_that_does_not_exist_is_a_config_error(tmp_path, key):
    path = tmp_path / "mesocare.yaml"
    path.write_text(f"name: Harbour\n{key}: nowhere\n")
    with pytest.raises(ConfigError) as e:
        load_clinic(path)
    assert f"line 2, field '{key}': the folder 'nowhere' does not exist" in str(e.value)
    (tmp_path / "nowhere").mkdir()
    assert load_clinic(path).name == "Harbour"


def test_the_vocabulary_is_the_schemas():
    from mesocare.config.schema import ServiceSpec
    from mesocare.rule_schema import RuleSpec

    assert AREAS == ("face", "neck", "body", "hands", "scalp")
    schema = RuleSpec.model_json_schema()
    assert tuple(schema["properties"]["prescription"]["anyOf"][0]["enum"]) == PRESCRIPTIONS
    assert ServiceSpec.model_json_schema()["properties"]["technique"]["enum"] == [
        "needle",
        "microneedling",
        "needleless",
    ]


def test_the_footer_names_the_clinician_who_signed_off(ruleset, london):
    from mesocare.render.view import footer

    h = build_handout(
        Request(date=date(2027, 1, 4), areas=("face",)), ruleset, london, date(2027, 1, 1)
    )
    assert "not yet reviewed by a clinician" in footer(h) and "last reviewed" not in footer(h)
    signed = build_handout(
        Request(date=date(2027, 1, 4), areas=("face",)),
        ruleset,
        replace(london, reviewed_by="Dr A. Example"),
        date(2027, 1, 1),
    )
    assert "reviewed by Dr A. Example" in footer(signed) and "not yet" not in footer(signed)


def test_reviewed_by_in_the_config_reaches_the_clinic(tmp_path):
    path = tmp_path / "mesocare.yaml"
    path.write_text("name: Harbour\nreviewed_by: Dr A. Example, medical director\n")
    assert load_clinic(path).reviewed_by == "Dr A. Example, medical director"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("48h", Duration(48, "h")),
        ("10 d", Duration(10, "d")),
        ("0h", Duration(0, "h")),
        ("2w", Duration(2, "w")),
    ],
)
def test_a_window_duration_is_parsed_once_for_every_module(text, expected):
    d = Duration.parse(text)
    assert d == expected and d.hours == expected.count * {"h": 1, "d": 24, "w": 168}[expected.unit]


@pytest.mark.parametrize("text", ["10x", "1m", "h", "-2d", "1" * 12 + "d", "3661d"])
def test_a_bad_window_duration_is_a_value_error(text):
    with pytest.raises(ValueError):
        Duration.parse(text)
