from collections.abc import Iterator

import pytest

from core import background
from core.jira.outbox import deliver_after_commit
from tests.jira_double.fixtures import jira, jira_env  # noqa: F401


@pytest.fixture(autouse=True)
def _deliver_like_the_cli() -> Iterator[None]:
    """As in `python -m core`: commands queue Jira calls; `jira sync` delivers them."""
    deliver_after_commit(False)
    yield
    deliver_after_commit(True)
    assert background.wait_idle(30), "background delivery did not finish"
