"""Fixtures of the MCP tests: the service with a sandbox of the module's own."""

from tests.server.mcp.mcp_fixture import mcp_service  # noqa: F401
