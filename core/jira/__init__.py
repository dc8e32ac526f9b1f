"""Jira Cloud integration: REST client, ADF, webhook verification and event handling."""
