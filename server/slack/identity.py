"""A signed Slack request's user as a verified `Principal`: the roles settings map to the user and to the
user groups Slack says they belong to (DESIGN §3.4 invariant 8).

The user id comes from a request whose signature was checked; the roles come only from settings
(`MEDIC_SLACK_ROLES`), never from message text. Group membership is asked of Slack
(usergroups.users.list) and cached briefly; a group Slack does not answer for grants nothing, so an
outage can only narrow what a user may do, never widen it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from server.auth import Principal
from server.slack.config import SlackRoles
from server.slack.web_api import SlackUnavailable, SlackWeb

log = logging.getLogger("medic.slack")


def subject_of(user: str) -> str:
    """How a Slack user is named in approvals, the timeline and the audit log."""
    return f"slack:{user}"


@dataclass
class SlackPerson:
    principal: Principal
    unverified: list[str] = field(default_factory=list)  # groups Slack did not answer for

    def why_not(self, role: str) -> str:
        """Why this person lacks `role`, in words for them."""
        held = ", ".join(self.principal.roles) or "no medic role"
        text = f"this needs the {role} role; <@{self.principal.subject.removeprefix('slack:')}> has {held}"
        if self.unverified:
            text += f" (Slack did not confirm your membership of {', '.join(self.unverified)})"
        return text


class SlackIdentities:
    def __init__(
        self,
        roles: SlackRoles,
        web: SlackWeb,
        cache_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.roles, self.web, self.cache_s, self.clock = roles, web, cache_s, clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    async def person(self, user: str) -> SlackPerson:
        roles = set(self.roles.users.get(user, []))
        groups: list[str] = []
        unverified: list[str] = []
        for group, granted in self.roles.usergroups.items():
            try:
                members = await self._members_of(group)
            except SlackUnavailable as exc:
                log.warning("user group %s not verified: %s", group, exc)
                unverified.append(group)
                continue
            if user in members:
                groups.append(group)
                roles.update(granted)
        principal = Principal(subject=subject_of(user), roles=sorted(roles), groups=groups, scopes=[])
        return SlackPerson(principal=principal, unverified=unverified)

    async def _members_of(self, group: str) -> frozenset[str]:
        now = self.clock()
        cached = self._members.get(group)
        if cached is not None and now - cached[0] < self.cache_s:
            return cached[1]
        members = frozenset(await self.web.usergroup_members(group))
        self._members[group] = (now, members)
        return members
