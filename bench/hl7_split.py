#!/usr/bin/env python3
"""mesocare's HL7 split against python-hl7 (``pip install hl7``), in one process and one run.

    .venv/bin/python bench/hl7_split.py                # 20,000 messages of each kind
    .venv/bin/python bench/hl7_split.py --count 2000
    .venv/bin/python bench/hl7_split.py --write-results   # into bench/RESULTS.md

For a small message (MSH, SCH, PID) and a fuller one (eight segments), it times CPU seconds
to split all messages into fields: mesocare's split, hl7.parse on each whole message, and
hl7.parse on only the segments mesocare reads; then mesocare's whole reader (fields mapped
to appointments). The machine's load inflates every figure alike: compare within one run.
"""

from __future__ import annotations

import argparse
import sys
import time
from importlib import metadata

from results import Figure, add_arguments, write_results

from mesocare.model import Clinic
from mesocare.readers.hl7_messages import parse_message, split_messages
from mesocare.readers.hl7_reader import _WANTED, read_hl7

MSH = r"MSH|^~\&|DESK|HARBOUR|MESOCARE|HARBOUR|20240601091200||SIU^S12|M{n}|P|2.5"
SMALL = MSH + "\rSCH|A{n}|F{n}||||||MESO-FACE|||^^30^20240610100000\rPID|1||P-{n}||Doe^Jane\r"
FULL = (
    MSH + "\rSCH|A{n}|F{n}|||||MESO-FACE^Face mesotherapy|NORMAL|30|min"
    "|^^30^20240610100000^20240610103000|DR^Lee"
    "|||||||||BOOKED\rTQ1|1||||||20240610100000|20240610103000"
    "\rPID|1||P-{n}^^^EX^MR||Doe^Jane^Q^^Ms||19800101|F"
    "|||1 Main St^^Town^^12345||^PRN^PH^^^^0123~^NET^Internet^jane@example.org"
    "||fre^French^ISO639\rRGS|1"
    "\rAIS|1||MESO-FACE^Face|20240610100000|||30|min"
    "\rAIP|1||DR^Lee|||20240610100000\rNTE|1||a note\r"
)


def seconds(job) -> float:
    started = time.process_time()
    job()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    add_arguments(parser, baseline=False)
    args = parser.parse_args()
    count = args.count
    try:
        import hl7
    except ImportError:
        hl7 = None
        print("python-hl7 is not installed (pip install hl7): timing mesocare only")
    clinic = Clinic(timezone="Europe/London")
    figures = []
    for label, template in (("small", SMALL), ("full", FULL)):
        text = "".join(template.format(n=n) for n in range(count))
        messages, _ = split_messages(text)
        wanted = ["\r".join(s for s in m if s[:3] in _WANTED) for m in messages]
        jobs = {"mesocare split": lambda ms=messages: [parse_message(m, _WANTED) for m in ms]}
        if hl7 is not None:
            jobs["hl7.parse, whole"] = lambda ms=messages: [hl7.parse(chr(13).join(m)) for m in ms]
            jobs["hl7.parse, read ones"] = lambda ws=wanted: [hl7.parse(m) for m in ws]
        jobs["mesocare read_hl7"] = lambda t=text: read_hl7(t.encode(), clinic)
        print(f"{count:,} {label} messages, CPU seconds:")
        for job, run in jobs.items():
            spent = seconds(run)
            print(f"  {job:<21} {spent:7.2f}")
            figures.append(Figure(f"{count:,} {label} messages: {job}", "s CPU", [spent]))
    if args.write_results:
        hl7_version = (
            "python-hl7 not installed" if hl7 is None else f"python-hl7 {metadata.version('hl7')}"
        )
        write_results(
            "bench/hl7_split.py",
            ["bench/hl7_split.py", *sys.argv[1:]],
            figures,
            args,
            notes=[f"in one process; {hl7_version}"],
        )


if __name__ == "__main__":
    main()
