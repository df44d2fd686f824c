"""Every command the README and the manual (docs/*.md) show runs, in order, in a scratch folder.

Two kinds of example, found the same way in every page:

- an indented line ``    mesocare ...`` (and the set-up's ``    python3 -m venv .venv && ... &&
  .venv/bin/mesocare ...``) runs in this process through Typer's runner; anything after a pipe
  or a redirection is left out; it must exit 0 and print no warning;
- a fenced ``sh`` block runs through bash (``set -euo pipefail``) with the installed
  ``mesocare`` first on the path; it must exit 0, every ``mesocare`` it runs must exit 0, and
  it must run at least one.

Each page runs in its own scratch folder holding what a fresh clone has beside it (examples/),
with ``MESOCARE_CLINIC`` set as the README's set-up says, and the one folder a script example
names as the user's own (``inbox/``, a copy of the example HL7 file). An example that cannot
run in a test (it prints, sends mail, needs a server, runs the test suite) is preceded by
``<!-- not run in tests: why -->``; that set is kept small.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import REPO
from mesocare.cli import app

README_PATH = REPO / "README.md"
README = README_PATH.read_text(encoding="utf-8")
PAGES = [README_PATH, *sorted((REPO / "docs").glob("*.md"))]
SET_UP = (
    "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/mesocare prep --date tomorrow"
    ' --time 10:00 --area face --name "Sample Patient" --clinic examples/clinic.yaml'
)
# "    mesocare ...", and the set-up's "    python3 -m venv .venv && ... && .venv/bin/mesocare ..."
COMMAND = re.compile(r"^    (?:python3 -m venv .* && )?(?:\.venv/bin/)?mesocare (.+)$")
MARKER = re.compile(r"^<!-- not run in tests: (.+) -->$")
SHELL_FENCES = {"sh", "bash", "shell", "console"}
MAX_MARKED = 8  # examples that cannot run in a test: keep the set small
# pages that are tables and explanations, with no command of their own to run
WITHOUT_EXAMPLES = {
    "docs/README.md",
    "docs/exit-codes.md",
    "docs/limits-and-safety.md",
    "docs/development.md",
}


@dataclass(frozen=True)
class Example:
    page: Path
    line: int  # 1-based, where the example starts
    kind: str  # "cli" (one mesocare command line) or "sh" (a script for bash)
    text: str
    not_run: str | None  # the marker's reason, when the example is marked


def examples(page: Path) -> list[Example]:
    """The page's examples, in order. A marker applies to the code block right after it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Example] = []
    marked: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if m := MARKER.match(stripped):
            marked = m.group(1)
            i += 1
            continue
        if stripped.startswith("```"):
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```"))
            if stripped[3:].strip() in SHELL_FENCES:
                found.append(Example(page, i + 1, "sh", "\n".join(lines[i + 1 : end]), marked))
            marked, i = None, end + 1
            continue
        if line.startswith("    ") and (i == 0 or not lines[i - 1].strip()):
            end = i
            while end < len(lines) and lines[end].startswith("    "):
                if m := COMMAND.match(lines[end]):
                    found.append(Example(page, end + 1, "cli", m.group(1), marked))
                end += 1
            marked, i = None, end
            continue
        where = f"{page.name}:{i + 1}"
        assert marked is None or not stripped, f"{where}: a marker comes right before a code block"
        i += 1
    return found


ALL = [e for page in PAGES for e in examples(page)]


def page_id(page: Path) -> str:
    return str(page.relative_to(REPO))


def test_the_readme_and_the_manual_have_examples():
    readme = [e for e in ALL if e.page == README_PATH and e.not_run is None]
    assert len(readme) >= 8
    assert len([e for e in ALL if e.not_run is None]) >= 30
    for page in PAGES:
        if page_id(page) not in WITHOUT_EXAMPLES:
            runs = [e for e in ALL if e.page == page and e.not_run is None]
            assert runs, f"{page.name} shows no command that runs"


def test_few_examples_are_marked_not_run_and_each_says_why():
    marked = [e for e in ALL if e.not_run is not None]
    assert len(marked) <= MAX_MARKED, [f"{e.page.name}:{e.line}" for e in marked]
    assert all(len(e.not_run) > 10 for e in marked)


def test_the_readme_gives_the_two_set_up_commands():
    set_up = README.split("\n## Set-up", 1)[1].split("\n## ", 1)[0]
    assert f"\n    {SET_UP}\n" in set_up
    heading = README.splitlines().index("## Set-up: two commands") + 1
    first = next(e for e in ALL if e.page == README_PATH and e.line > heading)
    assert first.text == SET_UP.split(".venv/bin/mesocare ", 1)[1]
    assert "\n    ./scripts/test\n" in set_up
    assert "export MESOCARE_CLINIC=$PWD/examples/clinic.yaml" in set_up


def test_the_readme_stays_a_front_door():
    assert len(README.splitlines()) <= 250
    diary = re.compile(
        r"this morning|last night|tonight|\bon \d+ (january|february|march|april|may|june|july"
        r"|august|september|october|november|december)",
        re.IGNORECASE,
    )
    assert not diary.search(README)
    for page in PAGES[1:]:  # every page of the manual is linked from the README
        assert f"(docs/{page.name})" in README or page.name == "README.md", page.name
    assert "(docs/README.md)" in README


def test_the_sample_output_in_the_readme_is_what_mesocare_prints(monkeypatch):
    """The README's sample handout is the start of what its command prints."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("MESOCARE_CLINIC", str(REPO / "examples" / "clinic.yaml"))
    command = next(e.text for e in ALL if e.page == README_PATH)
    sample = README.split("```text\n", 1)[1].split("```", 1)[0]
    result = CliRunner().invoke(app, shlex.split(command))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(sample)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    (tmp_path / "inbox").mkdir()
    shutil.copy(REPO / "examples" / "appointments.hl7", tmp_path / "inbox")
    # as the README's set-up says: export MESOCARE_CLINIC=$PWD/examples/clinic.yaml
    monkeypatch.setenv("MESOCARE_CLINIC", str(tmp_path / "examples" / "clinic.yaml"))
    return tmp_path


def run_cli_example(example: Example) -> None:
    command = example.text.split("|")[0].split(">")[0].strip()
    result = CliRunner().invoke(app, shlex.split(command))
    where = f"{example.page.name}:{example.line}: mesocare {command}"
    assert result.exit_code == 0, f"{where}\n{result.stderr}"
    # clean: no warning the reader did not ask for (a past date, a missing phone number)
    assert "warning" not in result.stderr, f"{where}\n{result.stderr}"


def run_sh_example(example: Example, folder: Path) -> None:
    """The script through bash, with a `mesocare` first on the path that runs the installed
    command and notes each exit code."""
    shims, log = folder / ".shims", folder / ".mesocare-exits"
    shims.mkdir(exist_ok=True)
    log.write_text("")
    shim = shims / "mesocare"
    real = Path(sys.executable).parent / "mesocare"
    shim.write_text(f'#!/bin/sh\n"{real}" "$@"\nrc=$?\necho "$rc" >> "{log}"\nexit $rc\n')
    shim.chmod(0o755)
    env = dict(os.environ, PATH=f"{shims}{os.pathsep}{os.environ['PATH']}")
    script = "set -euo pipefail\n" + example.text
    done = subprocess.run(
        ["bash", "-c", script],
        check=False,
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    where = f"{example.page.name}:{example.line}"
    assert done.returncode == 0 and "Traceback" not in done.stderr, f"{where}\n{done.stderr}"
    exits = log.read_text().split()
    assert exits, f"{where}: the example ran no mesocare command"
    assert set(exits) == {"0"}, f"{where}: mesocare exited {exits}\n{done.stderr}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_example_of_the_page_runs(page, scratch):
    ran = 0
    for example in examples(page):
        if example.not_run is not None:
            continue
        if example.kind == "cli":
            run_cli_example(example)
        else:
            if "jq " in example.text and shutil.which("jq") is None:
                pytest.skip("jq is not installed")
            run_sh_example(example, scratch)
        ran += 1
    assert ran > 0 or page_id(page) in WITHOUT_EXAMPLES


def test_the_readme_set_up_commands_are_the_ones_ci_runs():
    assert "./scripts/test" in README
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    steps = [line for line in ci if line and not line.startswith("#")]
    assert any(step.startswith("./scripts/test") for step in steps)
    assert "mesocare prep --date tomorrow" in README


def test_the_development_page_names_every_room_of_the_library():
    """A newcomer finds each module and package of mesocare/ in the manual's map of the code."""
    page = (REPO / "docs" / "development.md").read_text(encoding="utf-8")
    section = page.split("\n## The code", 1)[1]
    package = REPO / "mesocare"
    rooms = [p.name for p in package.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    rooms += [f"{p.name}/" for p in package.iterdir() if (p / "__init__.py").exists()]
    missing = sorted(
        r for r in rooms if f"`{r}`" not in section and f"`mesocare/{r}`" not in section
    )
    assert not missing, f"docs/development.md 'The code' does not name: {missing}"


def test_the_development_page_names_every_module_of_each_package_in_its_own_entry():
    """Each package's entry of the code map ("- `mail/`: ...") names every module in it, and the
    `mesocare/` entry every top-level module: a module named only in another package's entry
    (`push.py` in cli/ and in ehr/) does not count."""
    page = (REPO / "docs" / "development.md").read_text(encoding="utf-8")
    section = page.split("\n## The code", 1)[1].split("\n## ", 1)[0]
    entries = {
        m.group(1): m.group(0)
        for m in re.finditer(
            r"^- `(?:mesocare/)?([a-z_]*/?)`:.*?(?=^- |\Z)", section, flags=re.MULTILINE | re.DOTALL
        )
    }
    package = REPO / "mesocare"
    folders = {"": package} | {
        f"{p.name}/": p for p in package.iterdir() if (p / "__init__.py").exists()
    }
    missing = []
    for name, folder in sorted(folders.items()):
        entry = entries.get(name, "")
        assert entry, f"docs/development.md 'The code' has no entry for mesocare/{name}"
        missing += [
            f"{name}{m.name}"
            for m in sorted(folder.glob("*.py"))
            if m.name not in ("__init__.py", "__main__.py") and f"`{m.name}`" not in entry
        ]
    assert not missing, f"docs/development.md: not named in their package's entry: {missing}"


def slug(heading: str) -> str:
    """A heading's anchor, as GitHub makes it."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


DESIGN_PAGES = sorted((REPO / "docs" / "design").glob("*.md"))


@pytest.mark.parametrize("page", [*PAGES, *DESIGN_PAGES], ids=page_id)
def test_every_link_between_pages_leads_somewhere(page):
    """Links to other pages, files and headings of the repository resolve (web links aside)."""
    broken = []
    for link in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", link):
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(link)
        elif anchor:
            text = target.read_text(encoding="utf-8") if target.is_file() else ""
            if anchor not in {slug(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}:
                broken.append(link)
    assert not broken, f"{page_id(page)}: {broken}"


def test_what_mesocare_tells_a_user_points_to_the_manual_page_that_exists():
    """Messages, `mesocare init`'s config and comments point to the manual's pages in docs/, not
    to sections of a README that no longer holds them (a clinic folder's own README.md aside)."""
    stale, broken = [], []
    sources = sorted((REPO / "mesocare").rglob("*.py")) + sorted((REPO / "templates").rglob("*"))
    for source in sources:
        if not source.is_file():
            continue
        text = source.read_text(encoding="utf-8", errors="replace")
        where = source.relative_to(REPO)
        for number, line in enumerate(text.splitlines(), 1):
            if re.search(r"(?<![\w/.])README(?![\w.])", line):
                stale.append(f"{where}:{number}")
            broken += [
                f"{where}:{number}: {page}"
                for page in re.findall(r"\bdocs/[\w-]+\.md", line)
                if not (REPO / page).is_file()
            ]
    assert not stale, f"these point to the README instead of a page of docs/: {stale}"
    assert not broken, f"these name a page docs/ does not have: {broken}"
