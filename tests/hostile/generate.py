"""Generators for hostile-corpus files too big (or too binary) to commit: a case names one
under ``files: NAME: {generate: KIND, ...}``. Each takes the case's options and returns bytes;
all are deterministic (the same bytes on every run)."""

from __future__ import annotations

import json
import random

NAME = "Zelda Quixote-Marsh"  # the marker patient of every case: never on stderr


def csv_rows(rows: int = 1000, day: str = "2024-06-10", **_) -> bytes:
    lines = ["date,time,area,name,patient_id"]
    lines += [
        f"{day if n % 1000 == 0 else '2024-07-01'},{8 + n % 10}:30,face,{NAME},P-{n}"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def long_line(megabytes: int = 5, **_) -> bytes:
    return b"date,time,area,name\n2024-06-10,10:00,face," + NAME.encode() * (
        megabytes * 1024 * 1024 // len(NAME)
    )


def hl7_messages(messages: int = 1000, day: str = "20240610", **_) -> bytes:
    one = (
        "MSH|^~\\&|DESK|H|MESOCARE|H|20240601091200||SIU^S12|M{n}|P|2.5\r"
        "SCH|A{n}|F{n}||||||MESO-FACE|||^^30^{day}100000\r"
        "PID|1||P-{n}||Quixote-Marsh^Zelda\r"
    )
    return "".join(
        one.format(n=n, day=day if n % 1000 == 0 else "20240701") for n in range(messages)
    ).encode()


def hl7_repeated(megabytes: int = 30, **_) -> bytes:
    head = (
        "MSH|^~\\&|DESK|H|MESOCARE|H|20240601091200||SIU^S12|M1|P|2.5\r"
        "SCH|A1|F1||||||MESO-FACE|||^^30^20240610100000\rPID|1||P-1||Quixote-Marsh^Zelda"
    )
    return (head + "^Zelda" * (megabytes * 1024 * 1024 // 6) + "\r").encode()


def json_nested(depth: int = 100_000, **_) -> bytes:
    return b'{"resourceType": "Bundle", "entry": ' + b"[" * depth + b"]" * depth + b"}"


def fhir_bundle(entries: int = 1000, **_) -> bytes:
    entry = {
        "resource": {
            "resourceType": "Appointment",
            "status": "booked",
            "start": "2024-07-01T10:00:00+01:00",
            "serviceType": [{"coding": [{"code": "MESO-FACE"}]}],
            "participant": [
                {"actor": {"reference": "Patient/P-1", "display": NAME}, "status": "accepted"}
            ],
        }
    }
    return json.dumps(
        {"resourceType": "Bundle", "type": "searchset", "entry": [entry] * entries}
    ).encode()


def random_bytes(size: int = 4096, seed: int = 13, prefix: str = "", **_) -> bytes:
    return prefix.encode() + random.Random(seed).randbytes(size)


def repeat(text: str = "", times: int = 1, prefix: str = "", suffix: str = "", **_) -> bytes:
    return (prefix + text * times + suffix).encode()


GENERATORS = {
    f.__name__.replace("_", "-"): f
    for f in (
        csv_rows,
        long_line,
        hl7_messages,
        hl7_repeated,
        json_nested,
        fhir_bundle,
        random_bytes,
        repeat,
    )
}
