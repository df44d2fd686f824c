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
