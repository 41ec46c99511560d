"""What a `/medic …` command says: which subcommand, its argument, and the `-n NAMESPACE` and `--at TIME`
options. Parsing is plain text work, kept apart from Slack so it can be read (and tested) alone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ValidationError

from server.feedback import FeedbackIn, parse_cause

Kind = Literal["ask", "triage", "status", "list", "help", "feedback"]
_NAMESPACE = re.compile(r"(?:^|\s)(?:-n|--namespace)(?:\s+|=)(\S+)")
_AT = re.compile(r"(?:^|\s)--at(?:\s+|=)(\S+)")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_SUBJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,252}$")
_INCIDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")

HELP = """*medic* investigates incidents on Kubernetes and proposes a fix that only runs once approved.
• `/medic <question>`: open an incident from a question, e.g. `/medic why is checkout slow? -n shop`
• `/medic triage <service|alertname>`: follow the open incident of that alert here, or investigate the service
• `/medic status [incident]`: where an incident stands (this channel's latest by default)
• `/medic list`: open incidents
• `/medic feedback <incident> right|wrong [cause SERVICE[:KIND]] [fixed-by TEXT] [notes TEXT]`: was the verdict right? e.g. `/medic feedback inc-1 wrong cause payments:memory_leak fixed-by restarted payments`
• `/medic help`: this
Options: `-n NAMESPACE` (else the channel's), `--at 2026-03-02T14:00:00Z` (investigate as of that instant).
Reply in an incident's thread to ask about it ("what changed?", "evidence for checkout", "what would you do?")."""


class BadCommand(ValueError):
    """The command cannot be read; the message says how to write it."""


class Command(BaseModel):
    kind: Kind
    argument: str = ""  # the question, the triage subject or the incident id
    namespace: str | None = None
    at: AwareDatetime | None = None
    feedback: FeedbackIn | None = None


def parse(text: str, now: datetime) -> Command:
    rest, namespace = _take(_NAMESPACE, text)
    rest, at_text = _take(_AT, rest)
    if namespace is not None and not _DNS_LABEL.match(namespace):
        raise BadCommand(
            f"`{_quote(namespace)}` is not a namespace name (lowercase letters, digits and dashes)"
        )
    at = _instant(at_text, now) if at_text is not None else None
    words = rest.split()
    first = words[0].lower() if words else "help"
    argument = " ".join(words[1:])
    if first in ("help", "list") and not argument:
        return Command(kind=first, namespace=namespace, at=at)
    if first == "status":
        if argument and not _INCIDENT_ID.match(argument):
            raise BadCommand(f"`{_quote(argument)}` is not an incident id (see `/medic list`)")
        return Command(kind="status", argument=argument, namespace=namespace, at=at)
    if first == "feedback":
        return Command(
            kind="feedback", argument=words[1] if len(words) > 1 else "", feedback=_feedback(words[1:])
        )
    if first == "triage":
        if not _SUBJECT.match(argument):
            raise BadCommand("name one service or alertname: `/medic triage checkoutservice`")
        return Command(kind="triage", argument=argument, namespace=namespace, at=at)
    question = " ".join(words)
    if not 3 <= len(question) <= 2000:
        raise BadCommand("ask a question of 3 to 2,000 characters, e.g. `/medic why is checkout slow?`")
    return Command(kind="ask", argument=question, namespace=namespace, at=at)


_FEEDBACK_USAGE = (
    "`/medic feedback <incident> right|wrong [cause SERVICE[:KIND]] [fixed-by TEXT] [notes TEXT]`"
)
_FEEDBACK_FIELDS = {"cause": "cause", "fixed-by": "fixed_by", "fixed_by": "fixed_by", "notes": "notes"}


def _feedback(words: list[str]) -> FeedbackIn:
    """`<incident> right|wrong` then optional `cause S[:K]`, `fixed-by …` and `notes …` (free text
    up to the next of these words; text before any of them is notes)."""
    if len(words) < 2 or not _INCIDENT_ID.match(words[0]) or words[1].lower() not in ("right", "wrong"):
        raise BadCommand(f"say which incident and whether the verdict was right or wrong: {_FEEDBACK_USAGE}")
    parts: dict[str, list[str]] = {"notes": []}
    field = "notes"
    for word in words[2:]:
        if word.lower() in _FEEDBACK_FIELDS:
            field = _FEEDBACK_FIELDS[word.lower()]
            parts.setdefault(field, [])
            continue
        parts.setdefault(field, []).append(word)
    try:
        cause = parse_cause(" ".join(parts["cause"])) if parts.get("cause") else None
        return FeedbackIn(
            verdict=words[1].lower(),
            cause=cause,
            fixed_by=" ".join(parts.get("fixed_by", [])),
            notes=" ".join(parts["notes"]),
        )
    except (ValueError, ValidationError) as exc:
        first = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise BadCommand(f"{_quote(first, 300)}: {_FEEDBACK_USAGE}") from None


def _take(pattern: re.Pattern[str], text: str) -> tuple[str, str | None]:
    found = pattern.search(text)
    if found is None:
        return text, None
    return (text[: found.start()] + " " + text[found.end() :]).strip(), found.group(1)


def _instant(text: str, now: datetime) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise BadCommand(f"--at `{_quote(text)}` is not a time like 2026-03-02T14:00:00Z") from None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    if at > now + timedelta(minutes=5):
        raise BadCommand("--at is in the future: nothing has happened there yet")
    return at


def _quote(text: str, limit: int = 80) -> str:
    """What the user typed, shown back to them: short, and unable to ping or link."""
    return text[:limit].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", "'")
