"""Secret redaction: each kind of secret goes, the text around it stays readable."""

from __future__ import annotations

import pytest

from tools.redact import MASK, redact, redact_env_value

SECRETS = [
    ("Authorization: Bearer abcdef0123456789xyz", "abcdef0123456789xyz", "Authorization: Bearer"),
    (
        "jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
        "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
        "jwt=",
    ),
    ("login ok token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "c2lnbmF0dXJl", "login ok"),
    ("connecting with password=hunter2 to db", "hunter2", "to db"),
    ('{"api_key": "AbC123xyz", "region": "eu"}', "AbC123xyz", '"region": "eu"'),
    ("DB_PASSWORD: 'p@ss word'", "p@ss word", "DB_PASSWORD"),
    ("client_secret=s3cr3t&grant_type=client_credentials", "s3cr3t", "grant_type"),
    ("dial postgres://admin:S3cretPass@db.internal:5432/orders", "S3cretPass", "admin:"),
    ("using key AKIAIOSFODNN7EXAMPLE for s3", "AKIAIOSFODNN7EXAMPLE", "for s3"),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG",
        "aws_secret_access_key",
    ),
    ("Authorization: Basic YWRtaW46aHVudGVyMg==", "YWRtaW46aHVudGVyMg==", "Authorization: Basic"),
    ("slack xoxb-1234567890-abcdefghij", "xoxb-1234567890", "slack"),
    ("key sk-proj-abcdefghijklmnopqrstuvwx", "sk-proj-abcdefghijklmnop", "key"),
]


@pytest.mark.parametrize(("line", "secret", "kept"), SECRETS)
def test_secrets_are_redacted_and_context_kept(line: str, secret: str, kept: str) -> None:
    out = redact(line)
    assert secret not in out and MASK in out and kept in out


def test_a_private_key_block_goes_whole() -> None:
    block = "cert loaded\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nq9X\n-----END RSA PRIVATE KEY-----\nready"
    out = redact(block)
    assert "MIIEpAIBAAKCAQEA7" not in out and "q9X" not in out
    assert out.startswith("cert loaded\n") and out.endswith("\nready")


@pytest.mark.parametrize(
    "line",
    [
        "GET /cart 200 12ms user=42 trace=4bf92f3577b34da6",
        "token expired for user bob, please log in again",
        "auth failed: invalid credentials format",
        "OOMKilled: container exceeded memory limit 512Mi",
    ],
)
def test_ordinary_lines_are_left_alone(line: str) -> None:
    assert redact(line) == line


@pytest.mark.parametrize(
    "name", ["DB_PASSWORD", "dbPassword", "API_KEY", "apikey", "GITHUB_TOKEN", "SENTRY_DSN", "SESSION_KEY"]
)
def test_env_values_with_a_secret_name_go_whole(name: str) -> None:
    assert redact_env_value(name, "plain-looking-value") == MASK


@pytest.mark.parametrize("name", ["APP_CONFIG", "MONKEY_MODE", "KEYCLOAK_REALM", "LOG_LEVEL"])
def test_env_values_with_an_ordinary_name_stay_readable(name: str) -> None:
    assert redact_env_value(name, "large") == "large"


def test_env_values_with_an_ordinary_name_still_lose_embedded_secrets() -> None:
    shown = redact_env_value("DATABASE_URL", "postgres://app:s3cretpw@db:5432/orders")
    assert shown == f"postgres://app:{MASK}@db:5432/orders"
