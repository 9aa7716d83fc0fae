"""Who may read a reply, decided from the channel and the asker, never from what they typed.

- A channel mapped in `slack_channel_audiences` gets that audience (the mapping describes the channel's
  readers, so it wins over the rules below).
- Externally shared / Slack Connect channels (`is_ext_shared`, or pending) -> `industry`.
- A guest (`is_restricted` / `is_ultra_restricted`) or a user of another organisation -> `industry`.
- Group DMs -> `industry`: we cannot cheaply check every member.
- Otherwise (DMs and internal channels asked by full members) -> `staff`.

Lookups (`conversations.info`, `users.info`) are cached for `slack_lookup_ttl_s`. A failed lookup
fails closed: the answer is given from public documents only.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from gcot.settings import Settings

log = logging.getLogger(__name__)

STAFF = "staff"
PUBLIC_ONLY = "industry"


class AudienceResolver:
    """Resolves the audience of a question asked in `channel` by `user` (thread-safe, cached)."""

    def __init__(self, settings: Settings) -> None:
        self.mapping = dict(settings.slack_channel_audiences)
        self._channels: TTLCache = TTLCache(maxsize=5000, ttl=settings.slack_lookup_ttl_s)
        self._users: TTLCache = TTLCache(maxsize=20000, ttl=settings.slack_lookup_ttl_s)
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
            if channel_type != "im":
                info = self._channel(client, channel)
                if info.get("is_mpim") or info.get("is_ext_shared") or info.get("is_pending_ext_shared"):
                    return PUBLIC_ONLY
            if not self._is_full_member(self._user(client, user), team, enterprise):
                return PUBLIC_ONLY
        except SlackApiError as exc:
            log.warning("slack.audience_lookup_failed", extra={"channel": channel, "error": exc.response.get("error")})
            return PUBLIC_ONLY
        return STAFF

    @staticmethod
    def _is_full_member(user: dict[str, Any], team: str | None, enterprise: str | None) -> bool:
        if user.get("is_restricted") or user.get("is_ultra_restricted") or user.get("is_stranger"):
            return False
        if user.get("is_bot"):
            return False
        same_team = team is not None and user.get("team_id") == team
        org = (user.get("enterprise_user") or {}).get("enterprise_id")
        same_org = enterprise is not None and org == enterprise
        return same_team or same_org

    def _channel(self, client: WebClient, channel: str) -> dict[str, Any]:
        with self._lock:
            if channel in self._channels:
                return self._channels[channel]
        info = client.conversations_info(channel=channel)["channel"]
        with self._lock:
            self._channels[channel] = info
        return info

    def _user(self, client: WebClient, user: str) -> dict[str, Any]:
        with self._lock:
            if user in self._users:
                return self._users[user]
        info = client.users_info(user=user)["user"]
        with self._lock:
            self._users[user] = info
        return info
