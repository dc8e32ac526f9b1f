"""How a query matches each field of a few candidate agents, read from their stored rows only.

A stored `tfidf-hash-v2` row holds a (words, chars) pair of blocks for the whole text, then one
pair per field (`lexical.FIELDS`). For the re-rank's candidates (a few dozen rows) this walks
the rows' entries once and finds which are query terms, which gives, per candidate:

- the cosine of the query with each block (before issue 13's fourth pass computed for every
  agent, reading the query's columns in all four pairs: the cost grew with the registry);
- which query terms each field contains (query coverage);
- the share of a field's own weight that the query covers (how much of the name the query says).

Nothing here depends on the other agents, so its cost does not grow with the registry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from core.search import lexical

GROUPS = 1 + len(lexical.FIELDS)
SLOTS = 2 * GROUPS  # (group, block) pairs: whole words, whole chars, name words, ...


@dataclass(frozen=True)
class Matches:
    cosines: np.ndarray  # (candidates x SLOTS) query cosine with each block
    present: np.ndarray  # (candidates x GROUPS x query terms) bool: the group has the term
    covered: np.ndarray  # (candidates x SLOTS) share of the block's squared weight on query terms
    query_words: np.ndarray  # (query terms,) bool: a word (not a character n-gram)
    query_weights: np.ndarray  # (query terms,) the query's weights


def match(rows: sparse.csr_matrix, query: sparse.csr_matrix) -> Matches:
    """Per-block match statistics of each of `rows` (stored agent rows) against `query`."""
    n = rows.shape[0]
    order = np.argsort(query.indices, kind="stable")
    terms, weights = query.indices[order], query.data[order]
    present = np.zeros((n, GROUPS, len(terms)), dtype=bool)
    if n == 0 or len(terms) == 0:
        zeros = np.zeros((n, SLOTS))
        return Matches(zeros, present, zeros.copy(), terms < lexical.BLOCK, weights)
    owner = np.repeat(np.arange(n), np.diff(rows.indptr))
    local = rows.indices % lexical.GROUP
    group = rows.indices // lexical.GROUP
    slot = owner * SLOTS + 2 * group + (local >= lexical.BLOCK)
    at = np.minimum(np.searchsorted(terms, local), len(terms) - 1)
    hit = terms[at] == local
    # Both sides carry sqrt(block weight), so a block's dot product is weight x cosine.
    block_weight = np.where(
        local[hit] < lexical.BLOCK, lexical.WORD_WEIGHT, 1 - lexical.WORD_WEIGHT
    )
    dots = rows.data[hit].astype(np.float64) * weights[at[hit]] / block_weight
    cosines = np.bincount(slot[hit], dots, minlength=n * SLOTS).reshape(n, SLOTS)
    present[owner[hit], group[hit], at[hit]] = True
    squares = rows.data.astype(np.float64) ** 2
    total = np.bincount(slot, squares, minlength=n * SLOTS)
    on_query = np.bincount(slot[hit], squares[hit], minlength=n * SLOTS)
    covered = (on_query / np.maximum(total, 1e-12)).reshape(n, SLOTS)
    return Matches(cosines, present, covered, terms < lexical.BLOCK, weights)


def query_coverage(matches: Matches) -> np.ndarray:
    """(candidates x 3 * GROUPS): per group, the share of the query's word weight (squared) it
    contains, the share of the query's words it contains, the share of its character n-grams."""
    words, chars = matches.query_words, ~matches.query_words
    squares = matches.query_weights.astype(np.float64) ** 2
    word_weight = np.where(words, squares, 0.0)
    columns = []
    for g in range(GROUPS):
        present = matches.present[:, g, :]
        columns.append(present @ word_weight / max(word_weight.sum(), 1e-12))
        columns.append(present[:, words].sum(axis=1) / max(words.sum(), 1))
        columns.append(present[:, chars].sum(axis=1) / max(chars.sum(), 1))
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0))
