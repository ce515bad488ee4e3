"""LISTEN/NOTIFY bookkeeping shared by both facades.

A ``Listeners`` registry maps channels to callbacks; the session calls ``deliver`` for
every NotificationResponse, whenever it arrives (during a query, or while idle).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Notification:
    """A NOTIFY received: the notifying backend's pid, the channel and the payload."""

    pid: int
    channel: str
    payload: str


def quote_ident(name: str) -> str:
    """A channel name as a quoted SQL identifier (LISTEN takes no parameters)."""
    if "\0" in name:
        raise ValueError("a channel name cannot contain NUL")
    return '"' + name.replace('"', '""') + '"'


Callback = Callable[[Any, int, str, str], Any]


class Listeners:
    """Callbacks by channel, plus a bounded queue for ``Conn.notifies()``."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._by_channel: dict[str, list[Callback]] = {}
        self.queue: deque[Notification] = deque(maxlen=100_000)
        self.queueing = False

    def add(self, channel: str, callback: Callback) -> bool:
        """Registers; True when the channel is new (the caller sends LISTEN)."""
        cbs = self._by_channel.setdefault(channel, [])
        cbs.append(callback)
        return len(cbs) == 1

    def remove(self, channel: str, callback: Callback) -> bool:
        """Unregisters; True when the channel has no callbacks left (the caller sends UNLISTEN)."""
        cbs = self._by_channel.get(channel)
        if not cbs or callback not in cbs:
            return False
        cbs.remove(callback)
        if not cbs:
            del self._by_channel[channel]
            return True
        return False

    def deliver(self, pid: int, channel: str, payload: str) -> list[Any]:
        """Calls the channel's callbacks; returns what they returned (coroutines, for the
        async facade to schedule)."""
        if self.queueing:
            self.queue.append(Notification(pid, channel, payload))
        return [cb(self._conn, pid, channel, payload) for cb in list(self._by_channel.get(channel, ()))]
