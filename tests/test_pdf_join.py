"""The join of a batch's pieces (pdf_join): every object written as the piece wrote it, or as
qpdf writes it where the join changed it, with the joined file's numbers in its references, so
no text inside a string changes, whatever it holds ("(x) 12 0 R", a backslash, a parenthesis,
digits, "R", non-Latin letters): in structure elements' titles, alternative texts, replacement
texts and IDs, in outline entries and in the document's metadata."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mesocare.render import pdf_join
from mesocare.render.pdf_join.objects import Serializer

pikepdf = pytest.importorskip("pikepdf")

NAMES = [
    "Ana (Silva)",
    "Bob \\ 12 0 R",
    "Zoë Ñúñez «Zé»",
    "x) 3 0 R (y",
    "陈小明",
    "Zelda (x) 12 0 R",
    "a \\) b (c",
    "O'Brien-Smith",
]
PREFIX = re.compile(rb"^[ap]\d{6}-")  # the piece's number the join puts in front of each ID

# text that a reference-cutting join would break: parentheses, backslashes, digits, "R", and more
tricky = st.text(
    st.one_of(st.sampled_from(list("()\\R0 12 ")), st.characters(codec="utf-8")),
    min_size=1,
    max_size=20,
)


def texts(path: Path) -> tuple[list, list, str | None]:
    """What a reader announces of a file: every structure element in the tree's order but the
    Document (its type, title, alternative and replacement text, expansion, ID and the IDs its
    cells name, without the join's prefix), the outline's titles and the document's title."""
    with pikepdf.open(path) as pdf:
        found = []

        def walk(node) -> None:
            kids = node.get("/K")
            for kid in kids if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]:
                if not isinstance(kid, pikepdf.Dictionary) or "/S" not in kid:
                    continue
                if kid.S != "/Document":
                    attributes = kid.get("/A")
                    attributes = (
                        attributes
                        if isinstance(attributes, pikepdf.Array)
                        else [attributes]
                        if attributes
                        else []
                    )
                    headers = [
                        PREFIX.sub(b"", bytes(h))
                        for a in attributes
                        if "/Headers" in a
                        for h in a.Headers
                    ]
                    found.append(
                        (
                            str(kid.S),
                            *(
                                bytes(kid[k]) if k in kid else None
                                for k in ("/T", "/Alt", "/ActualText", "/E")
                            ),
                            PREFIX.sub(b"", bytes(kid.ID)) if "/ID" in kid else None,
                            headers,
                        )
                    )
                walk(kid)

        walk(pdf.Root.StructTreeRoot)
        with pdf.open_outline() as outline:
            titles = [item.title for item in outline.root]
        title = str(pdf.docinfo.Title) if "/Title" in pdf.docinfo else None
    return found, titles, title


def joined_texts_are_the_pieces(pieces: list[Path], out: Path) -> None:
    pdf_join.join(pieces, out)
    found, titles, title = texts(out)
    each = [texts(piece) for piece in pieces]
    assert found == [e for elements, _, _ in each for e in elements]
    assert titles == [t for _, outline, _ in each for t in outline]
    assert title == each[0][2]
    with pikepdf.open(out) as joined:
        assert joined.check_pdf_syntax() == []


def synthetic_piece(path: Path, words: list[str], lang: str = "en-GB") -> None:
    """A tagged one-page PDF made with pikepdf: a heading titled ``words[0]``, a figure whose
    alternative and replacement texts are ``words[1]`` and ``words[2]``, a table header cell whose
    ID is ``words[3]`` and a cell that names it, an outline entry and a document title."""
    Name, String, Array, Dictionary = (
        pikepdf.Name,
        pikepdf.String,
        pikepdf.Array,
        pikepdf.Dictionary,
    )
    pdf = pikepdf.new()
    pdf.add_blank_page()
    page = pdf.pages[0].obj
    page.Contents = pdf.make_stream(b"/H1 <</MCID 0>> BDC EMC /Figure <</MCID 1>> BDC EMC")
    page.StructParents = 0
    root = pdf.make_indirect(Dictionary(Type=Name.StructTreeRoot))
    document = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, P=root))

    def element(kind: str, **keys):
        return pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name(kind), P=document, **keys))

    heading = element("/H1", T=String(words[0]), K=Array([0]), Pg=page)
    figure = element(
        "/Figure",
        Alt=String(words[1]),
        ActualText=String(words[2]),
        E=String(words[0]),
        K=Array([1]),
        Pg=page,
    )
    header = element("/TH", ID=String(words[3]))
    cell = element("/TD", A=Array([Dictionary(O=Name.Table, Headers=Array([String(words[3])]))]))
    document.K = Array([heading, figure, header, cell])
    root.K = Array([document])
    root.ParentTree = Dictionary(Nums=Array([0, Array([heading, figure])]))
    root.ParentTreeNextKey = 1
    root.IDTree = Dictionary(Names=Array([String(words[3]), header]))
    pdf.Root.StructTreeRoot = root
    pdf.Root.Lang = String(lang)
    pdf.Root.MarkInfo = Dictionary(Marked=True)
    with pdf.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem(words[0], 0))
    pdf.docinfo.Title = String(words[1])
    pdf.save(path)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(tricky, min_size=4, max_size=4), min_size=2, max_size=3))
