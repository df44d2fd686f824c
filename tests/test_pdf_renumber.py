"""The join's fast writer (qpdf's ``unparse`` renumbered by a tokenizer) writes every object as
the Python walk (``Serializer``) does: references renumbered, IDs prefixed, strings and names
untouched whatever they hold ("12 0 R", parentheses, backslashes, non-Latin text)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mesocare.render.pdf_join.objects import Serializer
from mesocare.render.pdf_join.renumber import Renumbering, rename_ids, renumber

pikepdf = pytest.importorskip("pikepdf")

TARGETS = 6  # indirect objects a generated object may refer to
IDS = [b"U1x0y0", b"U1x1y0", b"a (1) 2 0 R", "陈 \\".encode()]

text = st.text(
    st.one_of(
        st.sampled_from(list("()\\R0 12 <>[]/#%")),
        st.sampled_from(list("Zéß陈ملا")),
        st.characters(codec="utf-8"),
    ),
    max_size=12,
)
name_text = st.text(
    st.one_of(
        st.sampled_from(list("()R0 12<>[]/#")), st.characters(codec="utf-8", min_codepoint=1)
    ),
    min_size=1,
    max_size=8,
)
keys = st.one_of(st.sampled_from(["/ID", "/Headers", "/K", "/R", "/Rect", "/P"]), name_text)
leaves = st.one_of(
    st.tuples(st.just("int"), st.integers(-(10**6), 10**6)),
    st.tuples(st.just("real"), st.decimals(-1000, 1000, places=3)),
    st.tuples(st.just("str"), st.one_of(text, st.binary(max_size=8))),
    st.tuples(st.just("id"), st.sampled_from(IDS)),
    st.tuples(st.just("name"), name_text),
    st.tuples(st.just("ref"), st.integers(0, TARGETS - 1)),
    st.tuples(st.just("const"), st.sampled_from([True, False, None])),
)
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.tuples(st.just("array"), st.lists(inner, max_size=5)),
        st.tuples(st.just("dict"), st.dictionaries(keys, inner, max_size=5)),
    ),
    max_leaves=25,
)


def build(tree, targets: list):
    kind, value = tree
    if kind == "array":
        return pikepdf.Array([build(item, targets) for item in value])
    if kind == "dict":  # a key whose value is null is no key (PDF 1.7, 7.3.7): qpdf drops it
        return pikepdf.Dictionary(
            {"/" + k.lstrip("/"): build(v, targets) for k, v in value.items() if v[1] is not None}
        )
    if kind == "real":
        return Decimal(value)
    if kind in ("str", "id"):
        return pikepdf.String(value)
    if kind == "name":
        return pikepdf.Name("/" + value)
    if kind == "ref":
        return targets[value]
    return value  # an integer, a boolean, None


@settings(max_examples=300, deadline=None)
@given(
    st.tuples(st.just("dict"), st.dictionaries(keys, trees, max_size=6))
    | st.tuples(st.just("array"), st.lists(trees, max_size=6)),
    st.lists(st.integers(9, 10**6), min_size=TARGETS, max_size=TARGETS),
    st.booleans(),
)
@example(("dict", {"/T": ("str", "Zelda (x) 12 0 R"), "/P": ("ref", 0)}), [77] * TARGETS, True)
@example(("array", [("str", "a \\) 3 0 R"), ("name", "R"), ("ref", 1)]), [12] * TARGETS, True)
@example(
    ("dict", {"/Headers": ("array", [("id", IDS[2]), ("array", [("id", IDS[3])])])}),
    [9] * TARGETS,
    True,
)
def test_any_object_is_written_as_the_serializer_writes_it(tree, numbers, with_ids):
    pdf = pikepdf.Pdf.new()
    targets = [pdf.make_indirect(pikepdf.Dictionary()) for _ in range(TARGETS)]
    obj = pdf.make_indirect(build(tree, targets))
    # one target is left out of the joined file: its references go to "nowhere"
    number = {t.objgen[0]: n for t, n in zip(targets[1:], numbers[1:], strict=True)}
    ids = {old: pikepdf.String(b"p000003-" + old) for old in IDS} if with_ids else {}
    serial = Serializer(number, 5, ids)
    assert Renumbering(serial).body(obj) == serial.body(obj)
    stream = pdf.make_stream(b"data", obj if isinstance(obj, pikepdf.Dictionary) else None)
    assert Renumbering(serial).body(stream) == serial.body(stream)


@pytest.mark.parametrize(
    "text",
    [
        b"[ 1 0 R]",  # R glued to a delimiter
        b"<< /A R >>",  # R not after two integers
        b"[ 1 x R ]",
        b"[ 1\n0 R ]",  # whitespace qpdf does not write
        b"[ (a) Rb ]",
        b"[ (never ends 1 0 R ]",
    ],
)
def test_a_text_not_in_qpdfs_form_is_an_error_not_a_guess(text):
    with pytest.raises(ValueError, match="canonical form"):
        renumber(text, {1: 2}, 3)


def test_only_the_values_of_id_and_headers_are_renamed():
    table = {b"(U1)": b"(p1-U1)"}
    text = b"<< /Alt (U1) /A [ << /Headers [ (U1) [ (U1) ] ] /O /Table >> ] /ID (U1) /T (U1) >>"
    assert rename_ids(text, table) == (
        b"<< /Alt (U1) /A [ << /Headers [ (p1-U1) [ (p1-U1) ] ] /O /Table >> ] /ID (p1-U1)"
        b" /T (U1) >>"
    )
