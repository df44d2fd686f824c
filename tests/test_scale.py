"""Long schedules: flat memory, output streamed as it is made, nothing computed twice, same
bytes."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mesocare.batch import BatchPlan, HandoutCache
from mesocare.handout import build_handout, handout_dict
from mesocare.model import Batch, Clinic, Course, Request, RowProblem, ScheduleRow
from mesocare.render.json_ import stream_batch
from test_pdf import runs

CLINIC = Clinic(name="Harbour Skin Clinic", phone="020 7946 0000", timezone="Europe/London")
TODAY = date(2024, 6, 1)


def requests(n: int, seed: int = 3) -> list[Request]:
    """Varied appointments: days either side of today and of a change of clocks, untimed ones,
    booking dates before, on and after the day, medicines, courses, and patients' details."""
    rng = random.Random(seed)
    days = [
        date(2024, 5, 30),
        date(2024, 6, 10),
        date(2024, 10, 27),
        date(2024, 10, 28),
        date(2024, 3, 30),
    ]
    out = []
    for k in range(n):
        day = rng.choice(days)
        out.append(
            Request(
                date=day,
                time=rng.choice([None, time(0, 30), time(1, 30), time(10, 0), time(23, 45)]),
                areas=rng.choice([("face",), ("face", "neck"), ("body",), ("scalp",)]),
                duration_minutes=rng.choice([None, 60]),
                technique=rng.choice(["needle", "microneedling"]),
                prescribed=rng.choice([(), ("medrol",), ("lasix",)]),
                course=rng.choice(
                    [Course(), Course((day, day + timedelta(weeks=4)), day + timedelta(weeks=4))]
                ),
                booked=rng.choice(
                    [
                        None,
                        day,
                        day - timedelta(days=1),
                        day - timedelta(days=20),
                        day + timedelta(days=2),
                    ]
                ),
                name=f'Ana "{k}" \\ Ölçer',
                patient_id=f"P-{k}",
                appointment_id=f"A-{k}",
                email=f"p{k}@example.org",
            )
        )
    return out


def test_the_cache_gives_exactly_what_build_handout_gives(ruleset):
    cache = HandoutCache(
        ruleset, CLINIC, TODAY, size=8
    )  # small: entries are dropped and made again
    reqs = requests(300)
    for request in reqs + reqs[::-1]:
        assert cache.build(request) == build_handout(request, ruleset, CLINIC, TODAY)
    assert cache.hits > 0 and cache.misses < len(reqs) * 2


def test_rows_that_differ_only_in_the_patient_share_one_computed_handout(ruleset):
    cache = HandoutCache(ruleset, CLINIC, TODAY)
    base = Request(
        date=date(2024, 6, 10), time=time(10, 0), areas=("face",), booked=date(2024, 6, 9)
    )
    built = [
        cache.build(replace(base, name=f"Patient {k}", patient_id=f"P-{k}")) for k in range(50)
    ]
    assert (cache.hits, cache.misses) == (49, 1)
    assert [h.patient_name for h in built] == [f"Patient {k}" for k in range(50)]
    assert all(h.items is built[0].items for h in built)  # shared, not copied


def _reference(handouts, ndjson):
    dicts = [handout_dict(h) for h in handouts]
    if ndjson:
        return "".join(
            json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n" for d in dicts
        )
    return json.dumps(dicts, ensure_ascii=False, indent=2) + "\n"


@pytest.mark.parametrize("ndjson", [True, False])
def test_streamed_json_is_byte_for_byte_json_dumps_of_the_whole_list(ruleset, ndjson):
    cache = HandoutCache(ruleset, CLINIC, TODAY)
    handouts = [cache.build(r) for r in requests(120)]
    names = ["", "\x1b[31m\x07", "line\nbreak", "</script>", "emoji 🙂 中文", "tab\tand \u2028"]
    handouts = [replace(h, patient_name=names[k % len(names)]) for k, h in enumerate(handouts)]
    # the hour that repeats when clocks go back: equal-looking times with different offsets
    london = ZoneInfo("Europe/London")
    first, second = (datetime(2024, 10, 27, 1, 30, fold=f, tzinfo=london) for f in (0, 1))
    h = handouts[0]
    twice = [
        replace(h, items=(replace(h.items[0], start=first),)),
        replace(h, items=(replace(h.items[0], start=second),)),
    ]
    assert first.utcoffset() != second.utcoffset()
    for chosen in (handouts, twice, []):
        assert "".join(stream_batch(iter(chosen), ndjson=ndjson)) == _reference(chosen, ndjson)


