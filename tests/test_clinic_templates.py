"""A clinic's templates folder overrides ours template by template; the rest stay ours."""

from __future__ import annotations

from typer.testing import CliRunner

from mesocare.cli import app
from mesocare.resources import templates_dir


def test_clinic_template_overrides_ours_and_keeps_the_rest(tmp_path, monkeypatch):
    monkeypatch.delenv("MESOCARE_CLINIC", raising=False)
    (tmp_path / "templates").mkdir()
    # the clinic replaces only the text handout, reusing our data
    (tmp_path / "templates" / "handout.txt.j2").write_text(
        "{{ clinic.name }} - our own layout\n{% for s in sections %}{{ s.title }}: "
        "{{ s.items | length }}\n{% endfor %}"
    )
    cfg = tmp_path / "mesocare.yaml"
    cfg.write_text("name: Harbour Skin Clinic\ntimezone: Europe/London\ntemplates_dir: templates\n")
    args = [
        "prep",
        "--clinic",
        str(cfg),
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--today",
        "2024-06-01",
    ]
    text = CliRunner().invoke(app, [*args, "--format", "text"])
    assert text.exit_code == 0, text.stderr
    assert text.stdout.startswith(
        "Harbour Skin Clinic - our own layout\nBefore your appointment: 6"
    )
    html = CliRunner().invoke(app, [*args, "--format", "html"])
    assert "<!DOCTYPE html>" in html.stdout  # ours, untouched


def test_a_broken_clinic_template_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.delenv("MESOCARE_CLINIC", raising=False)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "handout.txt.j2").write_text("line one\n{% for x in %}\n")
    (tmp_path / "templates" / "handout.md.j2").write_text("{{ no_such_value }}\n")
    cfg = tmp_path / "mesocare.yaml"
    cfg.write_text("name: X\ntimezone: UTC\ntemplates_dir: templates\n")
    base = [
        "prep",
        "--clinic",
        str(cfg),
        "--date",
        "2024-06-10",
        "--area",
        "face",
        "--today",
        "2024-06-01",
        "--out",
    ]
    r = CliRunner().invoke(app, [*base, str(tmp_path / "h.txt")])
    assert r.exit_code == 1 and "handout.txt.j2, line 2: template syntax error" in r.stderr
    r = CliRunner().invoke(app, [*base, str(tmp_path / "h.md")])
    assert r.exit_code == 1 and "uses a value that does not exist" in r.stderr
    assert not (tmp_path / "h.txt").exists() and not (tmp_path / "h.md").exists()


def test_our_templates_are_all_listed_in_the_clinic_readme_that_init_writes(tmp_path):
    r = CliRunner().invoke(app, ["init", str(tmp_path / "clinic")])
    assert r.exit_code == 0
    readme = (tmp_path / "clinic" / "templates" / "README.md").read_text()
    for t in templates_dir().glob("*.j2"):
        assert t.name in readme
