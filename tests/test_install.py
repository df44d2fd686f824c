"""A plain (not editable) install finds its rules, templates and schema outside the checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from conftest import REPO

pytestmark = pytest.mark.xdist_group(
    "install"
)  # under pytest-xdist, one worker: its module fixture builds the wheel once


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        capture_output=True,
        text=True,
    )
    if build.returncode != 0 and "hatchling" in build.stderr:
        pytest.skip(
            "hatchling is not installed in this environment (pip install '.[test]' brings it)"
        )
    assert build.returncode == 0, build.stderr
    return next(out.glob("mesocare-*.whl"))


def test_wheel_ships_rules_templates_and_schemas(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in REPO.joinpath("instructions").glob("*.yaml"):
        assert f"mesocare/instructions/{f.name}" in names
    ours = REPO.joinpath("templates")
    shipped = [f.relative_to(ours).as_posix() for f in ours.rglob("*.j2")]
    assert "init/mesocare.yaml.j2" in shipped  # what mesocare init writes is templates too
    for name in shipped:
        assert f"mesocare/templates/{name}" in names
    assert "mesocare/schemas/handout.schema.json" in names
    for po in REPO.joinpath("mesocare", "locales").glob("*/LC_MESSAGES/mesocare.po"):
        code = po.parent.parent.name
        assert (
            f"mesocare/locales/{code}/LC_MESSAGES/mesocare.mo" in names
        )  # compiled by the build hook
    for f in REPO.joinpath("instructions", "lang").glob("*.yaml"):
        assert f"mesocare/instructions/lang/{f.name}" in names
    assert "mesocare/instructions/rules.schema.json" in names
    for f in REPO.joinpath("mesocare", "lang", "glossary").glob("*.yaml"):
        assert f"mesocare/lang/glossary/{f.name}" in names  # rules check reads them


def test_installed_wheel_runs_outside_the_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = dict(os.environ, PYTHONPATH=str(target), MESOCARE_CLINIC="")
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import mesocare.resources as r; print(r.instructions_dir()); print(r.templates_dir())",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=elsewhere,
        check=True,
    )
    for line in where.stdout.splitlines():
        assert line.startswith(str(target)), where.stdout  # the installed copy, not the checkout
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mesocare",
            "prep",
            "--date",
            "2024-06-10",
            "--area",
            "face",
            "--tz",
            "UTC",
            "--today",
            "2024-06-01",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=elsewhere,
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["items"]) > 15
    html = subprocess.run(
        [
            sys.executable,
            "-m",
            "mesocare",
            "prep",
            "--date",
            "2024-06-10",
            "--area",
            "face",
            "--tz",
            "UTC",
            "--today",
            "2024-06-01",
            "--format",
            "html",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=elsewhere,
    )
    assert html.returncode == 0 and "<!DOCTYPE html>" in html.stdout
    init = subprocess.run(
        [sys.executable, "-m", "mesocare", "init", "clinic", "--tz", "UTC", "--name", 'A "B": C'],
        capture_output=True,
        text=True,
        env=env,
        cwd=elsewhere,
    )
    assert init.returncode == 0, init.stderr  # its templates are found in the installed copy
    assert 'name: "A \\"B\\": C"' in (elsewhere / "clinic" / "mesocare.yaml").read_text(
        encoding="utf-8"
    )
    # the compiled catalogs are found and read with the standard library alone
    code = (
        "import sys; from mesocare import lang; "
        "print(lang.get('fr').gettext('What to expect')); "
        "print(lang.get('pt-BR').gettext('Call us if')); "
        "print(lang.get('de').translations.chain[0].__class__.__module__); "
        "print('babel.messages' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=elsewhere,
        check=True,
    )
    assert out.stdout.splitlines() == [
        "À quoi vous attendre",
        "Ligue para nós se",
        "gettext",
        "False",
    ]
