"""The Typst source of PDF handouts: what every printed value becomes, and what making a
handout's source costs (mesocare.render.typst_values, typst_doc)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mesocare.render import typst_values
from mesocare.render.printable import printable

# text a schedule or a rule file may hold: letters, quotes, backslashes, control characters,
# line separators, lone surrogates (bytes that were not UTF-8)
ODD = st.sampled_from(['"', "\\", "\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\x85", "\u2028"])
TEXT = st.text(st.one_of(ODD, st.characters(exclude_categories=()), st.sampled_from("aé€ ")))


@given(TEXT)
def test_a_printed_string_is_the_literal_of_its_printable_text(text):
    # every string a template prints: control characters dropped, the rest escaped, never markup
    assert typst_values.typst_value(text) == typst_values.typst_string(printable(text))


def test_a_handouts_steps_and_notes_cost_no_sandboxed_reads(build, monkeypatch):
    # Each step and note reaches the PDF template as a row already written as Typst values
    # (typst_doc's timeline and notes filters), so the checked attribute reads of the sandbox,
    # paid for every handout of a batch, do not grow with a handout's steps and notes.
    import dataclasses
    from datetime import date, time

    from mesocare.render.typst_doc import typst_environment, typst_source

    h = build(date(2024, 6, 10), time(10, 0), areas=("face", "body"), prescribed=("lasix",))
    longer = dataclasses.replace(h, items=h.items * 3, notes=h.notes * 3)
    sandbox = type(typst_environment(None))
    reads: list[str] = []
    checked = sandbox.getattr
    monkeypatch.setattr(sandbox, "getattr", lambda env, o, a: reads.append(a) or checked(env, o, a))

    def read_to_print(handout) -> int:
        reads.clear()
        source = typst_source([handout], handout.clinic)
        assert source.count("(when: ") == len(handout.items)
        return len(reads)

    few, many = read_to_print(h), read_to_print(longer)
    assert many == few


def test_the_words_of_a_language_are_made_once_and_each_handout_gets_its_own(build, monkeypatch):
    # A batch's handouts in one language share the words that depend on the language alone
    # (made once, not through the catalog again for every handout), but each handout's words
    # are its own: a template that changes the lists and dicts it is given changes no other
    # patient's handout.
    import dataclasses
    from datetime import date, time

    from mesocare import lang as languages
    from mesocare.lang.language import Language
    from mesocare.render import pdf_words

    french = languages.get("fr")
    first = dataclasses.replace(build(date(2024, 6, 10), time(10, 0)), lang=french)
    others = [dataclasses.replace(first, patient_name=f"Patient {n}") for n in range(20)]
    asked: list[str] = []
    translate = Language.gettext
    monkeypatch.setattr(Language, "gettext", lambda s, m: asked.append(m) or translate(s, m))
    words = pdf_words.handout_words(first)
    once = len(asked)
    rest = [pdf_words.handout_words(h) for h in others]
    assert len(asked) - once < len(others) * 10, "the catalog asked again for every handout"
    assert all(w == words for w in rest)
    words["labels"]["date"] = words["page"][0] = words["tags"]["late"] = "Secret Person"
    assert "Secret Person" not in str(rest[0]) and "Secret Person" not in str(
        pdf_words.handout_words(first)
    )
