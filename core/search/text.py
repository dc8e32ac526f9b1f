"""What of an agent gets indexed, and how text is normalised before it is embedded."""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_TOKEN = re.compile(r"[^\W_]+")
_stemmers = threading.local()  # snowball stemmer objects keep state between calls


@dataclass(frozen=True)
class AgentDocument:
    """The texts one agent is embedded from."""

    lexical: str
    semantic: str
    fields: tuple[str, str, str] = ("", "", "")  # name, description, prompt (lexical.FIELDS)

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(f"{self.lexical}\x00{self.semantic}".encode()).hexdigest()


def agent_document(agent) -> AgentDocument:  # noqa: ANN001
    """Name (counted twice: it is short and telling), description, tools, prompt and model.

    Code is left out: identifiers and boilerplate drown the words people search with.
    """
    tools = " ".join(str(tool).replace("_", " ").replace("-", " ") for tool in agent.tools or [])
    prompt = agent.system_prompt or ""
    parts = [agent.name, agent.name, agent.description, tools, prompt, agent.model]
    lexical = "\n".join(part for part in parts if part)
    semantic_parts = [f"{agent.name}.", agent.description, tools, prompt]
    semantic = " ".join(part for part in semantic_parts if part)
    fields = (agent.name or "", agent.description or "", prompt)
    return AgentDocument(lexical=lexical, semantic=semantic, fields=fields)


def content_tokens(text: str) -> list[str]:
    """Lower-case words without accents or stop words; `WordCloud` and `word_cloud` split."""
    text = _CAMEL.sub(" ", text)
    text = text.lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return [token for token in _TOKEN.findall(text) if token not in ENGLISH_STOP_WORDS]


def stems(tokens: list[str]) -> list[str]:
    return [_stem(token) for token in tokens]


@lru_cache(maxsize=200_000)
def _stem(token: str) -> str:
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return stemmer.stemWord(token)
