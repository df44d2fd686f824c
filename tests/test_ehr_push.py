"""`mesocare push` over MLLP as a clinic runs it: a subprocess, a real MLLP listener (python-hl7's
asyncio server) answering AA, AE and AR, dropping and stalling, and kill -9 at random points."""

from __future__ import annotations

import random
import signal
import sqlite3
import ssl
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from mllpserver import MllpListener, control_ids, document_numbers

HEADER = "date,time,area,name,patient_id,appointment_id\n"
AREAS = ("face", "body", "hands", "neck", "scalp")


def rows(n: int, hour: int = 10) -> str:
    return "".join(
        f"2026-06-10,{hour}:{i:02d},{AREAS[i % 5]},Secret Name{i},P-{i},A-{i}\n" for i in range(n)
    )


def config(port: int, host: str = "127.0.0.1", extra: str = "") -> str:
    return (
        "name: Harbour Skin Clinic\nphone: 020 7946 0000\ntimezone: Europe/London\n"
        "state_dir: state\n"
        f"ehr:\n  mllp:\n    host: {host}\n    port: {port}\n    security: none\n    timeout: 2\n"
        f"{extra}"
    )


def command(*args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mesocare",
        "push",
        *args,
        "--clinic",
        "mesocare.yaml",
        "--today",
        "2026-06-01",
    ]


