"""Languages through the command line: --lang, the clinic config's language and languages,
rules list and rules check, plan, and errors for languages mesocare does not write."""

from __future__ import annotations

import json
import textwrap

import pytest

from conftest import run_cli

LONDON = ["--tz", "Europe/London", "--today", "2024-06-01"]


pytestmark = pytest.mark.usefixtures("no_clinic_env")


run = run_cli


@pytest.mark.parametrize(
    "tag, words",
    [
        ("fr", "À partir du vendredi 31 mai 2024"),
        ("fr-CA", "À partir du vendredi 31 mai 2024"),
        ("es", "A partir del viernes, 31 de mayo de 2024"),
        ("es_mx", "A partir del viernes, 31 de mayo de 2024"),
        ("it", "Da venerdì 31 maggio 2024"),
        ("pt", "A partir de sexta-feira, 31 de maio de 2024"),
        ("pt-BR", "A partir de sexta-feira, 31 de maio de 2024"),
        ("de", "Ab Freitag, 31. Mai 2024"),
        ("en-US", "From Friday, May 31, 2024"),
    ],
)
def test_prep_lang(tag, words):
    r = run(
        "prep", "--date", "2024-06-10", "--area", "face", "--lang", tag, "--format", "text", *LONDON
    )
    assert r.exit_code == 0, r.stderr
    assert words in r.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["prep", "--date", "2024-06-10", "--area", "face"],
        ["plan", "--date", "2024-06-10", "--sessions", "3"],
        ["rules", "list"],
    ],
)
def test_an_unknown_language_is_one_sentence_and_exit_1(command):
    r = run(*command, "--lang", "tlh", *(LONDON if command[0] != "rules" else []))
    assert r.exit_code == 1
    lines = [line for line in r.stderr.splitlines() if "warning" not in line]
    assert lines == [
        "mesocare: 'tlh' is not a language mesocare writes handouts in: "
        "use one of en, fr, es, it, pt, de,"
        " optionally with a region such as fr-CA or pt-BR."
    ]


def test_json_says_the_language_and_keeps_ids_and_times():
    en = json.loads(
        run(
            "prep",
            "--date",
            "2024-06-10",
            "--time",
            "10:00",
            "--area",
            "face",
            "--format",
            "json",
            *LONDON,
        ).stdout
    )
    fr = json.loads(
        run(
            "prep",
            "--date",
            "2024-06-10",
            "--time",
            "10:00",
            "--area",
            "face",
            "--format",
            "json",
            "--lang",
            "fr",
            *LONDON,
        ).stdout
    )
    assert en["language"] == "en-GB" and fr["language"] == "fr-FR"
    assert [(i["rule"], i["start"], i["end"], i["status"]) for i in en["items"]] == [
        (i["rule"], i["start"], i["end"], i["status"]) for i in fr["items"]
    ]
    assert fr["items"][0]["when"] == "À partir du vendredi 31 mai 2024"


def clinic(tmp_path, body: str):
    path = tmp_path / "mesocare.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return str(path)


def test_the_clinic_config_language(tmp_path):
    path = clinic(
        tmp_path,
        """\
        name: Clinique du Port
        phone: 01 23 45 67 89
        timezone: Europe/Paris
        language: fr
    """,
    )
    r = run(
        "prep",
        "--clinic",
        path,
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--today",
        "2024-06-01",
        "--format",
        "text",
    )
    assert r.exit_code == 0 and "Téléphone\u00a0: 01 23 45 67 89" in r.stdout
    # --lang wins over the config
    r = run(
        "prep",
        "--clinic",
        path,
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--today",
        "2024-06-01",
        "--lang",
        "de",
        "--format",
        "text",
    )
    assert "Telefon: 01 23 45 67 89" in r.stdout


@pytest.mark.parametrize(
    "body, where",
    [
        ("language: klingon\n", "line 1, field 'language'"),
        ("languages: [fr, xx]\n", "field 'languages.1'"),
    ],
)
def test_a_bad_language_in_the_config_names_file_line_and_field(tmp_path, body, where):
    path = clinic(tmp_path, body)
    r = run("prep", "--clinic", path, "--date", "2024-06-10", "--area", "face", *LONDON)
    assert r.exit_code == 1
    assert where in r.stderr and "mesocare.yaml" in r.stderr


