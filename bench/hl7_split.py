#!/usr/bin/env python3
"""mesocare's HL7 split against python-hl7 (``pip install hl7``), in one process and one run.

    .venv/bin/python bench/hl7_split.py                # 20,000 messages of each kind
    .venv/bin/python bench/hl7_split.py --count 2000

For a small message (MSH, SCH, PID) and a fuller one (eight segments), it times CPU seconds
to split all messages into fields: mesocare's split, hl7.parse on each whole message, and
hl7.parse on only the segments mesocare reads; then mesocare's whole reader (fields mapped
to appointments). The machine's load inflates every figure alike: compare within one run.
"""

from __future__ import annotations

import argparse
import time

from mesocare.model import Clinic
from mesocare.readers.hl7_messages import parse_message, split_messages
from mesocare.readers.hl7_reader import _WANTED, read_hl7

MSH = r"MSH|^~\&|DESK|HARBOUR|MESOCARE|HARBOUR|20240601091200||SIU^S12|M{n}|P|2.5"
SMALL = MSH + "\rSCH|A{n}|F{n}||||||MESO-FACE|||^^30^20240610100000\rPID|1||P-{n}||Doe^Jane\r"
FULL = (
    MSH + "\rSCH|A{n}|F{n}|||||MESO-FACE^Face mesotherapy|NORMAL|30|min|^^30^20240610100000^20240610103000|DR^Lee"
    "|||||||||BOOKED\rTQ1|1||||||20240610100000|20240610103000\rPID|1||P-{n}^^^EX^MR||Doe^Jane^Q^^Ms||19800101|F"
    "|||1 Main St^^Town^^12345||^PRN^PH^^^^0123~^NET^Internet^jane@example.org||fre^French^ISO639\rRGS|1"
    "\rAIS|1||MESO-FACE^Face|20240610100000|||30|min\rAIP|1||DR^Lee|||20240610100000\rNTE|1||a note\r"
)


def seconds(job) -> float:
    started = time.process_time()
    job()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20_000)
    count = parser.parse_args().count
    try:
        import hl7
    except ImportError:
        hl7 = None
        print("python-hl7 is not installed (pip install hl7): timing mesocare only")
    clinic = Clinic(timezone="Europe/London")
    for label, template in (("small", SMALL), ("full", FULL)):
        text = "".join(template.format(n=n) for n in range(count))
        messages, _ = split_messages(text)
        wanted = ["\r".join(s for s in m if s[:3] in _WANTED) for m in messages]
        print(f"{count:,} {label} messages, CPU seconds:")
        print(f"  mesocare split        {seconds(lambda: [parse_message(m, _WANTED) for m in messages]):7.2f}")
        if hl7 is not None:
            print(f"  hl7.parse, whole      {seconds(lambda: [hl7.parse(chr(13).join(m)) for m in messages]):7.2f}")
            print(f"  hl7.parse, read ones  {seconds(lambda: [hl7.parse(m) for m in wanted]):7.2f}")
        print(f"  mesocare read_hl7     {seconds(lambda: read_hl7(text.encode(), clinic)):7.2f}")


if __name__ == "__main__":
    main()
