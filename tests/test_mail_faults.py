"""Issue 21: the same schedule through ``send`` and ``remind`` with a fault at each step of
sending and recording, then once more with nothing broken; then a count of what every
patient received (the real server's inbox): each message once, to its own patient, with
their own name, and nothing for the row whose address is not valid.

The faults: the server refuses the connection, drops it before the greeting, after MAIL
FROM, after RCPT TO, loses the data before its end, takes the data and closes before its
answer, answers after the timeout (a proxy between mesocare and the server: faultproxy.py);
the sent log cannot record before the run (immutable file, full disk, another program's
write lock) or its commit fails after the server accepted a message.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from faultproxy import FaultProxy
from mailserver import MailServer
from mesocare.config.clinic import load_clinic
from mesocare.errors import MesocareError
from mesocare.mail import sentlog
from mesocare.mail.outbox import run
from mesocare.readers import read_schedule

HEADER = "date,time,area,name,patient_id,appointment_id,email\n"
PATIENTS = [(f"Patient {n}", f"p{n}@example.com") for n in range(3)]
SCHEDULE = (
    HEADER
    + "".join(
        f"2024-06-10,09:{n * 10:02d},face,{name},P-{n},A-{n},{address}\n"
        for n, (name, address) in enumerate(PATIENTS)
    )
    + "2024-06-10,10:00,face,Zelda Invalid,P-9,A-9,[zelda@example.org\n"
)
WHEN = {"send": (date(2024, 6, 1), None), "remind": (date(2024, 6, 9), date(2024, 6, 9))}


class Clinic:
    """A clinic whose mail goes through the fault proxy to a real server."""

    def __init__(self, tmp_path: Path, ruleset, state: Path | None = None):
        self.tmp, self.ruleset = tmp_path, ruleset
        self.server = MailServer(tmp_path, starttls=False, auth=False).start()
        self.proxy = FaultProxy(self.server.port)
        self.state = state or tmp_path / "state"
        config = self.server.config(
            port=self.proxy.port, ca_file=None, timeout=1, retries=2, retry_wait=0.01
        )
        config = config.replace("state_dir: state", f"state_dir: {self.state}")
        (tmp_path / "mesocare.yaml").write_text(config, encoding="utf-8")
        self.clinic = load_clinic(tmp_path / "mesocare.yaml")
        self.err: list[str] = []

    def __call__(self, command: str, **kw) -> int:
        self.err = []
        today, day = WHEN[command]
        schedule = read_schedule(SCHEDULE.encode(), self.clinic, filename="s.csv")
        try:
            return run(
                command,
                schedule,
                self.ruleset,
                self.clinic,
                today,
                day=day,
                err=self.err.append,
                now=datetime(2024, 6, 1, 9, tzinfo=UTC),
                **kw,
            )
        except MesocareError as e:  # as the command line shows it: one sentence, exit code
            self.err.append(str(e))
            return int(e.exit_code)

    @property
    def stderr(self) -> str:
        return "\n".join(self.err)

    def stop(self) -> None:
        self.proxy.stop()
        self.server.stop()


@pytest.fixture
def clinic(tmp_path, ruleset):
    c = Clinic(tmp_path, ruleset)
    yield c
    c.stop()


def received(server: MailServer) -> dict[str, list]:
    """Each recipient's messages, as the server's inbox holds them."""
    out: dict[str, list] = {}
    for r in server.inbox:
        assert len(r.rcpt_tos) == 1
        out.setdefault(r.rcpt_tos[0], []).append(r.message)
    return out


def assert_each_patient_got_theirs_once(
    server: MailServer, same_id_twice: str | None = None
) -> None:
    """Exactly one message per patient with a valid address (one Message-ID: a copy with the
    same id is the documented limit ``same_id_twice``), to them, with their own name."""
    inbox = received(server)
    assert sorted(inbox) == sorted(
        address for _, address in PATIENTS
    )  # nothing for [zelda@..., nobody else
    for name, address in PATIENTS:
        messages = inbox[address]
        assert len({m["Message-ID"] for m in messages}) == 1, address
        assert len(messages) == (2 if address == same_id_twice else 1), address
        for m in messages:
            assert m["To"] == address
            text = " ".join(m.get_body(("plain",)).get_content().split())
            assert f"Hello {name}," in text
            assert all(other not in text for other, _ in PATIENTS if other != name)


def assert_private(text: str) -> None:
    assert "Patient" not in text and "@example.com" not in text and "zelda" not in text.lower()
    assert "Traceback" not in text


PROTOCOL_FAULTS = ["refused", "connect", "mail", "rcpt", "data-lost", "data", "slow"]


@pytest.mark.parametrize("command", ["send", "remind"])
@pytest.mark.parametrize("fault", PROTOCOL_FAULTS)
def test_a_fault_at_each_step_of_sending_then_a_clean_run(clinic, command, fault):
    if fault == "refused":
        clinic.proxy.stop()
    else:
        clinic.proxy.fault = fault
    code = clinic(command)
    assert code == 3, clinic.stderr  # the invalid row, at least
    assert "the email address is not valid" in clinic.stderr
    assert_private(clinic.stderr)
    if fault in ("mail", "rcpt"):  # nothing reached the server: retried at once, sent once
        assert clinic.proxy.fired == 1 and len(clinic.server.inbox) == 3
    if fault in ("data", "slow", "data-lost"):  # maybe delivered: never again in this run
        assert clinic.server.offered == (2 if fault == "data-lost" else 3)
        assert "1 message went to the mail server without an answer (row 3)" in clinic.stderr
    # the fault clears
    if fault == "refused":
        clinic.proxy = FaultProxy(clinic.server.port, port=clinic.proxy.port)
    clinic.proxy.fault = None
    assert clinic(command) == 3
    assert_private(clinic.stderr)
    if fault == "data-lost":  # it never arrived: the server's log says so, the clinic resends it
        assert "before without an answer (row 3)" in clinic.stderr and len(clinic.server.inbox) == 2
        assert clinic(command, resend_unconfirmed=True) == 3
    assert_each_patient_got_theirs_once(clinic.server)
    assert clinic(command) == 3 and len(clinic.server.inbox) == 3  # and once more: nothing new


# --------------------------------------------------------------------------- the log cannot record


def _prepare_log(folder: Path) -> None:
    with sentlog.SentLog(folder):
        pass


def _immutable(folder: Path):
    _prepare_log(folder)
    for name in os.listdir(folder):
        if name.startswith("sent.sqlite3"):
            os.remove(folder / name) if name != "sent.sqlite3" else None
    if subprocess.run(
        ["chattr", "+i", str(folder / "sent.sqlite3")], check=False, capture_output=True
    ).returncode:
        pytest.skip("chattr +i is not possible here")
    return lambda: subprocess.run(["chattr", "-i", str(folder / "sent.sqlite3")], check=True)


def _held(folder: Path):
    _prepare_log(folder)
    other = sqlite3.connect(folder / "sent.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    return lambda: (other.execute("ROLLBACK"), other.close())


def _full(folder: Path):
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
            check=False,
            capture_output=True,
        ).returncode
    ):
        pytest.skip("a small tmpfs cannot be mounted here")
    try:
        _prepare_log(folder)
        fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 1024):
                pass
        except OSError:
            pass
        os.close(fd)
    except BaseException:
        subprocess.run(["umount", str(folder)], check=False)
        raise
    return lambda: os.remove(folder / "filler")


@pytest.mark.parametrize("command", ["send", "remind"])
@pytest.mark.parametrize("fault", ["immutable", "held", "full"])
def test_a_log_that_cannot_record_stops_the_run_before_anything_is_sent(
    tmp_path, ruleset, monkeypatch, command, fault
):
    monkeypatch.setattr(sentlog, "BUSY_SECONDS", 0.3)
    state = tmp_path / "state"
    state.mkdir()
    clear = {"immutable": _immutable, "held": _held, "full": _full}[fault](state)
    clinic = Clinic(tmp_path, ruleset, state)
    try:
        code = clinic(command)
        assert code == 1 and len(clinic.server.inbox) == 0 and clinic.proxy.messages == 0
        assert "sent.sqlite3: the sent log" in clinic.stderr and "nothing was sent" in clinic.stderr
        assert_private(clinic.stderr)
        assert clinic(command) == 1 and clinic.server.inbox == []  # every run: still nothing
        clear()
        assert clinic(command) == 3
        assert_each_patient_got_theirs_once(clinic.server)
        assert clinic(command) == 3 and len(clinic.server.inbox) == 3
    finally:
        clinic.stop()
        if fault == "full":
            subprocess.run(["umount", str(state)], check=False)


@pytest.mark.parametrize("command", ["send", "remind"])
def test_a_commit_that_fails_after_the_server_accepted_stops_at_once(clinic, monkeypatch, command):
    """The log took the probe, then failed on the second message's commit (the disk filled in
    between): nothing more is sent; the next run sends that one message again, with the same
    Message-ID (the window we cannot close alone), and everyone else's once."""
    real = sentlog.SentLog.record
    calls = []

    def failing(self, *args, **kw):
        calls.append(args[0])
        if len(calls) == 2:
            raise sentlog.SentLogError(
                f"{self.path}: the sent log cannot be written (database or disk is full)."
            )
        return real(self, *args, **kw)

    monkeypatch.setattr(sentlog.SentLog, "record", failing)
    assert clinic(command) == 1
    assert len(clinic.server.inbox) == 2  # the third message was not sent
    assert (
        "row 3: the message went to the mail server, but" in clinic.stderr
        and "Nothing more was sent" in clinic.stderr
    )
    assert_private(clinic.stderr)
    monkeypatch.setattr(sentlog.SentLog, "record", real)
    assert clinic(command) == 3
    assert_each_patient_got_theirs_once(clinic.server, same_id_twice=PATIENTS[1][1])


