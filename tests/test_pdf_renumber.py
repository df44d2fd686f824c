"""The join's fast writer (an object's text, as the piece or qpdf spells it, renumbered by a
tokenizer) writes every object as the Python walk (``Serializer``) does: references renumbered,
IDs prefixed, strings and names untouched whatever they hold ("12 0 R", parentheses,
backslashes, non-Latin text), in any spelling PDF allows; a text it does not understand is an
error, never a guess."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mesocare.render.pdf_join.ids import rename_ids, rename_ids_strict
from mesocare.render.pdf_join.objects import Renumbering, Serializer
from mesocare.render.pdf_join.renumber import renumber

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


# the same objects as another writer spells them: Typst writes no space where a delimiter stands
# ("<</K[12 0 R]/T(x)>>"), others break lines; a string may be literal, with escapes or balanced
# parentheses, or hex
SPACES = [b"", b" ", b"  ", b"\n", b"\r\n", b"\t", b"\x0c", b"\x00"]
DELIMITERS = b"()<>[]{}/%"


def literal(data: bytes, rnd) -> bytes:
    if rnd.random() < 0.3:
        return b"<" + data.hex().encode() + b">"
    out = b""
    for byte in data:
        char = bytes([byte])
        if char in b"()\\":
            out += b"\\" + char
        elif char == b"\n" and rnd.random() < 0.5:
            out += b"\\n"
        else:
            out += char
    return b"(" + (b"(" + out + b")" if rnd.random() < 0.2 else out) + b")"


def tokens(tree, rnd) -> list:
    """The object's tokens as another writer may write them; a reference is (its target, the
    spaces between its three tokens); a wrapped string ``(( ... ))`` keeps its parentheses."""
    kind, value = tree
    if kind == "array":
        return [b"[", *(t for item in value for t in tokens(item, rnd)), b"]"]
    if kind == "dict":
        out = [b"<<"]
        for key, item in value.items():
            if item[1] is None:
                continue
            out.append(pikepdf.Name("/" + key.lstrip("/")).unparse())
            out += tokens(item, rnd)
        return [*out, b">>"]
    if kind == "ref":
        return [(value, rnd.choice(SPACES[1:]), rnd.choice(SPACES[1:]))]
    if kind in ("str", "id"):
        data = value if isinstance(value, bytes) else value.encode()
        return [literal(data, rnd)]
    if kind == "name":
        return [pikepdf.Name("/" + value).unparse()]
    if kind == "real":
        return [format(value, "f").encode()]
    if kind == "int":
        return [b"%d" % value]
    return [{True: b"true", False: b"false", None: b"null"}[value]]


def spelled(items: list, gaps: list[bytes], refs: list[bytes]) -> bytes:
    """The tokens joined by ``gaps`` (none needed beside a delimiter), each reference to target
    ``i`` written ``refs[i]`` (None: as the writer wrote it)."""
    out = b""
    for k, item in enumerate(items):
        if isinstance(item, tuple):
            target, one, two = item
            text = refs[target] or b"%d%s0%sR" % (target + 1, one, two)
        else:
            text = item
        if k:
            gap = gaps[k % len(gaps)]
            if not gap and not (out[-1:] in b")>]}" or text[:1] in DELIMITERS):
                gap = b" "  # two tokens that are not delimiters need a space between them
            out += gap
        out += text
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.tuples(st.just("dict"), st.dictionaries(keys, trees, max_size=6))
    | st.tuples(st.just("array"), st.lists(trees, max_size=6)),
    st.lists(st.integers(9, 10**6), min_size=TARGETS, max_size=TARGETS),
    st.lists(st.sampled_from(SPACES), min_size=1, max_size=8),
    st.randoms(use_true_random=False),
)
@example(("dict", {"/T": ("str", "Zelda (x) 12 0 R"), "/P": ("ref", 0)}), [77] * 6, [b""], None)
@example(("array", [("str", "a \\) 3 0 R"), ("name", "R"), ("ref", 1)]), [12] * 6, [b"\n"], None)
def test_any_spelling_of_an_object_is_renumbered(tree, numbers, gaps, rnd):
    import random

    rnd = rnd or random.Random(0)
    items = tokens(tree, rnd)
    # target 0 is left out of the joined file: its references go to "nowhere" (5)
    number = {k + 1: n for k, n in enumerate(numbers) if k}
    new = [b"%d 0 R" % number.get(k + 1, 5) for k in range(TARGETS)]
    assert renumber(spelled(items, gaps, [None] * TARGETS), number, 5) == spelled(items, gaps, new)


@pytest.mark.parametrize(
    ("text", "renumbered"),
    [
        (b"[1 0 R]", b"[7 0 R]"),  # Typst's spelling
        (b"<</K[1 0 R 2 0 R]/T(1 0 R)/P 1 0 R>>", b"<</K[7 0 R 8 0 R]/T(1 0 R)/P 7 0 R>>"),
        (b"[ 1\n0\r\nR ]", b"[ 7 0 R ]"),
        (b"[<312030205220>1 0 R(a\\)1 0 R)]", b"[<312030205220>7 0 R(a\\)1 0 R)]"),
        (b"<</R 1 0 R/Rect[0 0 1 1]>>", b"<</R 7 0 R/Rect[0 0 1 1]>>"),
        (b"[1 1 R]", b"[7 0 R]"),  # (a generation: the joined file has only 0)
    ],
)
def test_references_are_renumbered_in_any_spelling(text, renumbered):
    assert renumber(text, {1: 7, 2: 8}, 3) == renumbered


@pytest.mark.parametrize(
    "text",
    [
        b"<< /A R >>",  # R not after two integers
        b"[ 1 x R ]",
        b"[ 1.0 0 R ]",
        b"[ (never ends 1 0 R ]",
        b"[ <0a0b 1 0 R ]",
        b"[ 1 0 R ] % a comment 1 0 R (",
    ],
)
def test_a_text_not_understood_is_an_error_not_a_guess(text):
    with pytest.raises(ValueError):
        renumber(text, {1: 2}, 3)


def test_a_text_not_understood_is_written_through_qpdf():
    # a comment in a piece's own bytes: that object is read by pikepdf instead
    pdf = pikepdf.Pdf.new()
    target = pdf.make_indirect(pikepdf.Dictionary())
    obj = pdf.make_indirect(pikepdf.Dictionary(K=target))
    serial = Serializer({target.objgen[0]: 40, obj.objgen[0]: 41}, 5)
    own = b"<</K %d 0 R %% a comment\n>>" % target.objgen[0]
    other = b"[%d 0 R]" % obj.objgen[0]
    assert Renumbering(serial).bodies([own, other], lambda k: obj) == [
        b"<< /K 40 0 R >>",
        b"[41 0 R]",
    ]


def test_only_the_values_of_id_and_headers_are_renamed():
    table = {b"(U1)": b"(p1-U1)"}
    text = b"<< /Alt (U1) /A [ << /Headers [ (U1) [ (U1) ] ] /O /Table >> ] /ID (U1) /T (U1) >>"
    assert rename_ids(text, table) == (
        b"<< /Alt (U1) /A [ << /Headers [ (p1-U1) [ (p1-U1) ] ] /O /Table >> ] /ID (p1-U1)"
        b" /T (U1) >>"
    )
    # Typst's spelling; an array that holds the name /ID is no key
    compact = b"<</Alt(U1)/A[<</Headers[(U1)[(U1)]]/O/Table>>]/ID(U1)/T(U1)/L[/ID(U1)]>>"
    assert rename_ids(compact, table) == (
        b"<</Alt(U1)/A[<</Headers[(p1-U1)[(p1-U1)]]/O/Table>>]/ID(p1-U1)/T(U1)/L[/ID(U1)]>>"
    )


def test_an_id_spelled_otherwise_than_qpdf_is_not_guessed():
    # "<5531>" is "U1" too: the piece's own bytes then go through qpdf, which spells it "(U1)"
    with pytest.raises(ValueError):
        rename_ids_strict(b"<</ID<5531>>>", {b"(U1)": b"(p1-U1)"})


def test_an_id_key_spelled_with_an_escape_goes_through_qpdf():
    # "/I#44" is the name /ID: the piece's own bytes are not renamed here, qpdf spells it /ID
    pdf = pikepdf.Pdf.new()
    cell = pdf.make_indirect(pikepdf.Dictionary(ID=pikepdf.String("U1")))
    serial = Serializer({cell.objgen[0]: 40}, 5, {b"U1": pikepdf.String(b"p1-U1")})
    assert Renumbering(serial).bodies([b"<</I#44(U1)>>"], lambda k: cell) == [b"<< /ID (p1-U1) >>"]


@pytest.mark.parametrize("text", [b"]/ID(U1)", b"<</A[>>]/ID(U1)>>"])
def test_a_container_closed_that_was_not_open_is_an_error(text):
    with pytest.raises(ValueError):
        rename_ids(text, {b"(U1)": b"(p1-U1)"})