def test_the_default_clinic_name_is_translated():
    r = run(
        "prep",
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--lang",
        "es",
        "--format",
        "text",
        *LONDON,
    )
    assert r.stdout.startswith("SU CLÍNICA DE MESOTERAPIA")


def test_rules_list_in_french():
    r = run("rules", "list", "--lang", "fr", "--format", "json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    showers = next(x for x in data["rules"] if x["id"] == "showers")
    assert showers["text"] == "Ne prenez pas de douche ni de bain chaud."


CLINIC_RULE = """\
rules:
  - id: no-alcohol
    name: alcohol
    phase: before
    window: {before: 24h}
    text: Do not drink alcohol.
    reason: Alcohol can make bruising worse.
    source: Harbour Skin Clinic protocol 3
    basis: clinic-policy
    reviewed_on: 2026-11-01
    reviewed_by: Dr A. Example
"""


def test_rules_check_reports_every_missing_translation_for_the_clinics_languages(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "ours.yaml").write_text(CLINIC_RULE, encoding="utf-8")
    path = clinic(
        tmp_path,
        """\
        name: Harbour Skin Clinic
        timezone: Europe/London
        rules_dir: rules
        languages: [en, fr, de]
    """,
    )
    r = run("rules", "check", "--clinic", path)
    assert r.exit_code == 1
    missing = [line for line in r.stdout.splitlines() if "has no" in line]
    assert len(missing) == 6  # name, text and reason, in French and in German
    assert all("rules/ours.yaml" in line and "'no-alcohol'" in line for line in missing)
    assert (
        sum("French" in line for line in missing) == 3
        and sum("German" in line for line in missing) == 3
    )
    # a handout in French names the rule, the file and the language, and prints nothing
    r = run(
        "prep",
        "--clinic",
        path,
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--lang",
        "fr",
        "--today",
        "2024-06-01",
    )
    assert r.exit_code == 1 and r.stdout == ""
    assert "ours.yaml" in r.stderr and "'no-alcohol'" in r.stderr and "French" in r.stderr
    # translated: check passes, and the French handout has the clinic's French text
    (tmp_path / "rules" / "lang").mkdir()
    for code, text in (("fr", "Ne buvez pas d'alcool."), ("de", "Trinken Sie keinen Alkohol.")):
        (tmp_path / "rules" / "lang" / f"{code}.yaml").write_text(
            f'rules:\n  no-alcohol: {{name: x, text: "{text}", reason: y}}\n', encoding="utf-8"
        )
    r = run("rules", "check", "--clinic", path)
    assert r.exit_code == 0, r.stdout
    r = run(
        "prep",
        "--clinic",
        path,
        "--date",
        "2024-06-10",
        "--time",
        "10:00",
        "--area",
        "face",
        "--lang",
        "fr",
        "--today",
        "2024-06-01",
        "--format",
        "text",
    )
    assert r.exit_code == 0, r.stderr
    assert "Ne buvez pas d'alcool. (règle de la clinique)" in r.stdout


def test_plan_in_german():
    r = run(
        "plan", "--date", "2024-06-10", "--sessions", "3", "--every", "1m", "--lang", "de", *LONDON
    )
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [
        "3 Sitzungen, jeden Monat; keine Schließtage.",
        "  1  Montag, 10. Juni 2024",
        "  2  Mittwoch, 10. Juli 2024",
        "  3  Samstag, 10. August 2024",
        "Die Behandlungsreihe endet am Samstag, 10. August 2024.",
    ]


def test_batch_lang_and_cover(tmp_path):
    csv = tmp_path / "day.csv"
    csv.write_text(
        "date,time,area,name\n2024-06-10,10:00,face,Ana\n2024-06-10,11:00,hands,Bo\n",
        encoding="utf-8",
    )
    r = run("batch", str(csv), "--format", "text", "--lang", "it", *LONDON)
    assert r.exit_code == 0, r.stderr
    assert "PRIMA DELL'APPUNTAMENTO" in r.stdout and "Da venerdì 31 maggio 2024" in r.stdout
    assert (
        "DA CHIAMARE PRIMA DELL'APPUNTAMENTO" in r.stdout
    )  # --lang: the run's language, cover included


def test_batch_per_patient_language_from_the_schedule(tmp_path):
    csv = tmp_path / "day.csv"
    csv.write_text(
        "date,time,area,name,language\n"
        "2024-06-10,09:00,face,Ana,fr\n"
        "2024-06-10,10:00,face,Bo,\n"
        "2024-06-10,11:00,hands,Cy,es-MX\n"
        "2024-06-10,12:00,neck,Di,tlh\n"
        "2024-06-10,13:00,body,Ed,pt_BR\n",
        encoding="utf-8",
    )
    r = run("batch", str(csv), "--format", "json", *LONDON)
    assert r.exit_code == 3  # the row in a language mesocare does not write is skipped, and named
    assert [h["language"] for h in json.loads(r.stdout)] == ["fr-FR", "en-GB", "es-MX", "pt-BR"]
    # the value is not quoted: a shifted row can put a name in the language column
    assert "row 5, language: the language is not a language mesocare writes handouts in" in r.stderr
    assert "Di" not in r.stderr  # never the patient's name
    r = run("batch", str(csv), "--format", "text", *LONDON)
    cover = r.stdout.split("\f")[0]
    assert (
        "(French (France))" in cover
        and "(Spanish (Mexico))" in cover
        and "(Portuguese (Brazil))" in cover
    )


@pytest.mark.parametrize(
    ("lang", "every", "words"),
    [
        ("en", "1w", "3 sessions, every week;"),
        ("en", "2w", "3 sessions, every 2 weeks;"),
        ("de", "1d", "3 Sitzungen, jeden Tag;"),
        ("de", "2w", "3 Sitzungen, alle 2 Wochen;"),
        ("fr", "1m", "3 séances, tous les mois\u00a0;"),
        ("es", "1w", "3 sesiones, cada semana;"),
        ("it", "3w", "3 sedute, ogni 3 settimane;"),
        ("pt", "1m", "3 sessões, todos os meses;"),
    ],
)
def test_plan_says_every_week_not_every_1_week(lang, every, words):
    r = run(
        "plan", "--date", "2024-06-10", "--sessions", "3", "--every", every, "--lang", lang, *LONDON
    )
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0].startswith(words), r.stdout