# --------------------------------------------------------------------------- a damaged log


def _damage(path: Path, how: str) -> None:
    if how == "not sqlite":
        path.write_bytes(b"this is not a database at all\n" * 100)
        return
    db = sqlite3.connect(path)
    if how == "older schema":  # a table mesocare never wrote
        db.execute("CREATE TABLE sent (appointment TEXT, kind TEXT, hash TEXT)")
    elif how == "other table":
        db.execute("CREATE TABLE notes (x)")
    else:
        db.executescript(sentlog.SCHEMA)
        facts = (
            "{not json"
            if how == "facts not json"
            else "[1, 2]"
            if how == "facts not a mapping"
            else "{}"
        )
        copies = "many" if how == "copies not a number" else 1
        db.execute(
            "INSERT INTO sent (appointment, kind, content_hash, facts, message_id, copies, sent_at,"
            " state) VALUES ('booking:A-0', 'handout', 'h', ?, '<m>', ?, 'now', 'accepted')",
            (facts, copies),
        )
        db.execute(
            "INSERT INTO sent (appointment, kind, content_hash, facts, message_id, copies, sent_at,"
            " state) VALUES ('booking:A-0', 'reminder:2024-06-09', 'h', ?, '<m>', ?, 'now', 'x')",
            (facts, copies),
        )
    db.commit()
    db.close()


