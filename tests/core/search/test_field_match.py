"""Per-field match statistics of candidate rows, computed from the rows alone."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from core.search import field_match, lexical

FIELDS = [
    ("Weather Oracle", "Forecasts the weather for any city", "You forecast rain and sun."),
    ("Flight Finder", "Cheap airline tickets", ""),
]


def _rows_and_query(text: str):  # noqa: ANN202
    whole = [" ".join(f) for f in FIELDS]
    counts = lexical.document_counts(whole, FIELDS)
    fit = lexical.LexicalFit.fit(lexical.term_counts(whole))
    return fit.weigh(counts), fit.embed([text])


def test_cosines_are_the_blocks_dot_products() -> None:
    rows, query = _rows_and_query("weather forecast for Paris")
    matches = field_match.match(rows, query)
    q = query.toarray().ravel()
    for slot in range(field_match.SLOTS):
        group, block = divmod(slot, 2)
        start = group * lexical.GROUP + block * lexical.BLOCK
        part = rows[:, start : start + lexical.BLOCK].toarray()
        weight = lexical.WORD_WEIGHT if block == 0 else 1 - lexical.WORD_WEIGHT
        expected = part @ q[block * lexical.BLOCK : (block + 1) * lexical.BLOCK] / weight
        np.testing.assert_allclose(matches.cosines[:, slot], expected, atol=1e-6)
    assert matches.cosines[0, 2] > 0 and matches.cosines[1, 0::2].max() == 0  # words: name; none


def test_coverage_of_the_query_and_of_the_name() -> None:
    rows, query = _rows_and_query("weather oracle")
    matches = field_match.match(rows, query)
    coverage = field_match.query_coverage(matches)
    name = 3  # group 1: share by word weight, share of words, share of character n-grams
    np.testing.assert_allclose(coverage[0, name : name + 3], [1.0, 1.0, 1.0])
    assert coverage[1, 0::3].max() == coverage[1, 1::3].max() == 0  # no word of the query
    np.testing.assert_allclose(matches.covered[0, 2:4], [1.0, 1.0])  # the whole name is asked
    assert 0 < matches.covered[0, 0] < 1  # the whole text says more than the query


def test_no_rows_or_no_terms() -> None:
    rows, query = _rows_and_query("weather")
    assert field_match.match(rows[:0], query).cosines.shape == (0, field_match.SLOTS)
    nothing = sparse.csr_matrix((1, lexical.DIMENSIONS), dtype=np.float32)
    empty = field_match.match(rows, nothing)
    assert empty.cosines.shape == (2, field_match.SLOTS) and not empty.cosines.any()
    assert field_match.query_coverage(empty).shape == (2, 3 * field_match.GROUPS)
