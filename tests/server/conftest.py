"""Fixtures of the service tests: the app in-process, and a sandbox of a test's own for server processes."""

from tests.server.api_fixture import api  # noqa: F401
from tests.server.serve_process import own_sandbox  # noqa: F401
from tests.server.service_fixture import service  # noqa: F401