@pytest.mark.parametrize(
    "how",
    [
        "not sqlite",
        "older schema",
        "other table",
        "facts not json",
        "facts not a mapping",
        "copies not a number",
    ],
)
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_damaged_log_is_named_with_what_to_do(clinic, tmp_path, how, dry_run):
    clinic.state.mkdir(exist_ok=True)
    _damage(clinic.state / "sent.sqlite3", how)
    for command in ("send", "remind"):
        extra = {"dry_run": tmp_path / "eml"} if dry_run else {}
        (tmp_path / "eml").mkdir(exist_ok=True)
        code = clinic(command, **extra)
        assert code == 1, (command, clinic.stderr)
        assert f"{clinic.state / 'sent.sqlite3'}: the sent log is damaged" in clinic.stderr
        assert "Move it aside" in clinic.stderr and "once more" in clinic.stderr
        assert_private(clinic.stderr)
    assert clinic.server.inbox == []


def test_a_log_from_before_the_state_column_keeps_working(clinic):
    """An older log (no ``state``, no ``patient`` fact) is migrated: nothing is sent again."""
    assert clinic("send") == 3 and len(clinic.server.inbox) == 3
    db = sqlite3.connect(clinic.state / "sent.sqlite3")
    rows = db.execute(
        "SELECT appointment, kind, content_hash, facts, message_id, copies, sent_at FROM sent"
    ).fetchall()
    db.execute("DROP TABLE sent")
    db.executescript(
        sentlog.SCHEMA.replace("    state        TEXT NOT NULL DEFAULT 'accepted',\n", "").replace(
            "    first_message_id TEXT,\n", ""
        )
    )
    import json

    from mesocare.mail import messages as m

    for row in rows:  # as the old code wrote them: no patient fact, the hash without it
        facts = json.loads(row[3])
        del facts["patient"]
        old_hash = m._digest(facts["plan"], facts["address"])
        db.execute(
            "INSERT INTO sent VALUES (?, ?, ?, ?, ?, ?, ?)",
            (row[0], row[1], old_hash, json.dumps(facts), row[4], row[5], row[6]),
        )
    db.commit()
    db.close()
    outbox = clinic.tmp / "eml"
    outbox.mkdir()
    assert clinic("send", dry_run=outbox) == 3 and not any(outbox.iterdir())  # read-only: as is
    assert clinic("send") == 3 and len(clinic.server.inbox) == 3
    assert "3 already sent before, unchanged" in clinic.stderr


