"""Widget values mirrored in the address (`st.query_params`), so a link reopens the same view.

`seed` runs before a widget: the address gives the widget its first value (unless the widget
already has one this session). `store` runs after it: the address follows the widget; a
default value is left out to keep links short.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st


def seed(key: str, param: str, parse: Callable[[str], Any], default: Any) -> None:  # noqa: ANN401
    if key in st.session_state:
        return
    raw = st.query_params.get(param)
    value = None
    if raw is not None:
        try:
            value = parse(raw)
        except (TypeError, ValueError):
            value = None
    if value is None:
        value = default
    if value is not None:  # a selectbox left unset shows its first option, not a placeholder
        st.session_state[key] = value


def store(param: str, value: Any, default: Any = None) -> None:  # noqa: ANN401
    if value is None or value == default:
        st.query_params.pop(param, None)
    else:
        st.query_params[param] = str(value)


def choice(options: dict[str, Any]) -> Callable[[str], Any]:
    """A parser accepting only known values (a stale or edited link falls back to default)."""
    return lambda raw: options.get(raw)
