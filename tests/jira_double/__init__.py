"""A strict, real-HTTP Jira Cloud double for tests and benchmarks."""

from tests.jira_double.server import JiraDouble, RecordedRequest

__all__ = ["JiraDouble", "RecordedRequest"]