def test_the_plan_sorts_by_start_then_input_order_and_names_rows_in_input_order(ruleset):
    rows = [ScheduleRow(f"row {k + 2}", r) for k, r in enumerate(requests(200, seed=9))]
    gap = Request(
        date=date(2024, 3, 31), time=time(1, 30), areas=("face",)
    )  # clocks skip 01:00-02:00
    items = [
        RowProblem("row 1", "date", "bad"),
        *rows[:100],
        ScheduleRow("row 999", gap),
        *rows[100:],
    ]
    with BatchPlan(items, ruleset, CLINIC, TODAY) as plan:
        out = list(plan)
        problems = plan.problems
    expected = sorted(
        rows, key=lambda r: build_handout(r.request, ruleset, CLINIC, TODAY).start.timestamp()
    )
    assert [p for _, p in out] == [r.position for r in expected]
    assert [p.position for p in problems] == ["row 1", "row 999"]
    assert plan.count == 200 and plan.to_call == sum(bool(h.late_items) for h, _ in out)


def schedule_csv(count: int) -> str:
    """A month of a chain's appointments: rows share days, times and areas; booking dates vary."""
    rng = random.Random(5)
    lines = ["date,time,area,name,patient_id,booked_on"]
    for k in range(count):
        day = date(2024, 6, 3) + timedelta(days=rng.randrange(3))
        booked = "" if k % 3 else (day - timedelta(days=rng.choice([1, 15]))).isoformat()
        lines.append(
            f"{day},{8 + rng.randrange(4):02d}:00,{rng.choice(['face', 'face+neck'])},Patient "
            f"{k},P-{k},{booked}"
        )
    return "\n".join(lines) + "\n"


PEAK = textwrap.dedent(
    """
    import resource, subprocess, sys
    limit = int(sys.argv[1]) * 1024 * 1024
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    with open(sys.argv[2], "rb") as source:
        done = subprocess.run(sys.argv[3:], stdin=source, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, preexec_fn=cap)
    print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
    sys.stderr.write(done.stderr.decode()[-500:])
    """
)


