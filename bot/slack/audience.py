"""Who may read a reply, decided from the channel, its members and the asker, never from what they typed.

- A channel mapped in `slack_channel_audiences` gets that audience (the mapping describes the channel's
  readers, so it wins over the rules below).
- The asker: a guest (`is_restricted` / `is_ultra_restricted`), a stranger or a user of another
  organisation -> `industry`, in any channel or DM.
- The channel: its audience is the most restricted of its members'. Externally shared / Slack Connect
  channels (`is_ext_shared`, or pending), group DMs, and channels with a guest or an outside member ->
  `industry`; so are channels with more than `slack_audience_max_members` members, which are not
  listed member by member.
- Otherwise (DMs, and internal channels of full members asked by a full member) -> `staff`.

Members come from `conversations.members` (paginated) and `users.info`. Channel verdicts and users are
cached for `slack_lookup_ttl_s`; the membership events (see listeners/events/channel_membership.py)
drop a channel's verdict at once, before Slack gets the event's ack. Any failed lookup fails closed:
the answer is given from public documents only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from gcot.settings import Settings

log = logging.getLogger(__name__)

STAFF = "staff"
PUBLIC_ONLY = "industry"
MEMBERS_PAGE = 200  # Slack recommends at most 200 per conversations.members page


class AudienceResolver:
    """Resolves the audience of a question asked in `channel` by `user` (thread-safe, cached)."""

    def __init__(self, settings: Settings) -> None:
        self.mapping = dict(settings.slack_channel_audiences)
        self.max_members = settings.slack_audience_max_members
        self._channels: TTLCache = TTLCache(maxsize=5000, ttl=settings.slack_lookup_ttl_s)
        """channel -> (verdict, member ids) for the channel alone, the asker aside."""
        self._users: TTLCache = TTLCache(maxsize=20000, ttl=settings.slack_lookup_ttl_s)
        self._generation: dict[str, int] = {}
        """Bumped by every invalidation, so a lookup begun before it never stores its stale verdict."""
        self._lock = threading.Lock()

    def resolve(self, client: WebClient, *, channel: str, user: str, team: str | None,
                channel_type: str | None = None, enterprise: str | None = None) -> str:
        """The audience for an answer posted in `channel` to `user`.

        Args:
            client: Web API client for the lookups.
            channel: Channel id where the reply will be read.
            user: The asker's user id.
            team: Our workspace's team id (from the request's authorization).
            channel_type: `im`, `mpim`, `channel` or `group` when the event says so.
            enterprise: Our Enterprise Grid org id, if any (users of the same org count as internal).
        """
        if channel in self.mapping:
            return self.mapping[channel]
        try:
            if channel_type == "mpim":
                return PUBLIC_ONLY
            if not self.is_insider(self._user(client, user), team, enterprise, asker=True):
                return PUBLIC_ONLY
            if channel_type != "im" and self._channel_verdict(client, channel, team, enterprise) != STAFF:
                return PUBLIC_ONLY
        except (SlackClientError, OSError) as exc:
            error = exc.response.get("error") if getattr(exc, "response", None) is not None else type(exc).__name__
            log.warning("slack.audience_lookup_failed", extra={"channel": channel, "error": error})
            return PUBLIC_ONLY
        return STAFF

    # --- invalidation (membership events) ------------------------------------------------------------

    def invalidate_channel(self, channel: str) -> None:
        """Forget the channel's verdict: its next question looks the channel and its members up again."""
        with self._lock:
            self._generation[channel] = self._generation.get(channel, 0) + 1
            self._channels.pop(channel, None)

    def invalidate_user(self, user: str) -> None:
        """Forget a user, and the verdict of every cached channel the user is a member of."""
        with self._lock:
            self._users.pop(user, None)
            stale = [channel for channel, (_, members) in self._channels.items() if user in members]
        for channel in stale:
            self.invalidate_channel(channel)

    def user_changed(self, info: dict[str, Any]) -> None:
        """A `user_change` event: keep the new profile; if the user's standing may differ, re-check channels."""
        user = info.get("id")
        if not user:
            return
        with self._lock:
            before = self._users.get(user)
        if before is None or _standing(before) != _standing(info):
            self.invalidate_user(user)
        with self._lock:
            self._users[user] = info

    # --- the rules -------------------------------------------------------------------------------------

    @staticmethod
    def is_insider(user: dict[str, Any], team: str | None, enterprise: str | None, *, asker: bool = False) -> bool:
        """A full member of our workspace or org. Bots never ask; as channel members ours are insiders."""
        if user.get("deleted") and not asker:
            return True  # a deactivated account reads nothing
        if user.get("is_restricted") or user.get("is_ultra_restricted") or user.get("is_stranger"):
            return False
        if user.get("is_bot") and asker:
            return False
        same_team = team is not None and user.get("team_id") == team
        org = (user.get("enterprise_user") or {}).get("enterprise_id")
        same_org = enterprise is not None and org == enterprise
        return same_team or same_org

    def _channel_verdict(self, client: WebClient, channel: str, team: str | None, enterprise: str | None) -> str:
        with self._lock:
            cached = self._channels.get(channel)
            generation = self._generation.get(channel, 0)
        if cached is not None:
            return cached[0]
        verdict, members = self._look_up_channel(client, channel, team, enterprise)
        with self._lock:
            if self._generation.get(channel, 0) == generation:  # no event arrived meanwhile
                self._channels[channel] = (verdict, frozenset(members))
        return verdict

    def _look_up_channel(self, client: WebClient, channel: str, team: str | None,
                         enterprise: str | None) -> tuple[str, list[str]]:
        info = client.conversations_info(channel=channel, include_num_members=True)["channel"]
        if info.get("is_im"):
            return STAFF, []  # a DM: the asker is its only reader, checked separately
        if info.get("is_mpim") or info.get("is_ext_shared") or info.get("is_pending_ext_shared"):
            return PUBLIC_ONLY, []
        if int(info.get("num_members") or 0) > self.max_members:
            return PUBLIC_ONLY, []
        members: list[str] = []
        for member in self._members(client, channel):
            members.append(member)
            if len(members) > self.max_members:
                return PUBLIC_ONLY, members
            if not self.is_insider(self._user(client, member), team, enterprise):
                return PUBLIC_ONLY, members
        return STAFF, members

    def _members(self, client: WebClient, channel: str) -> Iterator[str]:
        cursor = None
        while True:
            page = client.conversations_members(channel=channel, limit=MEMBERS_PAGE, cursor=cursor)
            yield from page.get("members") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    def _user(self, client: WebClient, user: str) -> dict[str, Any]:
        with self._lock:
            if user in self._users:
                return self._users[user]
        info = client.users_info(user=user)["user"]
        with self._lock:
            self._users[user] = info
        return info


def _standing(user: dict[str, Any]) -> tuple:
    """What the rules read from a user; a `user_change` that alters none of it changes no verdict."""
    return (bool(user.get("is_restricted")), bool(user.get("is_ultra_restricted")), bool(user.get("is_stranger")),
            bool(user.get("deleted")), bool(user.get("is_bot")), user.get("team_id"),
            (user.get("enterprise_user") or {}).get("enterprise_id"))
