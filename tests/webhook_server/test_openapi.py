"""The OpenAPI document: it matches the app's routes, and schemathesis finds no 5xx.

schemathesis generates requests from webhook_server/openapi.json (valid ones, and invalid ones
in negative mode) and sends them to the real server (gunicorn with gunicorn.conf.py). Every
answer must be below 500; answers to valid requests must also match the document.
`PROPERTY_MAX_EXAMPLES` bounds the examples per operation and mode (CI runtime).
"""

from __future__ import annotations

import json
import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select

from core import auth, registry
from core.db import session_scope
from core.models import Role, Source, UsageLog, WebhookEvent
from tests.webhook_server.live import running_server
from webhook_server.openapi import DOCUMENT

MAX_EXAMPLES = int(os.environ.get("PROPERTY_MAX_EXAMPLES", "30"))
SPEC = json.loads(DOCUMENT.read_text())


def _documented() -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in SPEC["paths"].items() for method in item}


def test_the_document_lists_exactly_the_apps_routes(app):
    served = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served == _documented()


def test_the_document_is_served(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == SPEC


@pytest.mark.slow
def test_no_generated_request_gets_a_server_error(sqlite_url):  # noqa: ANN001
    with session_scope(write=True) as session:
        auth.create_user(session, email="dev@example.com", name="Dev", role=Role.DEVELOPER)
        for n in range(3):  # agents 1-3 exist, so some generated events are stored
            registry.create_agent(
                session,
                owner_email="dev@example.com",
                source=Source.CLI,
                name=f"Agent {n}",
                description="An agent for generated requests",
                model="gpt-4o",
            )
        token = auth.create_api_token(session, name="schemathesis").token
    # Unsigned webhooks allowed: generated bodies reach the parser instead of stopping at 401.
    env = {"DATABASE_URL": sqlite_url, "WEBHOOK_ALLOW_UNSIGNED": "true", "JIRA_WEBHOOK_SECRET": ""}
    with running_server(env) as server:
        schema = schemathesis.openapi.from_url(f"{server.base}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        # schemathesis leaves out the document's own endpoint; every other one is exercised.
        exercised = {(op.path, op.method.upper()) for op in operations}
        assert exercised == _documented() - {("/openapi.json", "GET")}
        with requests.Session() as http:
            for operation in operations:
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    _exercise(operation, mode, server.base, token, http)
    with session_scope() as session:  # generated requests got past the guard, too
        stored = {
            table: session.scalar(select(func.count()).select_from(table))
            for table in (UsageLog, WebhookEvent)
        }
    print(f"stored by generated requests: {stored}")
    assert all(stored.values()), stored


def _exercise(operation, mode, base: str, token: str, http: requests.Session) -> None:  # noqa: ANN001
    checks = [not_a_server_error]
    if mode == GenerationMode.POSITIVE:
        checks += [status_code_conformance, content_type_conformance, response_schema_conformance]

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        authorised=st.booleans(),
        existing_agent=st.sampled_from([None, 1, 2, 3]),
    )
    def run(case, authorised: bool, existing_agent: int | None) -> None:  # noqa: ANN001
        headers = {"Authorization": f"Bearer {token}"} if authorised else {}
        if existing_agent and mode == GenerationMode.POSITIVE:
            _about_existing_agent(case.body, existing_agent)
        case.call_and_validate(base_url=base, session=http, headers=headers, checks=checks)

    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
        assert mode == GenerationMode.NEGATIVE


def _about_existing_agent(body: object, agent_id: int) -> None:
    """Point generated events at an agent that exists, now, so some are stored."""
    events = body.get("events", [body]) if isinstance(body, dict) else []
    for event in events:
        if isinstance(event, dict) and "agent_id" in event:
            event["agent_id"] = agent_id
            event.pop("created_at", None)
