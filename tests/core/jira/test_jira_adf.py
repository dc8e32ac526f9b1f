"""ADF documents are valid for Jira's strict checks."""

from types import SimpleNamespace

import pytest

from core.config import Settings
from core.jira import adf, issue_content
from tests.jira_double.adf_rules import adf_problem, schema_problem, too_long


def test_document_with_all_block_kinds_is_valid():
    doc = adf.document(
        adf.heading("Agent", level=2),
        adf.paragraph("line one\nline two", strong_prefix="Notes: "),
        adf.code_block("print(1)", language="python"),
        adf.link_paragraph("Dashboard: ", "https://dash.example.com/?agent=1"),
    )
    assert adf_problem(doc) is None


def test_empty_values_produce_no_empty_text_nodes():
    doc = adf.document(adf.paragraph(""), adf.code_block(""), adf.paragraph("a\n\nb"))
    assert adf_problem(doc) is None
    assert doc["content"][0]["content"] == []
    assert doc["content"][1]["content"] == []


def test_plain_text_round_trip():
    doc = adf.from_plain_text("first\n\nsecond line")
    assert adf_problem(doc) is None
    assert adf.to_plain_text(doc) == "first\n\nsecond line"


def test_strings_are_not_adf():
    assert adf_problem("text") is not None


# -- Atlassian's published schema (tests/adf_schema, @atlaskit/adf-schema) -----------------


def _version(**fields):  # noqa: ANN003, ANN202
    values = {
        "name": "Ticket summariser",
        "version": 3,
        "description": "Summarises tickets.\n\nSecond paragraph.",
        "model": "gpt-4o",
        "system_prompt": "Be brief.\nAlways cite the ticket.",
        "tools": ["search", {"name": "email"}],
        "code": "print(1)\n",
        "code_filename": None,
        "notes": "Please review",
        "submitted_by": "dev@example.com",
        "content_hash": "ab" * 32,
    }
    return SimpleNamespace(**(values | fields))


AGENT = SimpleNamespace(id=7, owner=SimpleNamespace(email="dev@example.com"), owner_id=1)
SETTINGS = Settings(dashboard_url="https://registry.example.com", jira_project_key="AGENT")


@pytest.mark.parametrize(
    "version",
    [
        _version(),
        _version(notes="", tools=[], system_prompt="", code=""),
        _version(description="D" * 20_000, system_prompt="P" * 100_000, notes="N" * 10_000),
    ],
    ids=["full", "minimal", "over-the-limit"],
)
def test_every_issue_description_we_send_validates_against_atlassians_schema(version):
    fields = issue_content.issue_fields(SETTINGS, agent=AGENT, version=version)
    assert schema_problem(fields["description"]) is None
    assert not too_long(fields["description"])  # as the double (and Jira) counts


@pytest.mark.parametrize("body", ["Short.", "para one\r\n\r\npara two\nline", "y " * 40_000])
def test_every_comment_we_send_validates_against_atlassians_schema(body):
    documents = issue_content.comment_bodies("ada@example.com", body)
    for document in documents:
        assert schema_problem(document) is None
        assert not too_long(document)


def test_the_schema_refuses_what_jira_refuses():
    assert schema_problem({"type": "doc", "version": 1, "content": "text"}) is not None
    link_without_href = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [{"type": "text", "text": "x", "marks": [{"type": "link"}]}],
            }
        ],
    }
    assert schema_problem(link_without_href) is not None