def peak_mb(tmp_path, rows: int, limit_mb: int = 700) -> int:
    """Peak resident memory (MB) of ``batch - --format ndjson`` over ``rows`` rows on stdin,
    run under an address-space limit of ``limit_mb``."""
    path = tmp_path / f"{rows}.csv"
    path.write_text(schedule_csv(rows), encoding="utf-8")
    cmd = [
        sys.executable,
        "-m",
        "mesocare",
        "batch",
        "-",
        "--format",
        "ndjson",
        "--tz",
        "Europe/London",
        "--today",
        "2024-06-01",
    ]
    done = subprocess.run(
        [sys.executable, "-c", PEAK, str(limit_mb), str(path), *cmd],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    code, peak = done.stdout.split()
    assert code == "0", done.stderr
    return int(peak)


def test_ndjson_memory_stays_flat_as_the_list_grows_tenfold(tmp_path):
    small, large = peak_mb(tmp_path, 2_000), peak_mb(tmp_path, 20_000)
    assert large < 150
    assert large - small < 15, (small, large)  # held per row: a few dozen bytes, not a handout


def test_ndjson_streams_the_first_line_long_before_the_end(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text(schedule_csv(10_000), encoding="utf-8")
    cmd = [
        sys.executable,
        "-m",
        "mesocare",
        "batch",
        "-",
        "--format",
        "ndjson",
        "--tz",
        "Europe/London",
        "--today",
        "2024-06-01",
    ]
    with open(path, "rb") as source:
        proc = subprocess.Popen(
            cmd, stdin=source, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=tmp_path
        )
        try:
            first = json.loads(proc.stdout.readline())
            still_running = proc.poll() is None
            rest = proc.stdout.read()
        finally:
            proc.kill() if proc.poll() is None else None
            proc.wait()
    assert still_running  # the first handout is out while thousands are still being written
    assert first["appointment"]["start"] == "2024-06-03T08:00:00+01:00"
    assert rest.count(b"\n") == 9_999


def test_json_array_to_a_file_streams_into_one_whole_file(tmp_path):
    path = tmp_path / "day.csv"
    path.write_text(schedule_csv(300), encoding="utf-8")
    base = [
        sys.executable,
        "-m",
        "mesocare",
        "batch",
        str(path),
        "--tz",
        "Europe/London",
        "--today",
        "2024-06-01",
    ]
    subprocess.run([*base, "--out", "a.json"], cwd=tmp_path, check=True, capture_output=True)
    lines = subprocess.run(
        [*base, "--format", "ndjson"], cwd=tmp_path, check=True, capture_output=True
    ).stdout
    assert json.loads((tmp_path / "a.json").read_text()) == [
        json.loads(x) for x in lines.splitlines()
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a.json",
        "day.csv",
    ]  # no temporary file left


# ---------------------------------------------------------------------------------------------
# one big PDF
# ---------------------------------------------------------------------------------------------
def _pdf_batch(ruleset, count: int) -> Batch:
    days = [date(2024, 6, 10), date(2024, 6, 11)]
    handouts = tuple(
        build_handout(
            Request(
                date=days[k % 2],
                time=None if k == 3 else time(9 + k, 0),
                areas=("face",),
                name=None if k == 1 else f"Ana {k}",
                patient_id=f"P-{k}",
            ),
            ruleset,
            CLINIC,
            TODAY,
        )
        for k in range(count)
    )
    return Batch(CLINIC, TODAY, None, handouts, booking_checked=True)


def _outline(data: bytes) -> list[tuple[str, int]]:
    import io

    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(data))
    starts = [index for index, n, _ in runs(data) if n == 1]  # where "Page 1 of M" is printed
    entries = [
        (item["/Title"], reader.get_destination_page_number(item)) for item in reader.outline
    ]
    assert [page for _, page in entries] == starts  # each entry opens its run's first page
    return [title for title, _ in entries]


@pytest.mark.parametrize("duplex", [False, True])
def test_every_patient_has_an_outline_entry_with_time_and_name_joined_or_not(
    ruleset, monkeypatch, duplex
):
    pytest.importorskip("typst")
    from mesocare.render import pdf

    batch = _pdf_batch(ruleset, 5)
    expected = [
        "Cover sheet",
        "Monday 10 June 2024, 09:00 Ana 0",
        "Tuesday 11 June 2024, 10:00 P-1",
        "Monday 10 June 2024, 11:00 Ana 2",
        "Tuesday 11 June 2024, no time Ana 3",
        "Monday 10 June 2024, 13:00 Ana 4",
    ]
    whole = pdf.render_batch(batch, duplex=duplex)
    assert _outline(whole) == expected
    monkeypatch.setattr(pdf, "CHUNK_SIZE", 2)  # the cover sheet and three pieces, joined on disk
    joined = pdf.render_batch(batch, duplex=duplex)
    assert _outline(joined) == expected


def test_a_joined_pdf_is_the_same_bytes_every_time_with_or_without_workers(ruleset, monkeypatch):
    pytest.importorskip("typst")
    from mesocare.render import pdf

    batch = _pdf_batch(ruleset, 5)
    monkeypatch.setattr(pdf, "CHUNK_SIZE", 2)
    monkeypatch.setenv("MESOCARE_PDF_WORKERS", "1")
    alone = pdf.render_batch(batch)
    assert pdf.render_batch(batch) == alone
    monkeypatch.setenv("MESOCARE_PDF_WORKERS", "2")
    assert pdf.render_batch(batch) == alone


@pytest.mark.parametrize("cover_lines", [None, 2])
def test_only_the_batchs_last_piece_keeps_its_layouts_in_a_worker(
    ruleset, monkeypatch, cover_lines
):
    """Typst's memoized layouts are dropped after every piece but the last (the cover sheet, or
    the last part of a long one typeset twice): its worker ends with the batch."""
    pytest.importorskip("typst")
    from mesocare.render import pdf

    batch = _pdf_batch(ruleset, 5)
    monkeypatch.setattr(pdf, "CHUNK_SIZE", 2)
    if cover_lines:
        monkeypatch.setattr(pdf, "COVER_PART_LINES", cover_lines)
    monkeypatch.setenv("MESOCARE_PDF_WORKERS", "1")
    runs, run = [], pdf._Typesetter.run

    def seen(self, jobs, **options):
        jobs = list(jobs)
        runs.append([(Path(path).name, last) for _, path, _, last in jobs])
        return run(self, jobs, **options)

    monkeypatch.setattr(pdf._Typesetter, "run", seen)
    forgotten = []
    monkeypatch.setattr(pdf, "forget_layouts", lambda: forgotten.append(1))
    whole = pdf.render_batch(batch)
    lasts = [name for jobs in runs for name, last in jobs if last]
    assert lasts == [runs[-1][-1][0]] and lasts[0].startswith(("part-000000", "cover-"))
    assert len(runs) == (2 if cover_lines else 1)
    assert len(forgotten) == sum(len(jobs) for jobs in runs)  # here (no worker) every piece forgets
    assert whole.startswith(b"%PDF-")


def test_a_long_pdf_holds_only_light_handouts_while_the_pieces_are_typeset(
    ruleset, monkeypatch, tmp_path
):
    pytest.importorskip("typst")
    from mesocare.render import pdf

    batch = _pdf_batch(ruleset, 5)
    monkeypatch.setattr(pdf, "CHUNK_SIZE", 2)
    monkeypatch.setenv("MESOCARE_PDF_WORKERS", "1")
    seen = []

    def cover(light):
        seen.append(light)
        return replace(batch, handouts=light)

    out = pdf.batch_pdf(iter(batch.handouts), cover, tmp_path)
    assert out.read_bytes().startswith(b"%PDF-")
    kept = seen[-1]
    assert [h.patient_name for h in kept] == [h.patient_name for h in batch.handouts]
    assert all(not h.notes and all(i.late for i in h.items) for h in kept)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.pdf"] + [
        f"part-{k:06d}.pdf" for k in range(4)
    ]
    assert _outline(out.read_bytes())[0] == "Cover sheet"


