"""Answering the guard's approval request from one person's seat (the CLI, a chat button).

The roles come from the deployment's configuration of that seat, never from the request or any text
in it; the approval names the exact action the payload carries, and expires.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, JsonValue

from policies.approvals import Approval, Channel
from policies.guard_record import NoApprover

Ask = Callable[[dict[str, JsonValue]], bool | NoApprover]


class Approver(BaseModel):
    identity: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    channel: Channel = "cli"
    ttl: timedelta = timedelta(minutes=15)

    def answer(self, payload: dict[str, JsonValue], *, approve: bool, now: datetime) -> Approval:
        """An approval (or refusal) of exactly the action in the guard's interrupt payload."""
        return Approval.model_validate(
            {
                "approver": self.identity,
                "roles": self.roles,
                "groups": self.groups,
                "verdict": "approve" if approve else "reject",
                "action": payload["exact"],
                "approved_at": now,
                "expires_at": now + self.ttl,
                "channel": self.channel,
            }
        )

    def decide(
        self,
        payload: dict[str, JsonValue],
        *,
        mode: Literal["prompt", "yes", "no"],
        ask: Ask,
        now: datetime,
    ) -> Approval | NoApprover:
        """The answer this seat gives: always yes, always no, or whatever the person says when asked;
        `ask` returns a `NoApprover` when there is nobody to ask (e.g. no terminal), which is no refusal."""
        if mode != "prompt":
            return self.answer(payload, approve=mode == "yes", now=now)
        said = ask(payload)
        return said if isinstance(said, NoApprover) else self.answer(payload, approve=said, now=now)
