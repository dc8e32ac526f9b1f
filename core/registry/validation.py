"""Checks on agent fields, each refusal with its own message."""

from __future__ import annotations

from collections.abc import Iterable

from core.errors import ValidationError

MAX_NAME = 120
MAX_MODEL = 120
MAX_DESCRIPTION = 20_000
MAX_PROMPT = 100_000
MAX_CODE_BYTES = 1_000_000
MAX_TOOLS = 50
MAX_TOOL_NAME = 120


def clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("name is required", field="name")
    if len(name) > MAX_NAME:
        raise ValidationError(
            f"name is {len(name)} characters; use at most {MAX_NAME}", field="name"
        )
    return name


def clean_description(description: str | None) -> str:
    description = (description or "").strip()
    if not description:
        raise ValidationError(
            "description is required: say what the agent does", field="description"
        )
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(
            f"description is {len(description)} characters; use at most {MAX_DESCRIPTION}",
            field="description",
        )
    return description


def clean_model(model: str | None) -> str:
    model = (model or "").strip()
    if not model:
        raise ValidationError(
            "model is required (for example gpt-4o or claude-sonnet-4)", field="model"
        )
    if len(model) > MAX_MODEL:
        raise ValidationError(
            f"model name is too long; use at most {MAX_MODEL} characters", field="model"
        )
    return model


def clean_prompt(prompt: str | None) -> str:
    prompt = prompt or ""
    if len(prompt) > MAX_PROMPT:
        raise ValidationError(
            f"system prompt is {len(prompt)} characters; use at most {MAX_PROMPT}",
            field="system_prompt",
        )
    return prompt


def clean_tools(tools: Iterable[str] | str | None) -> list[str]:
    if tools is None:
        return []
    if isinstance(tools, str):
        tools = tools.replace("\n", ",").split(",")
    cleaned: list[str] = []
    for tool in tools:
        tool = str(tool).strip()
        if not tool or tool in cleaned:
            continue
        if len(tool) > MAX_TOOL_NAME:
            raise ValidationError(f"tool name '{tool[:30]}…' is too long", field="tools")
        cleaned.append(tool)
    if len(cleaned) > MAX_TOOLS:
        raise ValidationError(f"{len(cleaned)} tools given; use at most {MAX_TOOLS}", field="tools")
    return cleaned


def clean_code(code: str | bytes | None) -> str:
    if code is None:
        return ""
    if isinstance(code, bytes):
        try:
            code = code.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("code must be UTF-8 text", field="code") from None
    size = len(code.encode("utf-8"))
    if size > MAX_CODE_BYTES:
        raise ValidationError(
            f"code is {size:,} bytes; the limit is 1 MB ({MAX_CODE_BYTES:,} bytes)", field="code"
        )
    if "\x00" in code:
        raise ValidationError("code must be text, not a binary file", field="code")
    return code
