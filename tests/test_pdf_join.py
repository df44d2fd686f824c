"""The join's renumbering of serialized PDF objects: the fast way (split at every " 0 R") gives
what the careful way (a tokenizer that steps over strings) gives, whenever it is taken."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mesocare.render import pdf_join


def literal(text: bytes) -> bytes:
    """A literal string as qpdf serializes it: every parenthesis and backslash escaped."""
    return b"(" + text.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)").replace(b"\n", b"\\n") + b")"


token = st.one_of(
    st.integers(1, 40).map(lambda n: b"%d 0 R" % n),
    st.integers(0, 99).map(lambda n: b"%d" % n),
    st.sampled_from([b"/P", b"/K", b"/T", b"/Alt", b"/S /Span", b"[", b"]", b"<<", b">>", b"<0a1B>", b"null"]),
    st.binary(max_size=12).map(literal),
    st.sampled_from([b"12 0 R", b"see 3 0 R here", b"(", b")", b"\\", b"x 0 R"]).map(literal),
)


def careful(serial: pdf_join._Renumber, body: bytes) -> bytes:
    parts = pdf_join._SPLIT.split(body)
    parts[1::3] = [b"" if x is None else x for x in parts[1::3]]
    parts[2::3] = [b"" if x is None else serial.table.get(x, serial.missing) for x in parts[2::3]]
    return b"".join(parts)


SERIAL = pdf_join._Renumber({b"%d" % n: b"%d" % (n + 1000) for n in range(1, 30)}, b"999", {})


@settings(max_examples=400, deadline=None)
@given(st.lists(token, max_size=12))
def test_the_fast_way_renumbers_as_the_careful_way_does(tokens):
    body = b"<< " + b" ".join(tokens) + b" >>"
    assert SERIAL.one(body) == careful(SERIAL, body)
    if SERIAL.fast(body):
        assert SERIAL.many([body]) == [careful(SERIAL, body)]


@pytest.mark.parametrize("body, fast", [
    (b"<< /K [ 2 ] /P 12 0 R /S /H1 /T (Patient 0001) >>", True),
    (b"<< /T (room 12 0 R) /P 3 0 R >>", False),  # a string that reads like a reference
    (b"<< /T (a\\) 12 0 R) /P 3 0 R >>", False),  # an escaped parenthesis: the careful way
    (b"<< /Alt (two\\nlines) >>", False),
])
def test_which_objects_take_the_fast_way(body, fast):
    assert SERIAL.fast(body) is fast
    assert SERIAL.one(body) == careful(SERIAL, body)
    assert b"(room 12 0 R)" in SERIAL.one(b"<< /T (room 12 0 R) /P 3 0 R >>")