def test_any_text_in_a_piece_reads_the_same_in_the_joined_file(tmp_path_factory, pieces):
    folder = tmp_path_factory.mktemp("pieces")
    paths = []
    for k, words in enumerate(pieces):
        paths.append(folder / f"piece-{k}.pdf")
        synthetic_piece(paths[-1], words, "en-GB" if k % 2 == 0 else "es-ES")
    joined_texts_are_the_pieces(paths, folder / "joined.pdf")


def typst_pieces(folder: Path, names: list[str]) -> list[Path]:
    """A batch's pieces as Typst writes them: the cover sheet, then two pieces of handouts for
    patients called ``names`` (every other one in Spanish)."""
    from datetime import date, time

    from mesocare.handout import build_handout
    from mesocare.model import Batch, Clinic, Request
    from mesocare.render import pdf, typst_doc
    from mesocare.resources import instructions_dir
    from mesocare.rules import load_ruleset

    ruleset = load_ruleset([(instructions_dir(), "mesocare")])
    clinic = Clinic(
        name="Harbour (Skin) Clinic \\ 1 0 R", phone="020 7946 0000", timezone="Europe/London"
    )
    handouts = [
        build_handout(
            Request(
                date=date(2024, 6, 10),
                time=time(9 + n % 10, 0),
                areas=("face",),
                name=name,
                language="es" if n % 2 else None,
            ),
            ruleset,
            clinic,
            today=date(2024, 6, 1),
        )
        for n, name in enumerate(names)
    ]
    batch = Batch(
        clinic=clinic,
        today=date(2024, 6, 1),
        day=None,
        handouts=tuple(handouts),
        booking_checked=True,
    )
    half = (len(handouts) + 1) // 2
    pieces = []
    for k, part in enumerate([(), handouts[:half], handouts[half:]]):
        source = typst_doc.typst_source(
            part,
            clinic,
            batch=batch if k == 0 else None,
            title=typst_doc.BATCH_TITLE,
            lang=batch.lang,
            bookmarks=[None, *(h.patient_name for h in part)],
        )
        pieces.append(folder / f"piece-{k}.pdf")
        pieces[-1].write_bytes(
            typst_doc.compile_pdf(source, date(2024, 6, 1), str(pdf._template_root(clinic)))
        )
    return pieces


def test_names_with_references_in_them_read_the_same_in_a_joined_batch(tmp_path):
    # issue 21: "Zelda (x) 12 0 R" became "Zelda (x) 9605 0 R" in the structure tree of a batch
    pieces = typst_pieces(tmp_path, NAMES)
    joined_texts_are_the_pieces(pieces, tmp_path / "joined.pdf")
    found, titles, _ = texts(tmp_path / "joined.pdf")
    assert [
        t.decode("utf-16-be" if t.startswith(b"\xfe\xff") else "latin-1").lstrip("\ufeff")
        for kind, t, *_ in found
        if kind == "/H1" and t is not None
    ][1:] == NAMES  # after the cover's
    assert titles == NAMES  # (this cover sheet has no outline entry)