def push(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command("day.csv", *args),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def clinic(tmp_path):
    (tmp_path / "day.csv").write_text(HEADER + rows(4), encoding="utf-8")
    return tmp_path


def start(clinic: Path, answer=lambda n, m: "AA") -> MllpListener:
    listener = MllpListener(answer).__enter__()
    (clinic / "mesocare.yaml").write_text(config(listener.port), encoding="utf-8")
    return listener


def test_push_delivers_each_once_and_a_rerun_sends_nothing(clinic):
    listener = start(clinic)
    try:
        first = push(clinic)
        assert first.returncode == 0, first.stderr
        assert "4 delivered, 0 already there, 0 not delivered" in first.stderr
        assert len(listener.accepted) == 4 and len(set(document_numbers(listener.accepted))) == 4
        again = push(clinic)
        assert again.returncode == 0 and "0 delivered, 4 already there" in again.stderr
        assert len(listener.received) == 4
    finally:
        listener.__exit__()


@pytest.mark.parametrize("code", ["AE", "AR"])
def test_rejections_are_reported_by_row_with_the_engines_words_then_retried(clinic, code):
    listener = start(clinic, lambda n, m: code if str(m.segment("PID")[3][0][0]) == "P-2" else "AA")
    try:
        first = push(clinic)
        assert first.returncode == 3
        assert f"row 4: rejected ({code}: document not filed; PID-3 unknown" in first.stderr
        assert "Secret" not in first.stderr and "P-2" not in first.stderr
        listener.answer = lambda n, m: "AA"
        second = push(clinic)
        assert second.returncode == 0, second.stderr
        assert "1 delivered, 3 already there" in second.stderr
        assert Counter(document_numbers(listener.accepted)).most_common(1)[0][1] == 1
    finally:
        listener.__exit__()


@pytest.mark.parametrize("fault", ["drop", "stall"])
def test_a_dropped_or_stalled_connection_is_retried_on_the_next_run(clinic, fault):
    listener = start(clinic, lambda n, m: fault if n == 1 else "AA")
    try:
        first = push(clinic)
        assert first.returncode == 3
        assert "not-delivered" in first.stderr and "sent again on the next run" in first.stderr
        assert "1 delivered, 0 already there, 3 not delivered" in first.stderr
        second = push(clinic)
        assert second.returncode == 0, second.stderr
        assert sorted(set(document_numbers(listener.accepted))) == sorted(
            document_numbers(listener.accepted)
        )
        assert len(listener.accepted) == 4
    finally:
        listener.__exit__()


def test_a_moved_appointment_is_sent_again_with_the_same_document_number(clinic):
    listener = start(clinic)
    try:
        assert push(clinic).returncode == 0
        moved = HEADER + rows(4).replace("2026-06-10,10:00", "2026-06-11,15:00")
        (clinic / "day.csv").write_text(moved, encoding="utf-8")
        again = push(clinic)
        assert again.returncode == 0 and "1 delivered, 3 already there" in again.stderr
        numbers = document_numbers(listener.accepted)
        assert len(numbers) == 5 and numbers[-1] == numbers[0]
    finally:
        listener.__exit__()


def test_kill_9_at_random_points_then_rerun_loses_and_duplicates_nothing(clinic):
    (clinic / "day.csv").write_text(HEADER + rows(10), encoding="utf-8")
    listener = start(clinic)
    rng = random.Random(25)
    try:
        for _ in range(4):
            proc = subprocess.Popen(
                command("day.csv"), cwd=clinic, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            time.sleep(rng.uniform(0.3, 2.5))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        final = push(clinic)
        assert final.returncode == 0, final.stderr
        accepted = listener.accepted
        numbers = document_numbers(accepted)
        assert len(set(numbers)) == 10  # every appointment's document is in the record
        for number in set(
            numbers
        ):  # a copy sent again (killed between the ACK and the log) is the same message
            copies = [m for m in accepted if document_numbers([m])[0] == number]
            assert len(set(control_ids(copies))) == 1
        assert len(accepted) - 10 <= 4  # at most one per kill
        assert "0 delivered, 10 already there" in push(clinic).stderr
    finally:
        listener.__exit__()


def test_plain_tcp_off_this_machine_needs_the_config_to_say_so(clinic):
    (clinic / "mesocare.yaml").write_text(
        config(2575, host="engine.clinic.example"), encoding="utf-8"
    )
    result = push(clinic)
    assert result.returncode == 1
    assert "mesocare.yaml, line" in result.stderr and "allow_plaintext" in result.stderr
    said = config(1, host="192.0.2.1", extra="    allow_plaintext: true\n")
    (clinic / "mesocare.yaml").write_text(said, encoding="utf-8")
    result = push(clinic)
    assert result.returncode == 3 and "cannot connect" in result.stderr


def test_no_ehr_section_is_a_config_error(clinic):
    (clinic / "mesocare.yaml").write_text(
        "name: Harbour\ntimezone: Europe/London\n", encoding="utf-8"
    )
    result = push(clinic)
    assert result.returncode == 1 and "no ehr: section" in result.stderr


def test_tls_to_the_engine_and_a_certificate_not_trusted(clinic, tmp_path):
    import trustme

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    ca.cert_pem.write_to_path(str(clinic / "engine-ca.pem"))
    with MllpListener(ssl=context) as listener:
        tls = "    security: tls\n"
        base = config(listener.port, host="localhost").replace("    security: none\n", tls)
        (clinic / "mesocare.yaml").write_text(base, encoding="utf-8")
        untrusted = push(clinic)
        assert untrusted.returncode == 3 and "the TLS handshake failed" in untrusted.stderr
        assert listener.received == []
        (clinic / "mesocare.yaml").write_text(
            base + "    ca_file: engine-ca.pem\n", encoding="utf-8"
        )
        trusted = push(clinic)
        assert trusted.returncode == 0, trusted.stderr
        assert len(listener.accepted) == 4


def _hold(log: Path):
    """Another program holds the push log's write lock for as long as the test runs."""
    from mesocare.push.pushlog import SCHEMA

    db = sqlite3.connect(log, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(SCHEMA)
    db.execute("BEGIN EXCLUSIVE")
    return db


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("not sqlite", "the push log is damaged (file is not a database)"),
        ("other table", "the push log is damaged (it holds no table of delivered records)"),
        ("older table", "the push log is damaged (its table is not the one mesocare writes)"),
        ("held", "the push log cannot be written (database is locked), so nothing was delivered"),
    ],
)
def test_a_push_log_that_cannot_record_says_so_in_its_own_words(clinic, fault, said):
    """Every fault of the push log stops the run before anything is delivered, in one sentence
    naming the file and the push log (never the sent log's words about patients' messages)."""
    (clinic / "state").mkdir()
    log = clinic / "state" / "pushed.sqlite3"
    holder = None
    if fault == "not sqlite":
        log.write_bytes(b"this is not a database at all\n" * 100)
    elif fault == "held":
        holder = _hold(log)
    else:
        with sqlite3.connect(log) as db:
            db.execute(
                "CREATE TABLE notes (x)"
                if fault == "other table"
                else "CREATE TABLE pushed (target, document)"
            )
        db.close()
    listener = start(clinic)
    try:
        result = push(clinic)
    finally:
        listener.__exit__()
        if holder is not None:
            holder.close()
    assert result.returncode == 1
    assert f"pushed.sqlite3: {said}" in result.stderr
    if fault != "held":
        assert "Move it aside (rename it)" in result.stderr
        assert "every record is delivered once more" in result.stderr
    assert "sent log" not in result.stderr and "Traceback" not in result.stderr
    assert "Secret" not in result.stderr and "P-2" not in result.stderr
    assert listener.received == []
