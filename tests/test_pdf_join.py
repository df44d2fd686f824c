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


# Typst's form: no space needed before a reference ("[12 0 R", "(a)12 0 R"), IDs in some bodies
typst_token = st.one_of(
    token,
    st.sampled_from([b"[12 0 R", b"(a)3 0 R", b"/K[1 0 R 2 0 R]", b"(U1x0y0)", b"(U2x1y0)", b"(a(b)c)", b"()"]),
)
TYPST_SERIAL = pdf_join._Renumber({b"%d" % n: b"%d" % (n + 1000) for n in range(1, 30)}, b"999",
                                  {b"(U1x0y0)": b"(p000001-U1x0y0)", b"(U2x1y0)": b"(p000001-U2x1y0)"})


def careful_typst(serial: pdf_join._Renumber, bodies: list[bytes], ids: bool) -> list[bytes]:
    return serial._mapped(pdf_join._TYPST_SPLIT.split(b"\n".join(bodies)), ids).split(b"\n")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(typst_token, max_size=10).map(b"".join), min_size=1, max_size=4), st.booleans())
def test_typst_bodies_cut_at_each_reference_renumber_as_the_careful_way_does(bodies, ids):
    assert TYPST_SERIAL.typst(bodies, ids) == careful_typst(TYPST_SERIAL, bodies, ids)


@pytest.mark.parametrize("bodies", [
    [b"<</Type/StructElem/S/TD/P 12 0 R/A[<</O/Table/Headers[(U1x0y0)]>>]/K[26 27]/Pg 3 0 R>>"],
    [b"<</K[1 0 R 2 0 R]>>", b"<</T(room 12 0 R)/P 3 0 R>>"],  # a string that reads like a reference
    [b"<</T(a\\) 12 0 R)/P 3 0 R>>"],  # an escaped parenthesis
    [b"<</T(a(b) 12 0 R)/P 3 0 R>>"],  # parentheses inside a string
    [b"<</K 5>>", b""],
])
def test_typst_bodies_renumber_as_the_careful_way_does(bodies):
    for ids in (False, True):
        assert TYPST_SERIAL.typst(bodies, ids) == careful_typst(TYPST_SERIAL, bodies, ids)


# --------------------------------------------------------------------------------------------
# Typst's pieces read as written (typst_objects) join as when pikepdf parses every object
# --------------------------------------------------------------------------------------------
pikepdf = pytest.importorskip("pikepdf")

NAMES = ["Ana (Silva)", "Bob \\ 12 0 R", "Zoë Ñúñez «Zé»", "x) 3 0 R (y", "陈小明", "O'Brien-Smith"]


def objects(path) -> dict:
    """Every object of a joined file as qpdf reads it (the object and cross-reference streams,
    which differ with the objects' spelling, left out)."""
    found = {}
    with pikepdf.open(path) as pdf:
        for obj in pdf.objects:
            if obj is None:
                continue
            if isinstance(obj, pikepdf.Stream):
                if obj.get("/Type") in ("/ObjStm", "/XRef"):
                    continue
                found[obj.objgen] = (obj.stream_dict.unparse(resolved=True), obj.read_raw_bytes())
            else:
                found[obj.objgen] = obj.unparse(resolved=True)
    return found


def test_typst_pieces_read_as_written_join_as_when_pikepdf_parses_them(tmp_path, monkeypatch):
    from datetime import date, time

    from mesocare.handout import build_handout
    from mesocare.model import Batch, Clinic, Request
    from mesocare.render import pdf
    from mesocare.resources import instructions_dir
    from mesocare.rules import load_ruleset

    ruleset = load_ruleset([(instructions_dir(), "mesocare")])
    clinic = Clinic(name="Harbour (Skin) Clinic \\ 1 0 R", phone="020 7946 0000", timezone="Europe/London")
    handouts = [build_handout(Request(date=date(2024, 6, 10), time=time(9 + n, 0), areas=("face",), name=name,
                                      language="es" if n % 2 else None), ruleset, clinic, today=date(2024, 6, 1))
                for n, name in enumerate(NAMES)]
    batch = Batch(clinic=clinic, today=date(2024, 6, 1), day=None, handouts=tuple(handouts), booking_checked=True)
    pieces = []
    for k, part in enumerate([(), handouts[:3], handouts[3:]]):
        source = pdf.typst_source(part, clinic, batch=batch if k == 0 else None, title=pdf.BATCH_TITLE,
                                  lang=batch.lang, bookmarks=[None, *(h.patient_name for h in part)])
        path = tmp_path / f"piece-{k}.pdf"
        path.write_bytes(pdf.compile_pdf(source, date(2024, 6, 1), str(pdf._template_root(clinic))))
        assert pdf_join.typst_objects(path.read_bytes()), "Typst's piece is read as written"
        pieces.append(path)
    pdf_join.join(pieces, tmp_path / "as-written.pdf")
    monkeypatch.setattr(pdf_join, "typst_objects", lambda data: None)
    pdf_join.join(pieces, tmp_path / "parsed.pdf")
    written, parsed = objects(tmp_path / "as-written.pdf"), objects(tmp_path / "parsed.pdf")
    assert written.keys() == parsed.keys()
    assert [k for k in written if written[k] != parsed[k]] == []
    with pikepdf.open(tmp_path / "as-written.pdf") as joined:
        assert joined.check_pdf_syntax() == []
        titles = [str(e.T) for e in joined.objects if isinstance(e, pikepdf.Dictionary) and e.get("/S") == "/H1"]
        assert [t for t in titles if t in NAMES] == NAMES  # every name as typed, strings untouched


