"""Database access for pages: the cached engine and short read / write sessions from core."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import get_engine, session_scope


def database_url() -> str:
    return get_settings().sqlalchemy_url


@st.cache_resource(show_spinner=False)
def engine(url: str) -> Engine:
    """One engine (and connection pool) per database for every browser session."""
    return get_engine(url)


@contextmanager
def reading() -> Iterator[Session]:
    url = database_url()
    engine(url)
    with session_scope(url) as session:
        yield session


@contextmanager
def writing(*, clear_caches: bool = True) -> Iterator[Session]:
    """A write transaction; cached analytics are dropped afterwards so pages show the change."""
    url = database_url()
    engine(url)
    with session_scope(url, write=True) as session:
        yield session
    if clear_caches:
        st.cache_data.clear()
