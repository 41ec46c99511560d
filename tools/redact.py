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


def redaction_count(original: str, redacted: str) -> int:
    return redacted.count(MASK) - original.count(MASK)
