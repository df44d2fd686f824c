#!/usr/bin/env python3
"""1,000 appointments emailed to a local SMTP server in one run: wall time, peak memory.

    .venv/bin/python bench/mail.py               # 1,000 appointments (and 200, to see memory stay flat)
    .venv/bin/python bench/mail.py --count 300

The server is the tests' own (aiosmtpd on 127.0.0.1 with STARTTLS and AUTH, a trustme CA),
so this needs the test dependencies. Each message carries its handout PDF and calendar
file. A second run over the same schedule sends nothing and shows what a rerun costs. The
CPU time (mesocare and its rendering workers) is printed beside the wall time: on a busy
machine it says more than the wall time. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

AREAS = ["face", "neck", "body", "hands", "scalp", "face+neck"]


def schedule(path: Path, count: int) -> None:
    rng = random.Random(7)
    lines = ["date,time,area,name,patient_id,appointment_id,email,booked_on"]
    for i in range(count):
        hour, minute = 8 + (i % 10), rng.choice([0, 15, 30, 45])
        lines.append(f"2024-06-10,{hour:02d}:{minute:02d},{rng.choice(AREAS)},Patient {i:04d},P-{i:05d},B-{i:05d},"
                     f"patient{i}@example.com,{rng.choice(['2024-05-01', '2024-06-03', ''])}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def cpu_seconds() -> float:
    """CPU time of every finished child so far, with their own children (the PDF workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], cwd: Path, env: dict) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds, exit code and stderr of one run."""
    start, cpu = time.perf_counter(), cpu_seconds()
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return time.perf_counter() - start, cpu_seconds() - cpu, done.returncode, done.stderr


def peak_mb() -> float:
    """The largest resident size of any finished child so far (main process or a worker)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def one(count: int) -> None:
    from mailserver import PASSWORD, MailServer

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = MailServer(folder).start()
        try:
            (folder / "mesocare.yaml").write_text(server.config(), encoding="utf-8")
            schedule(folder / "coming.csv", count)
            env = {**os.environ, "MESOCARE_SMTP_PASSWORD": PASSWORD}
            cmd = [sys.executable, "-m", "mesocare", "send", "coming.csv", "--clinic", "mesocare.yaml", "--today", "2024-06-01"]
            load = os.getloadavg()[0]
            wall, cpu, code, err = run(cmd, folder, env)
            if code != 0 or len(server.inbox) != count:
                sys.exit(f"send failed (exit {code}, {len(server.inbox)} of {count} received):\n{err}")
            size = sum(len(r.data) for r in server.inbox) / count / 1024
            print(f"{count} messages sent (PDF + calendar, {size:.0f} KB each): {wall:.1f} s wall, "
                  f"{cpu:.1f} s CPU (mesocare and its workers), peak memory of one process {peak_mb():.0f} MB"
                  f" [load average {load:.1f} on {os.cpu_count()} cores]")
            wall, cpu, code, _ = run(cmd, folder, env)
            print(f"  the same schedule again: {len(server.inbox) - count} sent, {wall:.1f} s wall, {cpu:.1f} s CPU")
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    if args.count == 1000:
        one(200)
    one(args.count)


if __name__ == "__main__":
    main()