# --------------------------------------------------------------------------- security: none


def test_a_localhost_name_that_resolves_elsewhere_gets_nothing(tmp_path, ruleset, monkeypatch):
    import socket

    real = socket.getaddrinfo
    lookups = []

    def resolver(host, port, *args, **kw):
        lookups.append(host)
        if host == "evil.localhost":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.7", port)),
            ]
        return real(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    clinic = Clinic(tmp_path, ruleset)
    try:
        clinic.clinic = replace(
            clinic.clinic, mail=replace(clinic.clinic.mail, host="evil.localhost")
        )
        assert clinic("send") == 3
        assert "evil.localhost is also another machine's name" in clinic.stderr
        assert clinic.proxy.messages == 0 and clinic.server.inbox == []
    finally:
        clinic.stop()


def test_security_none_connects_to_the_address_it_checked(tmp_path, ruleset, monkeypatch):
    """A name looked up once: a second look-up that would answer another machine never happens."""
    import socket

    real = socket.getaddrinfo
    answers = iter(["127.0.0.1"])

    def resolver(host, port, *args, **kw):
        if host == "desk.localhost":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers, "203.0.113.7"), port))
            ]
        return real(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    clinic = Clinic(tmp_path, ruleset)
    try:
        clinic.clinic = replace(
            clinic.clinic, mail=replace(clinic.clinic.mail, host="desk.localhost")
        )
        assert clinic("send") == 3
        assert_each_patient_got_theirs_once(clinic.server)
    finally:
        clinic.stop()


# --------------------------------------------------------------------------- any address in a row


def test_any_address_in_a_schedule_is_planned_without_a_traceback_and_never_echoed(
    ruleset, tmp_path
):
    """Fuzz: whatever a schedule's email cell holds, planning a send or a reminder and its
    summary raise nothing and never quote it; a row is planned only with a valid address."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from mesocare.addresses import valid_address
    from mesocare.mail.outbox import Report, plan_handouts, plan_reminders
    from mesocare.mail.sentlog import SentLog
    from mesocare.mail.summary import summary
    from mesocare.model import Clinic as ClinicSettings
    from mesocare.model import Request, Schedule, ScheduleRow

    pieces = st.sampled_from(
        [
            "zelda",
            "@",
            ".",
            "[",
            "]",
            "<",
            ">",
            '"',
            " ",
            "\\",
            ",",
            ";",
            "example",
            "org",
            "-",
            "\r\n",
            "\x00",
            "é",
            "=?utf-8?q?x?=",
            "\t",
        ]
    )
    cell = st.one_of(st.text(max_size=40), st.lists(pieces, max_size=12).map("".join))
    clinic = ClinicSettings(timezone="Europe/London")

    def texts(address: str) -> list[str]:
        request = Request(
            date=date(2024, 6, 10),
            areas=("face",),
            name="Zelda Q",
            email=address,
            appointment_id="A-1",
        )
        schedule = Schedule(rows=(ScheduleRow(position="row 2", request=request),), problems=())
        out = []
        with SentLog(tmp_path / "none", readonly=True) as log:
            for plan in (
                plan_handouts(schedule, ruleset, clinic, date(2024, 6, 1), log),
                plan_reminders(
                    schedule, ruleset, clinic, date(2024, 6, 9), log, day=date(2024, 6, 9)
                ),
            ):
                assert bool(plan.jobs) is valid_address(address.strip())
                out.append(summary(plan, Report(), "message") + " ".join(map(str, plan.problems)))
        return out

    @settings(max_examples=150, deadline=None)
    @given(cell)
    def check(address):
        """The words are those of a stand-in of the same kind: nothing of the address shows."""
        kind = (
            ""
            if not address.strip()
            else "p@example.com"
            if valid_address(address.strip())
            else "not an address"
        )
        assert texts(address) == texts(kind)

    check()
