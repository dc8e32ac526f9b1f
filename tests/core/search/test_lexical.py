"""The tfidf embedder: normalisation, hashing, the fitted state and its vectors."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from core.search import lexical
from core.search.text import content_tokens, stems

TEXTS = [
    "WordCloud makes word clouds from Harry Potter books",
    "Forecasts the weather: rain, sun and temperature",
    "Café menus — résumé of today's specials",
]


def test_tokens_split_case_drop_stop_words_and_fold_accents() -> None:
    assert content_tokens("The WordCloud of my_tools and a Café") == [
        "word",
        "cloud",
        "tools",
        "cafe",
    ]
    assert stems(["forecasts", "running", "clouds"]) == ["forecast", "run", "cloud"]


def test_fast_hashing_matches_scikit_learn_public_api() -> None:
    counts = lexical.term_counts(TEXTS, memoise=False)
    tokens = [content_tokens(t) for t in TEXTS]
    words = HashingVectorizer(
        analyzer=lambda terms: terms, n_features=lexical.BLOCK, alternate_sign=False, norm=None
    ).transform([stems(t) for t in tokens])
    chars = HashingVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), n_features=lexical.BLOCK,
        alternate_sign=False, norm=None, lowercase=False,
    ).transform([" ".join(t) for t in tokens])  # fmt: skip
    expected = np.hstack([words.toarray(), chars.toarray()])
    assert np.array_equal(counts.toarray(), expected)


def test_vectors_are_unit_length_and_scores_are_cosines() -> None:
    fit = lexical.LexicalFit.fit(lexical.term_counts(TEXTS))
    vectors = fit.embed(TEXTS)
    assert np.allclose(np.sqrt(vectors.multiply(vectors).sum(axis=1)).A.ravel(), 1.0, atol=1e-5)
    scores = (fit.embed(["rain forecast"]) @ vectors.T).toarray().ravel()
    assert scores.argmax() == 1 and 0.0 < scores.max() < 1.0 and scores.min() >= 0.0


def test_stop_words_only_query_matches_nothing() -> None:
    fit = lexical.LexicalFit.fit(lexical.term_counts(TEXTS))
    assert fit.embed(["what can you do for me"]).nnz == 0


def test_fit_state_round_trips_and_versions_weights() -> None:
    fit = lexical.LexicalFit.fit(lexical.term_counts(TEXTS))
    again = lexical.LexicalFit.from_bytes(fit.to_bytes())
    assert again.n_docs == 3 and np.array_equal(again.idf, fit.idf)
    assert len(fit.to_bytes()) < 100_000
    bigger = lexical.LexicalFit.fit(lexical.term_counts([*TEXTS, "weather weather rain"]))
    assert not np.array_equal(bigger.idf, fit.idf)  # a refit changes the weights


def test_unseen_words_still_count_before_a_refit() -> None:
    fit = lexical.LexicalFit.fit(lexical.term_counts(TEXTS))
    new = fit.embed(["Zorblax quantizer calibration"])
    assert (fit.embed(["zorblax"]) @ new.T).toarray()[0, 0] > 0.3


def test_pack_unpack_stack() -> None:
    fit = lexical.LexicalFit.fit(lexical.term_counts(TEXTS))
    vectors = fit.embed(TEXTS)
    rows = [lexical.unpack(lexical.pack(vectors[i])) for i in range(3)]
    assert np.allclose(lexical.stack(rows, width=lexical.DIMENSIONS).toarray(), vectors.toarray())
