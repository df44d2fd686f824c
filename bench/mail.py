#!/usr/bin/env python3
"""1,000 appointments emailed to a local SMTP server in one run: wall time, peak memory.

    .venv/bin/python bench/mail.py  # 1,000 appointments (and 200, to see memory stay flat)
    .venv/bin/python bench/mail.py --count 300 --write-results

The server is the tests' own (aiosmtpd on 127.0.0.1 with STARTTLS and AUTH, a trustme CA),
so this needs the test dependencies. Each message carries its handout PDF and calendar
file. A second run over the same schedule sends nothing and shows what a rerun costs. The
CPU time (mesocare and its rendering workers) is printed beside the wall time: on a busy
machine it says more than the wall time. With --baseline PATH the mesocare of another checkout
(with a .venv) or venv sends the same schedule to a fresh server. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

from results import REPO, Figure, add_arguments, interpreters, measure, write_results

sys.path.insert(0, str(REPO / "tests"))

AREAS = ["face", "neck", "body", "hands", "scalp", "face+neck"]


def schedule(path: Path, count: int) -> None:
    rng = random.Random(7)
    lines = ["date,time,area,name,patient_id,appointment_id,email,booked_on"]
    for i in range(count):
        hour, minute = 8 + (i % 10), rng.choice([0, 15, 30, 45])
        lines.append(
            f"2024-06-10,{hour:02d}:{minute:02d},{rng.choice(AREAS)},Patient "
            f"{i:04d},P-{i:05d},B-{i:05d},"
            f"patient{i}@example.com,{rng.choice(['2024-05-01', '2024-06-03', ''])}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def one(count: int, python: str, name: str, figures: dict[str, Figure]) -> None:
    from mailserver import PASSWORD, MailServer

    def add(what: str, unit: str, value: float) -> None:
        figure = figures.setdefault(what, Figure(what, unit, []))
        (figure.baseline if name == "baseline" else figure.values).append(value)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = MailServer(folder).start()
        try:
            (folder / "mesocare.yaml").write_text(server.config(), encoding="utf-8")
            schedule(folder / "coming.csv", count)
            env = {**os.environ, "MESOCARE_SMTP_PASSWORD": PASSWORD}
            cmd = [
                python,
                "-m",
                "mesocare",
                "send",
                "coming.csv",
                "--clinic",
                "mesocare.yaml",
                "--today",
                "2024-06-01",
            ]
            r = measure(cmd, folder, env)
            if len(server.inbox) != count:
                sys.exit(f"send failed: {len(server.inbox)} of {count} received")
            size = sum(len(m.data) for m in server.inbox) / count / 1024
            print(
                f"{name}: {count} messages sent (PDF + calendar, {size:.0f} KB each): "
                f"{r['wall']:.1f} s wall, "
                f"{r['cpu']:.1f} s CPU (mesocare and its workers), "
                f"peak memory of one process {r['peak']:.0f} MB",
                flush=True,
            )
            add(f"{count:,} messages sent, wall", "s", r["wall"])
            add(f"{count:,} messages sent, CPU of every process", "s", r["cpu"])
            add(f"{count:,} messages sent, peak memory of the largest process", "MB", r["peak"])
            again = measure(cmd, folder, env)
            print(
                f"  the same schedule again: {len(server.inbox) - count} sent, "
                f"{again['wall']:.1f} s wall, "
                f"{again['cpu']:.1f} s CPU",
                flush=True,
            )
            add(f"the same {count:,} again (nothing to send), wall", "s", again["wall"])
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    add_arguments(parser)
    args = parser.parse_args()
    figures: dict[str, Figure] = {}
    for count in ([200] if args.count == 1000 else []) + [args.count]:
        for name, python in interpreters(args):
            one(count, python, name, figures)
    if args.write_results:
        write_results(
            "bench/mail.py",
            ["bench/mail.py", *sys.argv[1:]],
            list(figures.values()),
            args,
            notes=[
                "the server: the tests' aiosmtpd on 127.0.0.1 (STARTTLS, AUTH), on the same machine"
            ],
        )


if __name__ == "__main__":
    main()