names = st.lists(
    st.text(
        st.one_of(st.sampled_from(list("()\\R0 12 ")), st.sampled_from(list("Zéß陈ملا"))),
        min_size=1,
        max_size=16,
    ).filter(str.strip),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(names)
@example(["Zelda (x) 12 0 R", "a \\) 3 0 R"])
def test_any_patient_name_reads_the_same_in_a_joined_batch(tmp_path_factory, patients):
    folder = tmp_path_factory.mktemp("typst")
    joined_texts_are_the_pieces(typst_pieces(folder, patients), folder / "joined.pdf")


def test_every_object_of_a_piece_is_written_as_qpdf_writes_it(tmp_path):
    # with its own numbers, the join writes each object byte for byte as qpdf's unparse does:
    # strings, names, numbers (reals with their digits) and references alike
    [piece] = typst_pieces(tmp_path, NAMES)[1:2]
    with pikepdf.open(piece) as src:
        serial = Serializer({obj.objgen[0]: obj.objgen[0] for obj in src.objects}, 0)
        for obj in src.objects:
            plain = obj.stream_dict if isinstance(obj, pikepdf.Stream) else obj
            assert serial.body(obj) == plain.unparse(resolved=True), obj.objgen


def test_the_page_count_in_the_metadata_is_the_joined_files(tmp_path):
    from datetime import date

    from mesocare.model import Clinic
    from mesocare.render import pdf, typst_doc

    clinic = Clinic(name="Harbour Skin Clinic", timezone="Europe/London")
    source = (
        typst_doc.typst_source((), clinic, title=typst_doc.BATCH_TITLE)
        + "\n#pagebreak()\n#pagebreak()\n"
    )
    piece = tmp_path / "piece.pdf"
    piece.write_bytes(
        typst_doc.compile_pdf(source, date(2024, 6, 1), str(pdf._template_root(clinic)))
    )
    pdf_join.join([piece, piece, piece], tmp_path / "joined.pdf", duplex=True)
    with pikepdf.open(tmp_path / "joined.pdf") as joined:
        assert joined.check_pdf_syntax() == []
        meta = joined.open_metadata()
        assert meta[pdf_join.NPAGES] == str(len(joined.pages)) == "12"  # 3 pages + a blank, 3 times
        assert meta["pdfuaid:part"] == "1"


def test_the_cross_reference_stream_says_where_each_object_is(tmp_path):
    # a reader may go straight to an object: at its offset in the file, or at its place in an
    # object stream (the index, not only the object stream's own list of numbers)
    pieces = typst_pieces(tmp_path, NAMES)
    out = tmp_path / "joined.pdf"
    pdf_join.join(pieces, out)
    data = out.read_bytes()
    with pikepdf.open(out) as pdf:
        size = int(pdf.trailer.Size)
        xref = pdf.get_object(size - 1, 0)
        assert xref.stream_dict.Type == "/XRef"
        assert [int(w) for w in xref.stream_dict.W] == [1, 4, 2]
        rows = xref.read_bytes()
        assert len(rows) == 7 * size
        in_streams: dict[int, list[int]] = {}
        for number in range(1, size):
            row = rows[7 * number : 7 * number + 7]
            kind, where, index = row[0], int.from_bytes(row[1:5]), int.from_bytes(row[5:7])
            if kind == 1:
                assert data.startswith(b"%d 0 obj" % number, where), number
            elif kind == 2:
                if where not in in_streams:
                    header = pdf.get_object(where, 0).read_bytes()
                    first = int(pdf.get_object(where, 0).stream_dict.First)
                    in_streams[where] = [int(n) for n in header[:first].split()[0::2]]
                assert in_streams[where][index] == number, number
        assert sum(len(numbers) for numbers in in_streams.values()) > 1000  # most are in streams


def every_object(path: Path) -> dict:
    """Each object of a file, as qpdf reads it (but its object and cross-reference streams, whose
    bytes depend on how the objects inside them are spelled)."""
    with pikepdf.open(path) as pdf:
        found: dict = {}
        for obj in pdf.objects:
            if obj is None:
                continue
            if isinstance(obj, pikepdf.Stream):
                if obj.stream_dict.get("/Type") not in ("/ObjStm", "/XRef"):
                    head = obj.stream_dict.unparse(resolved=True)
                    found[obj.objgen] = (head, obj.read_raw_bytes())
            else:
                found[obj.objgen] = obj.unparse(resolved=True)
        return found


def synthetic_pieces(folder: Path, compressed: bool) -> list[Path]:
    """Three pieces in two languages (the join gives the Spanish one's elements its /Lang); with
    ``compressed``, the middle one keeps its objects in object streams."""
    paths = []
    for k, lang in enumerate(["en-GB", "es-ES", "en-GB"]):
        paths.append(folder / f"piece-{k}.pdf")
        synthetic_piece(paths[-1], NAMES[k : k + 4], lang)
        if compressed and k == 1:
            with pikepdf.open(paths[-1], allow_overwriting_input=True) as pdf:
                pdf.save(paths[-1], object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return paths


@pytest.mark.parametrize("kind", ["typst", "languages", "object streams"])
def test_a_joined_file_reads_as_if_qpdf_wrote_every_object(tmp_path, monkeypatch, kind):
    # the join copies the bytes the piece wrote for each object it leaves as it is, and has qpdf
    # write those it changes (pages, annotations, elements given a language): read back, the
    # file is object for object the one where qpdf wrote them all
    if kind == "typst":
        pieces = typst_pieces(tmp_path, NAMES)
    else:
        pieces = synthetic_pieces(tmp_path, kind == "object streams")
    pdf_join.join(pieces, tmp_path / "own.pdf")
    own = pdf_join._own_texts
    monkeypatch.setattr(pdf_join, "_own_texts", lambda src, data: dict.fromkeys(own(src, data)))
    pdf_join.join(pieces, tmp_path / "qpdf.pdf")
    copied, written = every_object(tmp_path / "own.pdf"), every_object(tmp_path / "qpdf.pdf")
    assert copied.keys() == written.keys()
    assert [n for n in copied if copied[n] != written[n]] == []
    if kind == "languages":
        assert any(b"/Lang (es-ES)" in text for text in copied.values() if isinstance(text, bytes))


@pytest.mark.parametrize("with_a_dictionary", [False, True])
def test_the_top_level_elements_are_the_documents_kids(with_a_dictionary):
    # read from qpdf's writing of the Document's /K (thousands of elements, none read), or, with
    # a direct dictionary in it (a marked-content reference), element by element
    from mesocare.render.pdf_join.structure import top_level

    pdf = pikepdf.new()
    first, second = (pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.P)) for _ in range(2))
    kids = [first, 5, second]
    if with_a_dictionary:
        kids.insert(1, pikepdf.Dictionary(Type=pikepdf.Name.MCR, MCID=3))
    document = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.Document, K=pikepdf.Array(kids)))
    struct = pikepdf.Dictionary(K=pikepdf.Array([document]))
    assert top_level(struct) == ([first.objgen[0], second.objgen[0]], [document])
