"""ADF documents are valid for Jira's strict checks."""

from core.jira import adf
from tests.jira_double.adf_rules import adf_problem


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
