"""Turning domain errors into red messages, and confirmations after actions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import streamlit as st

from core.errors import DomainError

NOTICE_KEY = "_notice"


@dataclass
class Attempt:
    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@contextmanager
def showing_errors(container=None) -> Iterator[Attempt]:  # noqa: ANN001 - any st container
    """Run an action; a DomainError becomes `st.error` with its one-line message."""
    attempt = Attempt()
    try:
        yield attempt
    except DomainError as error:
        attempt.error = error
        (container or st).error(str(error), icon=":material/error:")


def notify_after_rerun(message: str) -> None:
    """Show `message` as a toast on the next run (actions rerun the page to show new state)."""
    st.session_state[NOTICE_KEY] = message


def show_pending_notice() -> None:
    message = st.session_state.pop(NOTICE_KEY, None)
    if message:
        st.toast(message, icon=":material/check_circle:")
        st.success(message)
