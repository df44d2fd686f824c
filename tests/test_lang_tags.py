"""One tag parser (langcodes, in mesocare.lang.tags) for --lang, the clinic config and every
schedule reader: BCP 47 tags with a script or extensions name their language; '' and other
non-tags are a usage error naming the option (exit 2) or the file, line and field (exit 1)."""

from __future__ import annotations

import json

import langcodes
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cli
from mesocare.lang import LanguageError, NotATag, parse_tag
from mesocare.lang.tags import _OURS, LANGUAGES

pytestmark = pytest.mark.usefixtures("no_clinic_env")

PREP = [
    "prep",
    "--date",
    "2026-12-10",
    "--time",
    "10:00",
    "--area",
    "face",
    "--tz",
    "Europe/London",
    "--today",
    "2026-12-01",
    "--format",
    "json",
]
READ_AS = [
    ("fr-Latn-FR", "fr-FR"),
    ("de-DE-u-fw-sun", "de-DE"),
    ("pt-BR", "pt-BR"),
    ("en", "en-GB"),
    ("fr", "fr-FR"),
    ("pt_br", "pt-BR"),
    ("FR-ca", "fr-CA"),
    ("fre", "fr-FR"),
    ("es-419", "es-419"),
    ("en-GB-oxendict", "en-GB"),
    ("it-x-clinic", "it-IT"),
    ("de-Latn", "de-DE"),
]


@pytest.mark.parametrize("raw, tag", READ_AS)
def test_a_tag_is_read_as_the_language_it_names(raw, tag):
    assert parse_tag(raw).tag == tag


@pytest.mark.parametrize("raw, tag", READ_AS)
def test_lang_option_reads_any_bcp47_tag(raw, tag):
    result = run_cli(*PREP, "--lang", raw)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["language"] == tag


@pytest.mark.parametrize(
    "raw", ["", " ", "Zelda Quixote", "fr--FR", "x", "123", "-", "fr-", "\udcff"]
)
def test_lang_option_that_is_no_tag_is_a_usage_error_naming_the_option(raw):
    result = run_cli(*PREP, "--lang", raw)
    assert result.exit_code == 2, result.output
    assert "'--lang'" in result.output and "not a language tag" in result.output
    assert "Zelda" not in result.output and "\udcff" not in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("raw", ["", " ", "Zelda", "fr--FR", "123", "und"])
def test_a_value_that_is_no_tag_is_not_a_tag(raw):
    with pytest.raises(NotATag):
        parse_tag(raw)


@pytest.mark.parametrize("raw", ["ja", "fr-Cyrl", "fr-XX"])
def test_lang_option_with_a_language_we_do_not_write_is_bad_input(raw):
    result = run_cli(*PREP, "--lang", raw)
    assert result.exit_code == 1, result.output
    assert "mesocare writes" in result.output or "not a region" in result.output


def test_the_shortcut_for_our_own_tags_agrees_with_langcodes():
    for text, (language, region) in _OURS.items():
        parsed = langcodes.Language.get(text, normalize=True)
        assert (parsed.language, parsed.territory) == (language, region)


tags = st.builds(
    lambda lang, script, region, variant, ext, sep: sep.join(
        p for p in (lang, script, region, variant, ext) if p
    ),
    st.sampled_from([*sorted(LANGUAGES), "fre", "ger", "spa", "por", "ita", "eng"]),
    st.sampled_from([None, "Latn", "latn"]),
    st.sampled_from([None, "FR", "ca", "BR", "419", "MX", "ch"]),
    st.sampled_from([None, "1996", "fonipa"]),
    st.sampled_from([None, "u-fw-sun", "u-ca-gregory", "x-clinic"]),
    st.sampled_from(["-", "_"]),
)


@given(tags)
@settings(max_examples=200, deadline=None)
def test_any_tag_of_a_language_we_write_reads_as_that_language(tag):
    parsed = langcodes.Language.get(tag.replace("_", "-"), normalize=True)
    read = parse_tag(tag)
    assert read.language == parsed.language
    assert read.region == (parsed.territory or LANGUAGES[parsed.language])


@given(st.text(max_size=30))
@settings(max_examples=300, deadline=None)
def test_any_text_is_a_tag_of_ours_or_one_language_error(text):
    try:
        tag = parse_tag(text)
    except LanguageError:
        return
    assert tag.language in LANGUAGES


@pytest.mark.parametrize(
    "value, exit_code, problem",
    [
        ('"fr-Latn-FR"', 0, "fr-FR"),
        ('"de-DE-u-fw-sun"', 0, "de-DE"),
        ('""', 1, "not a language tag"),
        ('"Zelda"', 1, "not a language tag"),
        ("ja", 1, "mesocare writes"),
    ],
)
def test_the_clinic_configs_language_is_read_by_the_same_parser(
    tmp_path, value, exit_code, problem
):
    config = tmp_path / "mesocare.yaml"
    config.write_text(
        f"name: Harbour\ntimezone: Europe/London\nphone: '1'\nlanguage: {value}\n", encoding="utf-8"
    )
    result = run_cli(*PREP, "--clinic", config)
    assert result.exit_code == exit_code, result.output
    if exit_code:
        assert (
            "mesocare.yaml, line 4, field 'language': " in result.output
            and problem in result.output
        )
    else:
        assert json.loads(result.stdout)["language"] == problem


def test_a_schedules_language_is_read_by_the_same_parser(tmp_path):
    schedule = tmp_path / "day.csv"
    schedule.write_text(
        "date,time,area,language\n2026-12-10,10:00,face,fr-Latn-FR\n"
        "2026-12-10,11:00,face,de-DE-u-fw-sun\n2026-12-10,12:00,face,Zelda\n",
        encoding="utf-8",
    )
    result = run_cli(
        "batch", schedule, "--tz", "Europe/London", "--today", "2026-12-01", "--format", "json"
    )
    assert result.exit_code == 3, result.output
    assert [h["language"] for h in json.loads(result.stdout)] == ["fr-FR", "de-DE"]
    assert "row 4, language: the language is not a language tag" in result.stderr
    assert "Zelda" not in result.stderr
