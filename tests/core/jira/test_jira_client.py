"""The Jira client against the strict Jira double over real HTTP."""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime

import pytest

from core.jira import adf
from core.jira.client import (
    JiraClient,
    backoff_delay,
    parse_rate_limit_reset,
    parse_retry_after,
)
from core.jira.errors import JiraError, JiraUnavailableError
from tests.jira_double import JiraDouble
from tests.jira_double.server import http_date


@pytest.fixture
def jira():
    with JiraDouble() as double:
        yield double


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(jira, sleeps):
    return JiraClient(
        jira.url,
        email=jira.email,
        api_token=jira.api_token,
        timeout=5,
        sleep=sleeps.append,
        rng=lambda: 0.5,
    )


def _fields(**extra):
    return {
        "project": {"key": "AGENT"},
        "issuetype": {"name": "Task"},
        "summary": "Approve agent: invoice-bot v1",
        "description": adf.document(adf.paragraph("An agent.")),
        **extra,
    }


def test_myself_uses_basic_auth(client, jira):
    assert client.myself()["emailAddress"] == jira.email
    assert jira.requests[-1].headers["Authorization"].startswith("Basic ")


def test_wrong_token_is_an_error_without_the_token(jira, sleeps):
    bad = JiraClient(jira.url, email=jira.email, api_token="wrong-token-xyz", sleep=sleeps.append)
    with pytest.raises(JiraError) as info:
        bad.myself()
    assert info.value.status == 401
    assert "JIRA_API_TOKEN" in str(info.value)
    assert "wrong-token-xyz" not in str(info.value) + repr(bad)
    assert sleeps == []  # 401 is not retried


def test_create_issue_with_adf_description(client, jira):
    created = client.create_issue(_fields(labels=["agent-registry"]))
    assert created["key"] == "AGENT-1"
    assert jira.issues["AGENT-1"].fields["summary"].startswith("Approve agent")


def test_string_description_is_rejected_with_jira_errors(client):
    with pytest.raises(JiraError) as info:
        client.create_issue(_fields(description="plain text is not ADF in v3"))
    assert info.value.status == 400
    assert "description" in info.value.errors
    assert "Atlassian Document" in str(info.value)


def test_empty_text_node_is_rejected(client):
    bad = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": ""}]}],
    }
    with pytest.raises(JiraError) as info:
        client.create_issue(_fields(description=bad))
    assert info.value.errors == {"description": "INVALID_INPUT"}


def test_label_with_space_is_rejected(client):
    with pytest.raises(JiraError) as info:
        client.create_issue(_fields(labels=["agent registry"]))
    assert "labels" in info.value.errors


def test_attachment_sends_no_check_header_and_file_field(client, jira):
    client.create_issue(_fields())
    result = client.add_attachment("AGENT-1", filename="agent.py", content=b"print('hi')\n")
    assert result[0]["filename"] == "agent.py"
    sent = jira.calls("POST", "/attachments")[-1]
    assert sent.headers["X-Atlassian-Token"] == "no-check"
    assert sent.form_files["file"] == ("agent.py", b"print('hi')\n")


def test_double_refuses_attachment_without_no_check(jira):
    import requests

    jira.issues.clear()
    response = requests.post(
        f"{jira.url}/rest/api/3/issue/AGENT-1/attachments",
        auth=(jira.email, jira.api_token),
        files={"file": ("a", b"x")},
    )
    assert response.status_code == 403


def test_comment_must_be_adf(client, jira):
    client.create_issue(_fields())
    assert client.add_comment("AGENT-1", adf.from_plain_text("Looks good"))["id"]
    with pytest.raises(JiraError) as info:
        client.add_comment("AGENT-1", "plain string")  # type: ignore[arg-type]
    assert info.value.status == 400


def test_transition_chosen_by_target_status_and_posted_by_id(client, jira):
    client.create_issue(_fields())
    assert client.transition_to("AGENT-1", ["approved"]) == "Approved"
    assert jira.issues["AGENT-1"].status == "Approved"
    posted = jira.calls("POST", "/transitions")[-1]
    assert posted.json == {"transition": {"id": "21"}}