def test_pieces_written_to_a_file_replace_it_whole_or_leave_it_as_it_was(tmp_path):
    from mesocare import output

    target = tmp_path / "out.ndjson"
    target.write_text("old\n")

    def failing():
        yield "line 1\n"
        raise RuntimeError("the list failed part way")

    with pytest.raises(RuntimeError):
        output.write(failing(), target)
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["out.ndjson"]
    output.write((f"line {k}\n" for k in range(3)), target)
    assert target.read_text() == "line 0\nline 1\nline 2\n"
    assert list(output.file_pieces(target, size=4)) == [
        b"line",
        b" 0\nl",
        b"ine ",
        b"1\nli",
        b"ne 2",
        b"\n",
    ]


JOIN_PEAK = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    from mesocare.render import pdf_join
    pdf_join.join([Path(p) for p in sys.argv[2:]], Path(sys.argv[1]))
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
    """
)


def test_joining_tagged_pieces_keeps_memory_flat_however_many(ruleset, monkeypatch, tmp_path):
    # a tagged piece holds hundreds of structure elements per handout: holding every piece's
    # objects until the file is written (as copy_foreign into one document does) grows by about
    # 0.4 MB per handout; the streamed join keeps a few numbers per page
    pytest.importorskip("typst")
    pikepdf = pytest.importorskip("pikepdf")
    from mesocare.render import pdf

    batch = _pdf_batch(ruleset, 4)
    monkeypatch.setattr(pdf, "CHUNK_SIZE", 2)
    monkeypatch.setenv("MESOCARE_PDF_WORKERS", "1")
    pdf.batch_pdf(iter(batch.handouts), lambda light: replace(batch, handouts=light), tmp_path)
    cover, piece = tmp_path / "part-000000.pdf", tmp_path / "part-000001.pdf"
    peaks = {}
    for count in (4, 64):
        out = tmp_path / f"joined-{count}.pdf"
        done = subprocess.run(
            [sys.executable, "-c", JOIN_PEAK, str(out), str(cover), *[str(piece)] * count],
            capture_output=True,
            text=True,
            check=True,
        )
        peaks[count] = int(done.stdout)
        with pikepdf.open(out) as joined:
            assert len(joined.pages) == len(pikepdf.open(cover).pages) + count * len(
                pikepdf.open(piece).pages
            )
    assert peaks[64] - peaks[4] < 12, (
        f"joining 16 times the pieces took {peaks[4]} MB, then {peaks[64]} MB"
    )