def test_a_file_not_as_typst_writes_it_is_parsed_by_pikepdf(tmp_path):
    # the joined file itself has object streams and a cross-reference stream
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(tmp_path / "streams.pdf", object_stream_mode=pikepdf.ObjectStreamMode.generate)
    assert pdf_join.typst_objects((tmp_path / "streams.pdf").read_bytes()) is None
    assert pdf_join.typst_objects(b"%PDF-1.7\nnot a pdf") is None


@pytest.mark.parametrize("body, kids, parents, ids", [
    (b"<</Type/StructTreeRoot/K[8 0 R 9 0 R]/ParentTree<</Nums[0 4 0 R 1 5 0 R]>>/IDTree<</Names[(U1x0y0)6 0 R(U2x0y0)7 0 R]>>"
     b"/ParentTreeNextKey 2>>", [8, 9], [(0, b"4"), (1, b"5")], [(b"U1x0y0", b"6"), (b"U2x0y0", b"7")]),
    # a tree split into /Kids, a string before the keys, a value that is an array: pikepdf's way
    (b"<</K[8 0 R 3]/ParentTree<</Kids[4 0 R]>>/IDTree<</Kids[5 0 R]>>>>", None, None, None),
    (b"<</T(/K[1 0 R] /ParentTree<</Nums[0 4 0 R]>>)/K[8 0 R]/ParentTree<</Nums[0 4 0 R]>>>>", None, None, None),
    (b"<</K[8 0 R]/ParentTree<</Nums[0 [4 0 R] 1 5 0 R]>>/IDTree<</Names[(a\\)b)6 0 R]>>>>", [8], None, None),
])
def test_the_structure_tree_is_read_from_typst_bytes_only_in_its_plain_form(body, kids, parents, ids):
    assert pdf_join.raw_kids(body) == kids
    assert pdf_join.raw_parent_tree(body) == parents
    assert pdf_join.raw_id_tree(body) == ids


def test_the_page_count_in_typsts_metadata_is_written_in_place_else_pikepdf_edits_it(tmp_path, monkeypatch):
    from datetime import date

    from mesocare.model import Clinic
    from mesocare.render import pdf

    clinic = Clinic(name="Harbour Skin Clinic", timezone="Europe/London")
    source = pdf.typst_source((), clinic, title=pdf.BATCH_TITLE) + "\n#pagebreak()\n#pagebreak()\n"
    piece = tmp_path / "piece.pdf"
    piece.write_bytes(pdf.compile_pdf(source, date(2024, 6, 1), str(pdf._template_root(clinic))))
    with pikepdf.open(piece) as src:
        head, raw = pdf_join.plain_xmp(src.Root.Metadata)  # as Typst writes it
        assert raw.count(b"<xmpTPg:NPages>") == 1
    pdf_join.join([piece, piece, piece], tmp_path / "in-place.pdf", duplex=True)
    plain = pdf_join.plain_xmp
    monkeypatch.setattr(pdf_join, "plain_xmp", lambda stream: None)
    pdf_join.join([piece, piece, piece], tmp_path / "edited.pdf", duplex=True)
    for name in ("in-place.pdf", "edited.pdf"):
        with pikepdf.open(tmp_path / name) as joined:
            assert joined.check_pdf_syntax() == []
            meta = joined.open_metadata()
            assert meta[pdf_join.NPAGES] == str(len(joined.pages)) == "12"  # 3 pages + a blank, 3 times
            assert meta["pdfuaid:part"] == "1"
    # any other form is left to pikepdf: compressed, another dictionary, the count twice or written otherwise
    other = pikepdf.new()
    for data, extra in ((raw, {}),  # the same, made here: written in place
                        (raw, {"/Filter": pikepdf.Name.FlateDecode}), (raw, {"/Foo": 1}),
                        (raw.replace(b"</pdf:PDFVersion>", b"</pdf:PDFVersion><xmpTPg:NPages>1</xmpTPg:NPages>"), {}),
                        (raw.replace(b"<xmpTPg:NPages>", b"<xmpTPg:NPages >"), {})):
        stream = pikepdf.Stream(other, data)
        stream.Type, stream.Subtype = pikepdf.Name.Metadata, pikepdf.Name.XML
        for key, value in extra.items():
            stream[key] = value
        assert (plain(stream) is None) == bool(extra or data != raw)
