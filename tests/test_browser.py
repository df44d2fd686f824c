"""HTML handouts in a real headless Chromium: axe-core finds nothing, and the page reflows.

``./scripts/test`` installs Debian's ``chromium`` and ``chromium-driver`` and npm's
``@axe-core/cli`` (into ``tools/axe``, ignored by git). Where they are missing, these tests skip
and say which part is missing.

- axe-core runs the WCAG 2.0/2.1 A and AA rules and its best practices on a one-area visit, a
  multi-area course, an untimed appointment, a large-print handout and a batch page.
- Reflow (WCAG 1.4.10): at 320 CSS pixels wide, and at 200% zoom of a 1280-pixel window, the
  page never scrolls sideways and no element sticks out of it. With
  ``MESOCARE_KEEP_SCREENSHOTS=FOLDER`` the tests also leave full-page screenshots there for a
  person to look at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mesocare.cli import app

pytestmark = pytest.mark.xdist_group(
    "browser"
)  # under pytest-xdist, one worker: its module fixture renders every page once

REPO = Path(__file__).resolve().parent.parent
AXE = REPO / "tools" / "axe" / "node_modules" / ".bin" / "axe"
TAGS = "wcag2a,wcag2aa,wcag21a,wcag21aa,best-practice"
BASE = ["--tz", "Europe/London", "--today", "2024-06-01", "--name", "Ana Silva"]
PAGES = {
    "one-area": [
        "prep",
        *BASE,
        "--date",
        "2024-06-10",
        "--time",
        "10:00",
        "--area",
        "face",
        "--prescribed",
        "medrol",
        "--booked",
        "2024-06-03",
    ],
    "course": [
        "prep",
        *BASE,
        "--date",
        "2024-06-10",
        "--time",
        "15:00",
        "--area",
        "body",
        "--area",
        "neck",
        "--sessions",
        "3",
        "--every",
        "1m",
    ],
    "untimed": ["prep", *BASE, "--date", "2024-06-10", "--area", "face"],
    "large-print": [
        "prep",
        *BASE,
        "--date",
        "2024-06-10",
        "--time",
        "10:00",
        "--area",
        "face",
        "--paper",
        "Letter",
        "--large-print",
    ],
}
SCHEDULE = """date,time,area,name,patient_id,booked_on
2024-06-10,09:00,face,Ana Silva,P-1,2024-06-03
2024-06-10,,neck+hands,Bo Chen,P-2,2024-05-01
2024-06-10,11:30,body,<b>Cy</b> & Dee,P-3,2024-06-09
"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def need_browser():
    missing = [
        name
        for name, found in (
            ("chromium", chromium()),
            ("chromedriver", shutil.which("chromedriver")),
        )
        if not found
    ]
    if missing:
        pytest.skip(
            f"{' and '.join(missing)} not installed (./scripts/test installs chromium and "
            "chromium-driver as root)"
        )


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("html")
    out = {}
    runner = CliRunner()
    for name, args in PAGES.items():
        result = runner.invoke(
            app,
            [*args, "--format", "html", "--out", str(folder / f"{name}.html")],
            env={"MESOCARE_CLINIC": ""},
        )
        assert result.exit_code == 0, result.stderr
        out[name] = folder / f"{name}.html"
    schedule = folder / "day.csv"
    schedule.write_text(SCHEDULE, encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "batch",
            str(schedule),
            "--tz",
            "Europe/London",
            "--today",
            "2024-06-01",
            "--out",
            str(folder / "batch.html"),
        ],
        env={"MESOCARE_CLINIC": ""},
    )
    assert result.exit_code == 0, result.stderr
    out["batch"] = folder / "batch.html"
    return out


def test_axe_core_finds_no_violation(pages, tmp_path):
    need_browser()
    if not AXE.exists():
        pytest.skip(
            f"@axe-core/cli is not installed in {AXE.parent.parent.parent} (./scripts/test "
            "installs it with npm)"
        )
    urls = [p.as_uri() for p in pages.values()]
    run = subprocess.run(
        [
            str(AXE),
            *urls,
            "--chromedriver-path",
            shutil.which("chromedriver"),
            "--chrome-options=headless,no-sandbox,disable-gpu",
            "--tags",
            TAGS,
            "--save",
            "axe.json",
            "--dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = tmp_path / "axe.json"
    assert report.exists(), f"axe did not run: {run.stdout[-2000:]} {run.stderr[-2000:]}"
    results = json.loads(report.read_text())
    assert [r["url"] for r in results] == urls, "axe could not open every page"
    problems = {
        r["url"].rsplit("/", 1)[-1]: [
            (v["id"], v["help"], len(v["nodes"])) for v in r["violations"]
        ]
        for r in results
    }
    assert problems == {name: [] for name in problems}
    assert all(r["passes"] for r in results), "axe ran no rule"


WRAPPER = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>probe</title></head>
<body style="margin:0">
<iframe id="page" src="{src}" title="page" \
style="border:0; width:{width}px; height:{height}px"></iframe>
<script>
document.getElementById("page").addEventListener("load", () => {{
  const doc = document.getElementById("page").contentDocument;
  const width = doc.documentElement.clientWidth;
  const out = [];
  for (const el of doc.body.querySelectorAll("*")) {{
    const box = el.getBoundingClientRect();
    if (box.width > 0 && (box.right > width + 1 || box.left < -1)) \
out.push(el.tagName + "." + el.className);
  }}
  const pre = document.createElement("pre");
  pre.id = "measure";
  pre.textContent = JSON.stringify({{width, scroll: doc.documentElement.scrollWidth, \
out: out.slice(0, 20)}});
  document.body.appendChild(pre);
}});
</script>
</body></html>
"""


def browse(page: Path, folder: Path, width: int, scale: int) -> dict:
    """Show the page in a frame ``width`` device pixels wide at ``scale``; measure; take a
    screenshot.

    (A headless window is never narrower than 500 pixels, so a 320-pixel screen is a frame.)
    """
    css = width // scale
    probe = page.parent / f"probe-{page.stem}-{width}x{scale}.html"
    keep = os.environ.get("MESOCARE_KEEP_SCREENSHOTS")
    height = 7000 if keep else 1400
    probe.write_text(WRAPPER.format(src=page.name, width=css, height=height), encoding="utf-8")
    common = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--allow-file-access-from-files",
        f"--user-data-dir={folder / 'profile'}",
        f"--force-device-scale-factor={scale}",
        f"--window-size={max(css, 520)},{height}",
    ]
    dom = subprocess.run(
        [*common, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    if keep:  # for a person to look at: MESOCARE_KEEP_SCREENSHOTS=folder
        Path(keep).mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [*common, f"--screenshot={Path(keep) / (probe.stem + '.png')}", probe.as_uri()],
            capture_output=True,
            timeout=120,
        )
    found = re.search(r'<pre id="measure">(.*?)</pre>', dom, re.S)
    assert found, "the page did not load in Chromium"
    import html

    return json.loads(html.unescape(found[1]))


@pytest.mark.parametrize(("width", "scale"), [(320, 1), (1280, 2)], ids=["320px", "200%-zoom"])
@pytest.mark.parametrize("name", [*PAGES, "batch"])
def test_page_reflows(pages, tmp_path, name, width, scale):
    need_browser()
    m = browse(pages[name], tmp_path, width, scale)
    assert m["width"] == width // scale
    assert m["scroll"] <= m["width"], f"the page scrolls sideways at {width // scale} CSS px: {m}"
    assert m["out"] == [], f"elements stick out of the page: {m['out']}"
