"""The process keeps only the few newest lexical fits: each refit makes a new ~16 MiB one."""

from __future__ import annotations

from core.db import session_scope
from core.search import indexing


def test_rebuilds_keep_only_the_newest_fits(sqlite_url) -> None:  # noqa: ANN001
    indexing._fits.clear()
    fit_ids = []
    for _ in range(indexing.FITS_KEPT + 3):
        with session_scope(sqlite_url, write=True) as session:
            indexing.rebuild_index(session)
            fit_ids.append(indexing.lock_state(session).fit_id)
    assert [fit_id for _epoch, fit_id in indexing._fits] == fit_ids[-indexing.FITS_KEPT :]