def test_transition_to_unknown_status_returns_none(client, jira):
    client.create_issue(_fields())
    assert client.transition_to("AGENT-1", ["Shipped"]) is None
    assert jira.calls("POST", "/transitions") == []


def test_invalid_transition_id_is_a_jira_error(client, jira):
    client.create_issue(_fields())
    with pytest.raises(JiraError) as info:
        client.transition("AGENT-1", "99")
    assert "not valid" in str(info.value)


def test_429_honours_retry_after(client, jira, sleeps):
    jira.fail_next(429, retry_after="7", path="/myself")
    assert client.myself()["displayName"]
    assert sleeps == [7.0]


def test_5xx_backs_off_exponentially_then_succeeds(client, jira, sleeps):
    jira.fail_next(503, times=3, path="/myself")
    client.myself()
    assert sleeps == [1.0, 2.0, 4.0]  # rng fixed at 0.5 means no jitter


def test_gives_up_after_three_retries(client, jira, sleeps):
    jira.fail_next(502, times=4, path="/myself")
    with pytest.raises(JiraUnavailableError):
        client.myself()
    assert len(sleeps) == 3
    assert len(jira.calls("GET", "/myself")) == 4


def test_connection_refused_is_retried_then_reported(sleeps):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = JiraClient(
        f"http://127.0.0.1:{port}",
        email="a@b.c",
        api_token="t",
        sleep=sleeps.append,
        rng=lambda: 0.5,
    )
    with pytest.raises(JiraUnavailableError) as info:
        client.myself()
    assert "could not reach Jira" in str(info.value)
    assert sleeps == [1.0, 2.0, 4.0]


def test_lost_create_answer_finds_the_issue_instead_of_creating_twice(client, jira, sleeps):
    jira.drop_next(path="/rest/api/3/issue", method="POST")
    created = client.create_issue(_fields(), dedupe_label="ar-agent-1-v1")
    assert created["key"] == "AGENT-1"
    assert list(jira.issues) == ["AGENT-1"]
    assert len(jira.calls_to("POST", "/rest/api/3/issue")) == 1


def test_token_never_logged(jira, sleeps, caplog):
    client = JiraClient(jira.url, email=jira.email, api_token=jira.api_token, sleep=sleeps.append)
    jira.fail_next(503, path="/myself")
    with caplog.at_level(logging.DEBUG):
        client.myself()
    assert jira.api_token not in caplog.text
    assert "retrying" in caplog.text


def test_backoff_and_retry_after_helpers():
    assert backoff_delay(0, rng=lambda: 0.0) == 0.75
    assert backoff_delay(2, rng=lambda: 1.0) == 5.0
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("100000") == 100000.0  # honoured in full, never capped
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past
    assert 115 <= parse_retry_after(http_date(120)) <= 121
    assert parse_rate_limit_reset("2026-01-01T12:02:00Z", now=1767268800.0) == 120.0
    assert parse_rate_limit_reset("1767268830", now=1767268800.0) == 30.0
    assert parse_rate_limit_reset("later") is None


def test_retry_after_longer_than_max_wait_fails_at_once_with_the_time(client, jira, sleeps):
    jira.throttle("120", path="/myself")
    with pytest.raises(JiraUnavailableError) as info:
        client.myself()
    assert sleeps == []  # never slept 60, 60, 60 and gave up
    assert info.value.retry_after == 120.0 and not info.value.maybe_done
    assert len(jira.calls("GET", "/myself")) == 1


def test_http_date_retry_after_is_honoured(client, jira, sleeps):
    jira.throttle(http_date(3), path="/myself")
    client.myself()
    assert len(sleeps) == 1 and 1.5 <= sleeps[0] <= 4


def test_rate_limit_reset_is_read_when_retry_after_is_missing(client, jira, sleeps):
    reset = datetime.fromtimestamp(time.time() + 5, UTC).isoformat()
    jira.fail_next(429, path="/myself", headers={"X-RateLimit-Reset": reset})
    client.myself()
    assert len(sleeps) == 1 and 3.5 <= sleeps[0] <= 5.5
