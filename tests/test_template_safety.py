"""Clinic templates are untrusted: they render sandboxed, and anything they do wrong is one
sentence naming the template file and line, exit 1, no traceback and no output file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mesocare.errors import TemplateError
from mesocare.render import templating

PREP = [
    "prep",
    "--date",
    "2030-06-10",
    "--area",
    "face",
    "--today",
    "2030-06-01",
    "--name",
    "Zelda Quixote",
]


def clinic_with(tmp_path, files: dict[str, bytes | str]):
    folder = tmp_path / "templates"
    folder.mkdir()
    for name, body in files.items():
        (folder / name).write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
    cfg = tmp_path / "mesocare.yaml"
    cfg.write_text("name: Harbour Skin Clinic\ntimezone: Europe/London\ntemplates_dir: templates\n")
    return cfg


def mesocare(tmp_path, *args):
    env = dict(os.environ, MESOCARE_CLINIC="")
    return subprocess.run(
        [sys.executable, "-m", "mesocare", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )


HOSTILE = {
    "os-system": ("{{ cycler.__init__.__globals__.os.system('touch PWNED') }}\n", "may not"),
    "subclasses": ("line one\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n", "may not"),
    "format-attr": ("{{ '{0.__class__}'.format(1) }}\n", "may not"),
    "huge-string": ("{{ 'x' * 100000000 }}\n", "may not"),
    "divide-by-zero": ("one\ntwo\n{{ 1/0 }}\n", "divides by zero"),
    "self-include": ('{% include "handout.txt.j2" %}\n', "includes or calls itself"),
    "missing-value": ("{{ no_such_value }}\n", "does not exist"),
    "syntax": ("line one\n{% for x in %}\n", "template syntax error"),
}
LINES = {
    "os-system": 1,
    "subclasses": 2,
    "format-attr": 1,
    "huge-string": 1,
    "divide-by-zero": 3,
    "self-include": 1,
    "missing-value": 1,
    "syntax": 2,
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_clinic_template_is_one_sentence_through_the_real_cli(tmp_path, case):
    body, says = HOSTILE[case]
    cfg = clinic_with(tmp_path, {"handout.txt.j2": body})
    out = tmp_path / "handout.txt"
    r = mesocare(tmp_path, *PREP, "--clinic", str(cfg), "--format", "text", "--out", str(out))
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert "Zelda" not in r.stderr  # never the patient's details
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f"handout.txt.j2, line {LINES[case]}" in lines[0] and says in lines[0], lines[0]
    assert not out.exists()
    assert not (tmp_path / "PWNED").exists() and not os.path.exists("PWNED")


def test_a_template_that_is_not_utf8_names_the_file_and_line(tmp_path):
    cfg = clinic_with(
        tmp_path,
        {
            "handout.txt.j2": "one\ntwo\nJos\xe9\n".encode("cp1252"),
            "handout.md.j2": "hello".encode("utf-16"),
        },
    )
    r = mesocare(tmp_path, *PREP, "--clinic", str(cfg), "--format", "text")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().endswith(
        "handout.txt.j2, line 3: the template is not UTF-8 text; save it as UTF-8."
    )
    r = mesocare(tmp_path, *PREP, "--clinic", str(cfg), "--format", "markdown")
    assert r.returncode == 1 and "handout.md.j2, line 1: the template is not UTF-8 text" in r.stderr


def test_a_hostile_pdf_template_is_stopped_too(tmp_path):
    cfg = clinic_with(
        tmp_path, {"handout.typ.j2": "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}\n"}
    )
    out = tmp_path / "h.pdf"
    r = mesocare(tmp_path, *PREP, "--clinic", str(cfg), "--out", str(out))
    assert r.returncode == 1 and "handout.typ.j2, line 1" in r.stderr and "may not" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists() and not (tmp_path / "PWNED").exists()


def test_html_templates_are_sandboxed_and_still_autoescape(tmp_path):
    cfg = clinic_with(tmp_path, {"handout.html.j2": "<p>{{ patient }}</p>{{ ''.__class__ }}\n"})
    r = mesocare(tmp_path, *PREP, "--clinic", str(cfg), "--format", "html")
    assert r.returncode == 1 and "handout.html.j2, line 1" in r.stderr


def test_our_own_templates_render_in_the_sandbox():
    env = templating.environment(None)
    from jinja2.sandbox import SandboxedEnvironment

    assert isinstance(env, SandboxedEnvironment)
    with pytest.raises(TemplateError, match="may not"):
        with templating.template_errors("inline", None):
            env.from_string("{{ ''.__class__.__mro__ }}").render()


def test_template_errors_name_the_failure_but_never_the_value():
    with pytest.raises(TemplateError, match=r"failed \(TypeError\)") as caught:
        with templating.template_errors("inline", None):
            templating.environment(None).from_string("{{ x.upper(1, 2) }}").render(x="Zelda")
    assert "Zelda" not in str(caught.value)
    ours = TemplateError("already one sentence")
    with pytest.raises(TemplateError) as caught:
        with templating.template_errors("inline", None):
            raise ours
    assert caught.value is ours


def test_templates_read_values_only_through_jinjas_own_sandbox_checks():
    """Our sandbox changes only what ``*`` and ``**`` may build: every way a template reaches a
    value (attributes, items, calls, what counts as safe) is Jinja's own, not a shortcut tied to
    one Jinja version's internals."""
    from dataclasses import dataclass, field

    from jinja2.sandbox import SandboxedEnvironment

    ours = templating._sandbox_class()
    for name in (
        "getattr",
        "getitem",
        "call",
        "is_safe_attribute",
        "is_safe_callable",
        "unsafe_undefined",
    ):
        assert getattr(ours, name) is getattr(SandboxedEnvironment, name), name

    @dataclass(frozen=True)
    class Item:
        text: str
        _secret: str = "hidden"
        hook: object = field(default=print)

    words = {"labels": {"date": "Date"}, "items": "a key"}
    env = ours()
    assert (
        env.from_string(
            "{{ w.labels.date }} {{ i.text }} {{ i._secret }}|{{ i.__class__ }}"
        ).render(w=words, i=Item("Stop ginkgo."))
        == "Date Stop ginkgo. |"
    )
    assert env.getattr(words, "items") == words.items  # the method, as in Jinja: not the key