@pytest.mark.parametrize(
    ("country", "zone", "first", "lang", "name"),
    [
        ("FR", "Europe/Paris", "2024-07-07", "fr", "Fête nationale"),
        ("FR", "Europe/Paris", "2024-07-07", "en-GB", "National Day"),
        (
            "FR",
            "Europe/Paris",
            "2024-07-07",
            "de",
            "Fête nationale",
        ),  # no German names: France's own
        ("ES", "Europe/Madrid", "2024-08-08", "es", "Asunción de la Virgen"),
        ("ES", "Europe/Madrid", "2024-08-08", "en-US", "Assumption Day"),
        ("BR", "America/Sao_Paulo", "2024-08-31", "pt-BR", "Independência do Brasil"),
    ],
)
@pytest.mark.parametrize("machine_locale", ["C.UTF-8", "de_DE.UTF-8", "fr_FR.UTF-8"])
def test_holiday_names_follow_the_plan_language_not_the_machine(
    tmp_path, monkeypatch, country, zone, first, lang, name, machine_locale
):
    """A session moved off a public holiday names it in the plan's language where the holidays
    package has it, else in the country's own; never in the machine's locale (LANG)."""
    monkeypatch.setenv("LANG", machine_locale)
    monkeypatch.delenv("LANGUAGE", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(
        f"name: Test\ntimezone: {zone}\nholidays_country: {country}\n", encoding="utf-8"
    )
    r = run(
        "plan",
        "--date",
        first,
        "--sessions",
        "2",
        "--every",
        "1w",
        "--clinic",
        str(clinic),
        "--today",
        "2024-06-01",
        "--lang",
        lang,
    )
    assert r.exit_code == 0, r.stderr
    assert name in r.stdout.splitlines()[2], r.stdout
