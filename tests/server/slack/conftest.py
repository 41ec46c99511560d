"""Fixtures of the Slack tests: the loopback Slack stub and the service with its Slack app."""

from tests.server.slack.slack_fixture import slack_app, slack_stub  # noqa: F401
