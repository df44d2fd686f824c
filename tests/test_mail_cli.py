"""`mesocare send` / `remind` as a clinic runs them: a subprocess, a real server, kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mailserver import PASSWORD, MailServer

HEADER = "date,time,area,name,patient_id,appointment_id,email\n"


def rows(n: int) -> str:
    return "".join(
        f"2024-06-10,09:{i:02d},face,Patient {i},P-{i},A-{i},p{i}@example.com\n" for i in range(n)
    )


@pytest.fixture
def server(tmp_path):
    srv = MailServer(tmp_path).start()
    yield srv
    srv.stop()


@pytest.fixture
def clinic(tmp_path, server):
    (tmp_path / "mesocare.yaml").write_text(server.config(), encoding="utf-8")
    (tmp_path / "coming.csv").write_text(
        HEADER + rows(6) + "2024-06-10,10:00,neck,No Mail,P-x,A-x,\n", encoding="utf-8"
    )
    return tmp_path


def command(*args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mesocare",
        *args,
        "--clinic",
        "mesocare.yaml",
        "--today",
        "2024-06-01",
    ]


def env(password: str | None = PASSWORD) -> dict:
    e = {k: v for k, v in os.environ.items() if k != "MESOCARE_SMTP_PASSWORD"}
    if password is not None:
        e["MESOCARE_SMTP_PASSWORD"] = password
    return e


def mesocare(folder: Path, *args: str, password: str | None = PASSWORD):
    return subprocess.run(
        command(*args), cwd=folder, env=env(password), capture_output=True, text=True, timeout=300
    )


def test_send_then_rerun(clinic, server):
    first = mesocare(clinic, "send", "coming.csv")
    assert first.returncode == 0, first.stderr
    assert "6 handout messages sent." in first.stderr
    assert "1 without an email address: print theirs (row 8)." in first.stderr
    assert len(server.inbox) == 6
    again = mesocare(clinic, "send", "coming.csv")
    assert again.returncode == 0 and len(server.inbox) == 6
    assert "6 already sent before, unchanged: not sent again." in again.stderr
    remind = mesocare(clinic, "remind", "coming.csv", "--date", "2024-06-09")
    assert remind.returncode == 0, remind.stderr
    assert "6 reminders sent." in remind.stderr and len(server.inbox) == 12
    for out in (first, again, remind):
        assert PASSWORD not in out.stderr + out.stdout
        assert "Patient" not in out.stderr and "@example.com" not in out.stderr


def test_killed_part_way_then_rerun_gives_each_patient_one_copy(clinic, server):
    """kill -9 while the server holds message 4 (not yet accepted): 3 recorded, the rest next
    run."""
    proc = None

    def replies(n, envelope):
        if n == 4:
            os.kill(proc.pid, signal.SIGKILL)
            return "451 4.3.0 the client is gone"
        return None

    server.replies = replies
    proc = subprocess.Popen(
        command("send", "coming.csv"),
        cwd=clinic,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL
    assert len(server.inbox) == 3
    server.replies = None
    rerun = mesocare(clinic, "send", "coming.csv")
    assert rerun.returncode == 0, rerun.stderr
    assert "3 handout messages sent." in rerun.stderr and "3 already sent before" in rerun.stderr
    assert sorted(r.rcpt_tos[0] for r in server.inbox) == sorted(
        f"p{i}@example.com" for i in range(6)
    )


def test_killed_after_the_server_accepted_resends_that_one_message_with_the_same_id(clinic, server):
    """The documented window: the server took message 2, the process died before recording it."""
    proc = None

    def replies(n, envelope):
        if n == 2:
            server.inbox.append(server.received(envelope))  # accepted on the server's side...
            os.kill(proc.pid, signal.SIGKILL)  # ...and the client dies before it reads the 250
            return "250 2.0.0 OK queued"
        return None

    server.replies = replies
    proc = subprocess.Popen(
        command("send", "coming.csv"),
        cwd=clinic,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.communicate(timeout=300)
    server.replies = None
    assert mesocare(clinic, "send", "coming.csv").returncode == 0
    ids = [r.message["Message-ID"] for r in server.inbox]
    assert len(ids) == 7 and len(set(ids)) == 6  # one message twice, with the same Message-ID
    assert mesocare(clinic, "send", "coming.csv").returncode == 0 and len(server.inbox) == 7


def test_failures_exit_3_and_never_show_the_password(clinic, server):
    server.replies = lambda n, e: (
        "550 5.1.1 <p2@example.com> no such user" if e.rcpt_tos[0] == "p2@example.com" else None
    )
    out = mesocare(clinic, "send", "coming.csv")
    assert out.returncode == 3
    assert "1 message not sent:" in out.stderr
    assert (
        "row 4: refused by the mail server (550 5.1.1 <address> no such user); not retried"
        in out.stderr
    )
    wrong = mesocare(clinic, "send", "coming.csv", password="Wrong-" + PASSWORD)
    assert wrong.returncode == 3 and "refused the login" in wrong.stderr
    missing = mesocare(clinic, "send", "coming.csv", password=None)
    assert missing.returncode == 1 and "MESOCARE_SMTP_PASSWORD" in missing.stderr
    debug = subprocess.run(
        command("send", "coming.csv", "--debug"),
        cwd=clinic,
        env=env("Wrong-" + PASSWORD),
        capture_output=True,
        text=True,
        timeout=300,
    )
    for run in (out, wrong, missing, debug):
        assert PASSWORD not in run.stderr + run.stdout


def test_security_none_to_another_machine_is_refused_before_any_traffic(tmp_path):
    (tmp_path / "mesocare.yaml").write_text(
        "name: X\ntimezone: Europe/London\nemail:\n  from: desk@clinic.test\n"
        "  host: smtp.clinic.example\n  security: none\n",
        encoding="utf-8",
    )
    (tmp_path / "coming.csv").write_text(HEADER + rows(1), encoding="utf-8")
    out = mesocare(tmp_path, "send", "coming.csv")
    assert out.returncode == 1
    assert "mesocare.yaml, line 3, field 'email'" in out.stderr and "security: none" in out.stderr


def test_no_email_settings_says_so(tmp_path):
    (tmp_path / "mesocare.yaml").write_text("name: X\ntimezone: Europe/London\n", encoding="utf-8")
    (tmp_path / "coming.csv").write_text(HEADER + rows(1), encoding="utf-8")
    out = mesocare(tmp_path, "send", "coming.csv")
    assert out.returncode == 1 and "no email: settings with a host" in out.stderr
    dry = mesocare(tmp_path, "send", "coming.csv", "--dry-run", "outbox")
    assert dry.returncode == 0, dry.stderr
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [
        "2024-06-10_0900_P-0.instructions.eml"
    ]


# ------------------------------------------------------------------ issue 21, as a clinic sees it

MALFORMED = ["[zelda@example.org", "zelda@example.org.", "@zelda.example.org", "a@b..com"]


@pytest.mark.parametrize("address", MALFORMED)
def test_a_malformed_patient_address_skips_that_row_only(clinic, server, address):
    (clinic / "coming.csv").write_text(
        HEADER + rows(2) + f"2024-06-10,11:00,face,Zelda Quixote-Marsh,P-z,A-z,{address}\n",
        encoding="utf-8",
    )
    for args in (
        ("send", "coming.csv"),
        ("send", "coming.csv", "--dry-run", "outbox"),
        ("remind", "coming.csv", "--date", "2024-06-09"),
    ):
        out = mesocare(clinic, *args)
        assert out.returncode == 3, out.stderr
        assert "row 4, email: the email address is not valid: nothing sent" in out.stderr
        assert "Traceback" not in out.stderr and address not in out.stderr
        assert "Zelda" not in out.stderr
    assert sorted(r.rcpt_tos[0] for r in server.inbox) == [
        "p0@example.com",
        "p0@example.com",
        "p1@example.com",
        "p1@example.com",
    ]


@pytest.mark.parametrize("address", MALFORMED)
def test_a_malformed_clinic_address_stops_only_the_mail_commands(tmp_path, address):
    (tmp_path / "mesocare.yaml").write_text(
        f'name: X\ntimezone: Europe/London\nemail:\n  from: "{address}"\n  host: localhost\n'
        "  security: none\n",
        encoding="utf-8",
    )
    (tmp_path / "coming.csv").write_text(HEADER + rows(1), encoding="utf-8")
    for args in (
        ("send", "coming.csv"),
        ("send", "coming.csv", "--dry-run", "outbox"),
        ("remind", "coming.csv", "--date", "2024-06-09"),
    ):
        out = mesocare(tmp_path, *args)
        assert out.returncode == 1, out.stderr
        assert out.stderr.strip().endswith(
            "mesocare.yaml, line 4, field 'email.from': this is not an email address such as"
            " desk@clinic.example, so no mail can be sent."
        )
        assert "Traceback" not in out.stderr and address not in out.stderr
    assert not (tmp_path / "outbox").exists() or not any((tmp_path / "outbox").iterdir())
    ics = mesocare(
        tmp_path,
        "prep",
        "--date",
        "2024-06-10",
        "--time",
        "10:00",
        "--area",
        "face",
        "--format",
        "ics",
    )
    assert ics.returncode == 0, ics.stderr
    assert "BEGIN:VEVENT" in ics.stdout and "ORGANIZER" not in ics.stdout  # none, not a bad one
    assert address not in ics.stdout + ics.stderr


def test_resend_unconfirmed_sends_the_held_message_once(clinic, server):
    server.replies = lambda n, e: "drop" if n == 2 else None
    first = mesocare(clinic, "send", "coming.csv")
    assert first.returncode == 3 and len(server.inbox) == 5 and server.offered == 6
    assert "1 message went to the mail server without an answer (row 3)" in first.stderr
    server.replies = None
    again = mesocare(clinic, "send", "coming.csv")
    assert again.returncode == 3 and server.offered == 6
    assert "--resend-unconfirmed" in again.stderr
    forced = mesocare(clinic, "send", "coming.csv", "--resend-unconfirmed")
    assert forced.returncode == 0, forced.stderr
    everyone = sorted(f"p{i}@example.com" for i in range(6))
    assert sorted(r.rcpt_tos[0] for r in server.inbox) == everyone
    assert mesocare(clinic, "send", "coming.csv", "--resend-unconfirmed").returncode == 0
    assert len(server.inbox) == 6


def test_a_dry_run_that_fails_before_its_first_message_makes_no_folder(clinic):
    missing = mesocare(clinic, "send", "missing.csv", "--dry-run", "outbox")
    assert missing.returncode == 1 and "missing.csv" in missing.stderr
    (clinic / "tpl" / "mail").mkdir(parents=True)
    (clinic / "tpl" / "mail" / "handout.txt.j2").write_text("{% if %}\n", encoding="utf-8")
    config = clinic / "mesocare.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "templates_dir: tpl\n", encoding="utf-8")
    broken = mesocare(clinic, "send", "coming.csv", "--dry-run", "outbox")
    assert broken.returncode == 1 and "handout.txt.j2" in broken.stderr, broken.stderr
    assert "Traceback" not in missing.stderr + broken.stderr
    assert not (clinic / "outbox").exists()
    (clinic / "file").write_text("not a folder")
    clash = mesocare(clinic, "send", "coming.csv", "--dry-run", "file")
    assert clash.returncode == 1 and "is not a folder" in clash.stderr


def test_a_dry_run_message_that_cannot_be_written_is_named_and_the_others_are_written(clinic):
    (clinic / "outbox" / "2024-06-10_0901_P-1.instructions.eml").mkdir(parents=True)
    dry = mesocare(clinic, "send", "coming.csv", "--dry-run", "outbox")
    assert dry.returncode == 3, dry.stderr
    assert "row 3: not written" in dry.stderr and "Is a directory" in dry.stderr
    assert "5 handout messages written as 5 .eml files" in dry.stderr
    assert "Patient 1" not in dry.stderr and "Traceback" not in dry.stderr
    written = sorted(p.name for p in (clinic / "outbox").iterdir() if p.is_file())
    assert len(written) == 5 and "2024-06-10_0900_P-0.instructions.eml" in written
