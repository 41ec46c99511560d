"""Secret redaction for text from the world (pod logs, event messages) before it reaches a model, a
report or an audit record. Each rule keeps enough context to read the line ("password=[REDACTED]")
and removes the secret itself. Over-redaction is the safe failure.
"""

from __future__ import annotations

import re

MASK = "[REDACTED]"

_RULES: list[tuple[str, re.Pattern[str], str]] = [
    (
        "private_key",
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)", re.DOTALL
        ),
        f"-----BEGIN PRIVATE KEY----- {MASK} -----END PRIVATE KEY-----",
    ),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),
    ("bearer", re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{MASK}"),
    # "token <value>" only when the value looks machine-made, so "token expired for user" stays readable
    (
        "token",
        re.compile(r"(?i)\b(token)(\s+)(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{16,}"),
        rf"\1\2{MASK}",
    ),
    ("basic_auth_header", re.compile(r"(?i)\b(basic)(\s+)[A-Za-z0-9+/=]{8,}"), rf"\1\2{MASK}"),
    ("url_credentials", re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@]+):([^/\s@]+)@"), rf"\1\2:{MASK}@"),
    ("aws_access_key", re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b"), MASK),
    (
        "aws_secret_key",
        re.compile(r"(?i)(aws_?secret_?access_?key\s*[=:]\s*[\"']?)[A-Za-z0-9/+=]{40}"),
        rf"\1{MASK}",
    ),
    (
        "known_token_prefix",
        re.compile(r"\b(sk-[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,})"),
        MASK,
    ),
    (
        "key_value",
        re.compile(
            r"""(?ix)
            (["']?\b[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|
               private[_-]?key|client[_-]?secret|credentials?|auth)\b["']?   # the key
             \s*[=:]\s*)                                                    # = or :
            (?:"[^"]*"|'[^']*'|[^\s,;&}"']+)                                # the value
            """
        ),
        rf"\1{MASK}",
    ),
]


def redact(text: str) -> str:
    """`text` with every secret the rules recognise replaced by [REDACTED]."""
    for _, pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


# Env variable names whose value is a secret whatever it looks like. Long, unambiguous words count
# anywhere in the name (DBPASSWORD); short ones only as a whole word part (API_KEY, not MONKEY).
_SECRET_NAME_ANYWHERE = re.compile(r"(?i)passw(or)?d|secret|token|credential|api_?key|private")
_SECRET_NAME_PART = re.compile(r"(?i)^(key|pwd|pass|auth|dsn|cookie|session|cert|signature|salt)$")


def _name_parts(name: str) -> list[str]:
    """'dbAuthToken' and 'DB_AUTH-TOKEN' both give ['db', 'auth', 'token']."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [p for p in re.split(r"[^A-Za-z0-9]+", spaced) if p]


def secret_env_name(name: str) -> bool:
    """Whether an environment variable's NAME says its value is a secret."""
    return bool(_SECRET_NAME_ANYWHERE.search(name)) or any(
        _SECRET_NAME_PART.match(part) for part in _name_parts(name)
    )


def redact_env_value(name: str, value: str) -> str:
    """An env value as it may be shown: [REDACTED] entirely when the name says secret, otherwise with
    the secrets `redact` recognises in it (a URL's password, a bearer token, a JWT) removed."""
    if not value:
        return value
    return MASK if secret_env_name(name) else redact(value)


def redaction_count(original: str, redacted: str) -> int:
    return redacted.count(MASK) - original.count(MASK)
