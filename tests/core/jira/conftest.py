from tests.jira_double.fixtures import jira, jira_env  # noqa: F401
