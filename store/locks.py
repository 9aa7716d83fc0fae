"""One writer at a time: a lock file for the embedded store, a lock collection on a Chroma server.

Embedded (`PersistentClient`): Chroma does not support two processes on one store folder, so the
writer (an ingest, or a serving process that ingests in-process) holds an exclusive `flock` on
`<data dir>/store.lock`. The kernel drops it when the process dies, so it can never go stale. The
file says who holds it (pid, command, since when), for the error the next process gets.

Server (`CHROMA_HOST`): any number of readers, one ingest at a time. The lock is a collection named
`<base>__lock` (creating an existing collection fails atomically on the server) whose metadata
names the holder (host, pid, command, since) and a heartbeat the holder refreshes. A lock whose
holder is a dead process on this host, or whose heartbeat is older than `ingest_lock_stale_s`, is
taken over. (Chroma has no compare-and-set, so two hosts taking over the same stale lock in the
same instant could both proceed; the window is one delete-and-create, and only a stale lock opens it.)
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from gcot.settings import Settings

_HELD: dict[Path, tuple[Any, int]] = {}
"""Lock files this process holds, with a reference count: flock conflicts between two descriptors of
one process, and a serving process that ingests in-process takes the lock twice. Process-wide by
nature (a lock is held by the process), hence module state."""
_HELD_GUARD = threading.Lock()


class StoreLockedError(RuntimeError):
    """Another process holds the store for writing; the message says who and what to do."""

    def __init__(self, message: str, holder: dict[str, Any]) -> None:
        super().__init__(message)
        self.holder = holder


def this_command() -> str:
    argv = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv and sys.argv[0] else ["python"]
    return " ".join(argv)[:200]


def _age(since: float) -> str:
    seconds = max(0, int(time.time() - since))
    return f"{seconds // 3600} h {seconds % 3600 // 60} min" if seconds >= 3600 else f"{seconds // 60} min {seconds % 60} s"


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class EmbeddedLock:
    """The exclusive lock on an embedded store folder (re-entrant within one process)."""

    def __init__(self, settings: Settings, *, purpose: str | None = None) -> None:
        self.path = (settings.data_dir / "store.lock").resolve()
        self.purpose = purpose or this_command()

    def acquire(self) -> EmbeddedLock:
        with _HELD_GUARD:
            if self.path in _HELD:
                handle, count = _HELD[self.path]
                _HELD[self.path] = (handle, count + 1)
                return self
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = _parse(handle.read())
                handle.close()
                raise StoreLockedError(self._message(holder), holder) from None
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": self.purpose,
                                     "since": time.time()}))
            handle.flush()
            _HELD[self.path] = (handle, 1)
        return self

    def release(self) -> None:
        with _HELD_GUARD:
            if self.path not in _HELD:
                return
            handle, count = _HELD[self.path]
            if count > 1:
                _HELD[self.path] = (handle, count - 1)
                return
            del _HELD[self.path]
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def _message(self, holder: dict[str, Any]) -> str:
        since = float(holder.get("since") or 0)
        who = (
            f"pid {holder.get('pid', '?')} (`{holder.get('command', '?')}`, since {_iso(since)}, {_age(since)} ago)"
            if since else "another process"
        )
        return (
            f"the embedded store in {self.path.parent} is held by {who}; Chroma does not support two processes "
            "writing one embedded store. Wait for it to finish, or stop it; to ingest while the bot serves, let "
            "the bot run the ingest (`gcot slack --ingest DIR --every 1h`), or use a Chroma server (CHROMA_HOST)."
        )

    def __enter__(self) -> EmbeddedLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class ServerLock:
    """The one-ingest-at-a-time lock on a Chroma server, kept as a collection there."""

    def __init__(self, client: Any, name: str, settings: Settings, *, purpose: str | None = None) -> None:
        self._client = client
        self.name = name
        self.stale_s = settings.ingest_lock_stale_s
        self.token = uuid.uuid4().hex
        now = time.time()
        self.holder = {"host": socket.gethostname(), "pid": os.getpid(), "command": purpose or this_command(),
                       "since": now, "heartbeat": now, "token": self.token}

    def acquire(self) -> ServerLock:
        from chromadb.errors import ChromaError

        for _attempt in range(2):
            try:
                self._client.create_collection(self.name, embedding_function=None, metadata=self.holder)
                return self
            except ChromaError as exc:
                if "already exists" not in str(exc):
                    raise
            current = self._current()
            if current is None:
                continue  # released between our create and our read: try again
            if not self._is_stale(current):
                raise StoreLockedError(self._message(current), current)
            self._client.delete_collection(self.name)  # take over a stale lock
        current = self._current() or {}
        raise StoreLockedError(self._message(current), current)

    def _current(self) -> dict[str, Any] | None:
        from chromadb.errors import NotFoundError

        try:
            return dict(self._client.get_collection(self.name, embedding_function=None).metadata or {})
        except NotFoundError:
            return None
        except ValueError:  # older clients raise ValueError for a missing collection
            return None

    def _is_stale(self, holder: dict[str, Any]) -> bool:
        if time.time() - float(holder.get("heartbeat") or holder.get("since") or 0) > self.stale_s:
            return True
        if holder.get("host") == socket.gethostname():
            try:
                os.kill(int(holder.get("pid", 0)), 0)
            except ProcessLookupError:
                return True
            except (PermissionError, ValueError):
                return False
        return False

    def refresh(self) -> None:
        """Move the heartbeat forward (called as the ingest makes progress)."""
        self.holder["heartbeat"] = time.time()
        try:
            self._client.get_collection(self.name, embedding_function=None).modify(metadata=self.holder)
        except Exception:  # a missed heartbeat only makes the lock look older; the ingest goes on
            return

    def release(self) -> None:
        current = self._current()
        if current is not None and current.get("token") == self.token:
            self._client.delete_collection(self.name)

    def _message(self, holder: dict[str, Any]) -> str:
        since = float(holder.get("since") or 0)
        beat = float(holder.get("heartbeat") or since)
        return (
            f"another ingest holds the Chroma server's lock ({self.name}): host {holder.get('host', '?')}, "
            f"pid {holder.get('pid', '?')} (`{holder.get('command', '?')}`), since {_iso(since)} "
            f"({_age(since)} ago, last heartbeat {_age(beat)} ago). One ingest at a time: wait for it to finish. "
            f"A lock whose holder died is taken over after {self.stale_s:.0f} s without a heartbeat "
            "(GCOT_INGEST_LOCK_STALE_S)."
        )

    def __enter__(self) -> ServerLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _parse(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
