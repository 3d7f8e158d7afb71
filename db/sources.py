"""The source store: configured sources, their encrypted credentials, status, cursor and lock.

Every function takes the caller's Connection and never commits, so a sync can write its facts,
its cursor and its status in one transaction. Pages get `SourceRecord`s, which carry masked
credentials only; the plaintext leaves this module solely through `source_secrets`, for the
connector that needs it.

Status: active → (needs_reauth | error | paused); error → active on the next success;
needs_reauth → active only when new credentials are stored (or a connection test passes);
paused → active when resumed. Sources in `SYNCABLE` are picked up by the hourly cycle: a source
in `error` is retried every hour, one in `needs_reauth` waits for a person.

Locking is a lease on the row (locked_by, locked_until), taken with one conditional UPDATE that
only matches when the lease is free or expired. It behaves the same on SQLite (writers are
serialised) and PostgreSQL (the UPDATE row-locks, and a concurrent UPDATE re-checks the WHERE
after the first commits), needs no Redis, survives a killed worker (the lease expires), and the
owner token doubles as a fencing token: the final write only lands while the lease is still ours.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Connection

from db.models import Source
from db.secrets import SecretsError, decrypt, encrypt, masked

STATUSES = ("active", "needs_reauth", "error", "paused")
SYNCABLE = ("active", "error")
_TRANSITIONS = {
    "active": {"active", "needs_reauth", "error", "paused"},
    "error": {"active", "needs_reauth", "error", "paused"},
    "needs_reauth": {"active", "needs_reauth", "paused"},
    "paused": {"active", "paused"},
}


class SourceNotFound(LookupError):
    pass


class SourceConfigError(ValueError):
    """A create/update the store refuses; the message is written for the person editing sources."""


class LockLost(RuntimeError):
    """Our lease expired and another worker took the source: our window must not be written."""


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands timezone-aware columns back naive; everything stored here is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.timezone.utc)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class SourceRecord:
    """A source as pages and connectors see it: everything but the plaintext credentials."""

    id: int
    kind: str
    name: str
    account_ref: str
    status: str
    settings: dict[str, Any]
    cursor_date: dt.date | None
    last_success_at: dt.datetime | None
    last_error: str | None
    rows_last_sync: int
    locked_by: str | None
    locked_until: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    #: credential name → "••••abcd"; never the value itself.
    credentials_masked: dict[str, str] = field(default_factory=dict)
    #: why the credentials cannot be shown (wrong key), for the page to say so.
    credentials_problem: str | None = None

    def is_syncing(self, now: dt.datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or _now())


def _record(row: Any) -> SourceRecord:
    shown: dict[str, str] = {}
    problem = None
    if row.credentials:
        try:
            shown = {key: masked(value) for key, value in decrypt(row.credentials).items()}
        except SecretsError as exc:
            problem = str(exc)
    return SourceRecord(
        id=row.id, kind=row.kind, name=row.name, account_ref=row.account_ref, status=row.status,
        settings=json.loads(row.settings or "{}"), cursor_date=row.cursor_date,
        last_success_at=_utc(row.last_success_at), last_error=row.last_error, rows_last_sync=row.rows_last_sync,
        locked_by=row.locked_by, locked_until=_utc(row.locked_until), created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at), credentials_masked=shown, credentials_problem=problem)


def _row(conn: Connection, source_id: int) -> Any:
    row = conn.execute(select(Source.__table__).where(Source.id == source_id)).first()
    if row is None:
        raise SourceNotFound(f"no source with id {source_id}")
    return row


def _check_name(conn: Connection, name: str, source_id: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise SourceConfigError("a source needs a name")
    clash = conn.execute(select(Source.id).where(Source.name == name)).scalar()
    if clash is not None and clash != source_id:
        raise SourceConfigError(f"a source named {name!r} already exists")
    return name


def _clean(values: Mapping[str, Any] | None) -> dict[str, str]:
    return {key: str(value) for key, value in (values or {}).items() if value not in (None, "")}


def create_source(conn: Connection, *, kind: str, name: str, account_ref: str = "",
                  credentials: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None) -> int:
    """Add a source; credentials are encrypted before they reach the statement."""
    secret = _clean(credentials)
    now = _now()
    return conn.execute(insert(Source).values(
        kind=kind, name=_check_name(conn, name), account_ref=account_ref.strip(), status="active",
        credentials=encrypt(secret) if secret else None, settings=json.dumps(dict(settings or {}), sort_keys=True),
        rows_last_sync=0, created_at=now, updated_at=now,
    ).returning(Source.id)).scalar_one()


def update_source(conn: Connection, source_id: int, *, name: str | None = None, account_ref: str | None = None,
                  credentials: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None) -> None:
    """Edit a source. Credentials and settings merge key by key: a blank credential keeps the stored
    one (the form shows only masks), a setting set to None is removed. New credentials lift
    `needs_reauth`, since re-entering them is exactly what that status asks for."""
    row = _row(conn, source_id)
    values: dict[str, Any] = {"updated_at": _now()}
    if name is not None:
        values["name"] = _check_name(conn, name, source_id)
    if account_ref is not None:
        values["account_ref"] = account_ref.strip()
    new_secret = _clean(credentials)
    if new_secret:
        stored = decrypt(row.credentials) if row.credentials else {}
        values["credentials"] = encrypt({**stored, **new_secret})
        if row.status == "needs_reauth":
            values.update(status="active", last_error=None)
    if settings is not None:
        merged = {**json.loads(row.settings or "{}"), **settings}
        values["settings"] = json.dumps({k: v for k, v in merged.items() if v is not None}, sort_keys=True)
    conn.execute(update(Source).where(Source.id == source_id).values(**values))


def delete_source(conn: Connection, source_id: int) -> None:
    """Forget the source and its credentials; facts already loaded stay (they are the history)."""
    if conn.execute(delete(Source).where(Source.id == source_id)).rowcount == 0:
        raise SourceNotFound(f"no source with id {source_id}")


def get_source(conn: Connection, source_id: int) -> SourceRecord:
    return _record(_row(conn, source_id))


def list_sources(conn: Connection) -> list[SourceRecord]:
    rows = conn.execute(select(Source.__table__).order_by(Source.kind, Source.name)).all()
    return [_record(row) for row in rows]


def syncable_ids(conn: Connection, kinds: set[str] | None = None) -> list[int]:
    query = select(Source.id, Source.kind).where(Source.status.in_(SYNCABLE)).order_by(Source.id)
    return [sid for sid, kind in conn.execute(query).all() if kinds is None or kind in kinds]


def source_secrets(conn: Connection, source_id: int) -> dict[str, str]:
    """The decrypted credentials, for a connector; never put them in a page or a log."""
    raw = _row(conn, source_id).credentials
    return decrypt(raw) if raw else {}


def store_secrets(conn: Connection, source_id: int, values: Mapping[str, Any]) -> None:
    """Replace credentials wholesale (a connector refreshed its tokens)."""
    conn.execute(update(Source).where(Source.id == source_id).values(
        credentials=encrypt(_clean(values)), updated_at=_now()))


def set_status(conn: Connection, source_id: int, status: str, message: str | None = None) -> None:
    """Move a source along the status graph (see the module docstring); `message` becomes last_error."""
    if status not in STATUSES:
        raise SourceConfigError(f"unknown status {status!r}")
    current = _row(conn, source_id).status
    if status not in _TRANSITIONS[current]:
        raise SourceConfigError(f"a source in status {current!r} cannot become {status!r}")
    values: dict[str, Any] = {"status": status, "updated_at": _now()}
    if message is not None or status == "active":
        values["last_error"] = message
    conn.execute(update(Source).where(Source.id == source_id).values(**values))


def record_success(conn: Connection, source_id: int, *, cursor_date: dt.date, rows: int,
                   owner: str | None = None, at: dt.datetime | None = None) -> None:
    """Advance the cursor and mark the source healthy; with `owner`, only while we hold the lease."""
    query = update(Source).where(Source.id == source_id)
    if owner is not None:
        query = query.where(Source.locked_by == owner)
    at = at or _now()
    done = conn.execute(query.values(cursor_date=cursor_date, rows_last_sync=rows, last_success_at=at,
                                     last_error=None, status="active", updated_at=at))
    if done.rowcount == 0:
        raise LockLost(f"source {source_id}: the sync lease was lost before the write; nothing was written")


def acquire_lock(conn: Connection, source_id: int, owner: str, *, ttl: dt.timedelta,
                 now: dt.datetime | None = None) -> bool:
    """Take the lease if it is free or expired; True when `owner` now holds it.

    Commit right after (its own short transaction), so other workers see the lease at once.
    """
    now = now or _now()
    done = conn.execute(update(Source).where(
        Source.id == source_id, or_(Source.locked_until.is_(None), Source.locked_until <= now),
    ).values(locked_by=owner, locked_until=now + ttl))
    return done.rowcount == 1


def release_lock(conn: Connection, source_id: int, owner: str) -> None:
    """Give the lease back; a no-op when it already expired and someone else holds it."""
    conn.execute(update(Source).where(Source.id == source_id, Source.locked_by == owner)
                 .values(locked_by=None, locked_until=None))
