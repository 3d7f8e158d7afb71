"""Getting a source's data into the store — and the API the "Data sources" page is built on.

One sync of one source: take the source's lease (db.sources) → ask the platform for the account
(time zone, currency) → window = [cursor − look-back, today in the account's time zone] (first
sync: the last `history_days`, default 90) → fetch the whole window into memory → ONE
unit_of_work replaces the window's facts (delete, then db.ingest upserts: re-syncing is
idempotent and rows a platform stopped reporting disappear), moves the cursor and sets the
status → release the lease. Anything failing before that transaction commits leaves the
facts and the cursor exactly as they were. An AuthError marks the source `needs_reauth` (a
person must act); any other failure marks it `error` and the next cycle retries it.

Look-back: every sync re-reads `lookback_days` behind the cursor (connector default: Meta 28 for
its attribution window, 14 elsewhere; per source in settings), because platforms restate recent
days as late conversions arrive.

Page API (all usable from Dash callbacks; none needs a Connection):
`list_sources()` / `create_source()`… live in db.sources; here: `test_connection(source_id)`,
`test_credentials(...)`, `sync_now(source_id)` → RQ job id, `job_progress(job_id)`,
`preview_upload(...)`, `preview_telegram_export(...)`, `commit_upload(result)`.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from rq import get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from db.config import get_settings
from db.ingest import (
    IngestError, bump_data_version, clear_window, ingest_ad_daily, ingest_audience, ingest_hourly, ingest_posts, refresh_rollups,
)
from db.session import get_engine, unit_of_work
from db.sources import (
    SYNCABLE, SourceConfigError, SourceRecord, acquire_lock, get_source, record_success, release_lock,
    set_status, source_secrets, store_secrets, syncable_ids,
)
from jobs.queue import get_queue, redis_connection
from jobs.runs import tracked
from db.secrets import redact
from jobs.sources import telegram
from jobs.sources.base import AccountInfo, ClientOptions, Connector, FetchResult, Progress, Row, no_progress
from jobs.sources.parsing import AuthError, PayloadError, SourceError
from jobs.sources.registry import CONNECTORS, connector_class, connector_for
from jobs.sources.upload import UploadResult, parse_upload

log = logging.getLogger("demetra.sync")

#: How long a sync may hold a source; equal to the RQ job timeout (jobs.queue), so a lease never
#: outlives the job that took it. A sync running longer loses the lease and writes nothing.
LEASE = dt.timedelta(minutes=30)
DEFAULT_HISTORY_DAYS = 90
#: Measures that add up when hours are summed into a day (reach does not).
_ADDITIVE = ("spend", "impressions", "clicks", "leads", "conversions", "revenue", "engagements", "video_views")


class SourceSyncFailed(RuntimeError):
    """Raised inside `tracked` so the sync_run row says 'failed' with the reason."""


class UploadRefused(ValueError):
    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class SyncOutcome:
    source_id: int
    name: str
    status: str  # ok | needs_reauth | error | skipped | locked
    rows: int = 0
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.status in ("needs_reauth", "error")

    def as_dict(self) -> dict[str, Any]:
        return {key: value.isoformat() if isinstance(value, dt.date) else value
                for key, value in asdict(self).items()}


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str
    account: AccountInfo | None = None
    needs_reauth: bool = False


# ---------------------------------------------------------------------------------------------
# Window and write

def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SourceConfigError(f"unknown time zone {name!r}: set the source's timezone setting") from None


def sync_window(source: SourceRecord, connector: type[Connector], timezone: str,
                now: dt.datetime) -> tuple[dt.date, dt.date]:
    """[cursor − look-back, today in the account's zone]; the first sync reaches back history_days."""
    today = now.astimezone(_zone(timezone)).date()
    if source.cursor_date is None:
        start = today - dt.timedelta(days=int(source.settings.get("history_days", DEFAULT_HISTORY_DAYS)) - 1)
    else:
        lookback = int(source.settings.get("lookback_days", connector.default_lookback_days))
        start = source.cursor_date - dt.timedelta(days=lookback)
    return min(start, today), today


def _frame(rows: list[Row], account: AccountInfo | None) -> pd.DataFrame:
    """Unified rows → the frame db.ingest expects: parsers say `age`, the schema says `age_band`;
    the account's currency, time zone and name fill what the rows leave out."""
    frame = pd.DataFrame(rows).rename(columns={"age": "age_band"})
    if frame.empty or account is None:
        return frame
    if "currency" not in frame:
        frame["currency"] = None
    frame["currency"] = frame["currency"].fillna(account.currency) if account.currency else frame["currency"]
    if frame["currency"].isna().any():
        raise IngestError("the platform did not report the account currency: set it in the source's settings")
    frame["timezone"] = account.timezone or "UTC"
    if "account_name" not in frame:
        frame["account_name"] = account.name
    return frame


@dataclass(frozen=True)
class Window:
    """The slice of the store an API fetch replaces: these channels' accounts, these dates."""

    channels: tuple[str, ...]
    account_ids: frozenset[str]
    date_from: dt.date
    date_to: dt.date


def write_window(conn: Connection, result: FetchResult, account: AccountInfo | None, reporting_currency: str,
                 replace: Window | None = None) -> int:
    """Every fact of a fetched window on the caller's transaction; returns the ad-day rows written.

    With `replace`, the window's old facts go first (see `db.ingest.clear_window`) and the rollup is rebuilt for
    every account that had them. Daily facts are written before hourly and audience facts, which
    refer to the campaigns the daily rows create.
    """
    cleared = (clear_window(conn, replace.channels, replace.account_ids, replace.date_from, replace.date_to)
               if replace is not None else [])
    written = ingest_ad_daily(conn, _frame(result.daily, account), reporting_currency)
    ingest_hourly(conn, _frame(result.hourly, account), reporting_currency)
    ingest_audience(conn, _frame(result.audience, account), reporting_currency)
    if result.posts:
        ingest_posts(conn, pd.DataFrame(result.posts))
    if cleared:
        refresh_rollups(conn, replace.date_from, replace.date_to, cleared)
        bump_data_version(conn)  # even a window that came back empty changed what pages show
    return written


# ---------------------------------------------------------------------------------------------
# Syncing

def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def sync_source(source_id: int, *, now: dt.datetime | None = None, engine: Engine | None = None,
                options: ClientOptions | None = None, progress: Progress = no_progress,
                reporting_currency: str | None = None, lease: dt.timedelta = LEASE) -> SyncOutcome:
    """Sync one API source (see the module docstring); failures come back as the outcome."""
    engine = engine or get_engine()
    now = now or dt.datetime.now(dt.timezone.utc)
    owner = _owner()
    with unit_of_work(engine) as conn:
        locked = acquire_lock(conn, source_id, owner, ttl=lease)  # the lease runs on wall-clock time
        source = get_source(conn, source_id)  # read under the lease: the cursor the last holder left
    if not locked:
        return SyncOutcome(source.id, source.name, "locked", message="another worker is syncing this source")
    try:
        if source.status not in SYNCABLE:
            return SyncOutcome(source.id, source.name, "skipped", message=f"source is {source.status}")
        if source.kind not in CONNECTORS:
            return SyncOutcome(source.id, source.name, "skipped", message=f"{source.kind} has no API to sync")
        return _sync_leased(source, owner, now, engine, options, progress,
                            reporting_currency or get_settings().reporting_currency)
    finally:
        with unit_of_work(engine) as conn:
            release_lock(conn, source_id, owner)


def _sync_leased(source: SourceRecord, owner: str, now: dt.datetime, engine: Engine, options: ClientOptions | None,
                 progress: Progress, reporting_currency: str) -> SyncOutcome:
    connector: Connector | None = None
    try:
        with unit_of_work(engine) as conn:
            secrets = source_secrets(conn, source.id)
        connector = connector_for(source, secrets, options)
        try:
            account = connector.account()
            date_from, date_to = sync_window(source, type(connector), account.timezone or "UTC", now)
            progress(0.05, f"fetching {date_from} … {date_to}")
            result = connector.fetch(date_from, date_to,
                                     lambda fraction, message: progress(0.05 + 0.8 * fraction, message))
        finally:
            connector.close()
        progress(0.9, "writing")
        with unit_of_work(engine) as conn:
            ids = {str(row["account_id"]) for row in result.daily} | {account.account_id}
            window = Window(connector.channels, frozenset(ids), date_from, date_to)
            rows = write_window(conn, result, account, reporting_currency, replace=window)
            if connector.secrets_changed:
                store_secrets(conn, source.id, connector.secrets)
            record_success(conn, source.id, cursor_date=date_to, rows=rows, owner=owner, at=now)
    except AuthError as exc:
        return _failed(engine, source, connector, "needs_reauth", f"Needs re-authorisation: {exc}")
    except (SourceError, IngestError, SourceConfigError) as exc:
        return _failed(engine, source, connector, "error", str(exc))
    except Exception as exc:  # a bug or an outage: keep the traceback, still isolate the source
        log.exception("source %s: unexpected failure", source.name)
        return _failed(engine, source, connector, "error", f"{type(exc).__name__}: {exc}")
    message = f"{rows} rows for {date_from} … {date_to}"
    progress(1.0, message)
    log.info("source %s synced: %s", source.name, message)
    return SyncOutcome(source.id, source.name, "ok", rows, date_from, date_to, message)


def _failed(engine: Engine, source: SourceRecord, connector: Connector | None, status: str,
            message: str) -> SyncOutcome:
    """Record the failure in its own transaction (the window's was rolled back) and report it.

    Tokens a connector refreshed before failing are still stored: VK allows only five live tokens
    per client, so forgetting a fresh one would eventually lock the account out.
    """
    message = redact(message)[:2000]
    with unit_of_work(engine) as conn:
        if get_source(conn, source.id).status in SYNCABLE:  # not paused meanwhile
            set_status(conn, source.id, status, message)
        if connector is not None and connector.secrets_changed:
            store_secrets(conn, source.id, connector.secrets)
    log.warning("source %s: %s — %s", source.name, status, message)
    return SyncOutcome(source.id, source.name, status, message=message)


def sync_all(now: dt.datetime | None = None, *, cycle_id: str | None = None, attempt: int | None = None,
             engine: Engine | None = None, options: ClientOptions | None = None) -> list[SyncOutcome]:
    """Every active (or last-failed) API source, each with its own lease, transaction and sync_run row;
    one source failing never stops the next."""
    engine = engine or get_engine()
    cycle_id = cycle_id or "manual-" + dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    with unit_of_work(engine) as conn:
        sources = [get_source(conn, sid) for sid in syncable_ids(conn, kinds=set(CONNECTORS))]
    outcomes: list[SyncOutcome] = []
    for source in sources:
        try:
            with tracked("sync", cycle_id, source=source.name, attempt=attempt) as run:
                outcome = sync_source(source.id, now=now, engine=engine, options=options)
                run.rows = outcome.rows
                outcomes.append(outcome)
                if outcome.failed:
                    raise SourceSyncFailed(outcome.message)
        except SourceSyncFailed:
            continue
        except Exception as exc:  # recorded by `tracked`; the other sources still run
            outcomes.append(SyncOutcome(source.id, source.name, "error", message=redact(str(exc))))
    return outcomes


# ---------------------------------------------------------------------------------------------
# Page actions: sync now (on RQ), connection tests

def run_sync_job(source_id: int) -> dict[str, Any]:
    """The RQ job behind `sync_now`: progress goes to job.meta (`progress` 0..1, `message`)."""
    job = get_current_job()

    def progress(fraction: float, message: str) -> None:
        if job is not None:
            job.meta.update(progress=round(fraction, 3), message=message)
            job.save_meta()

    with unit_of_work() as conn:
        name = get_source(conn, source_id).name
    cycle_id = "manual-" + dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    with tracked("sync", cycle_id, source=name) as run:
        outcome = sync_source(source_id, progress=progress)
        run.rows = outcome.rows
        progress(1.0, outcome.message)
        if outcome.failed:
            raise SourceSyncFailed(outcome.message)
    return outcome.as_dict()


def sync_now(source_id: int) -> str | None:
    """Queue a sync of one source; returns the RQ job id to poll with `job_progress`.

    Without Redis the sync runs here and now and None is returned: the source row then already
    holds the result (status, last_error, rows_last_sync).
    """
    redis = redis_connection()
    if redis is None:
        try:
            run_sync_job(source_id)
        except SourceSyncFailed:
            pass  # recorded on the source and in sync_run
        return None
    job = get_queue(redis).enqueue(
        run_sync_job, source_id, job_id=f"sync-{source_id}-{uuid.uuid4().hex[:8]}",
        description=f"sync source {source_id}", meta={"progress": 0.0, "message": "queued"},
        job_timeout=int(LEASE.total_seconds()), result_ttl=86400, failure_ttl=86400)
    return job.id


def job_progress(job_id: str) -> dict[str, Any]:
    """{"status": queued|started|finished|failed|unknown, "progress": 0..1, "message": str} for polling."""
    redis = redis_connection()
    if redis is None:
        return {"status": "unknown", "progress": 0.0, "message": "the queue is not reachable"}
    try:
        job = Job.fetch(job_id, connection=redis)
    except NoSuchJobError:
        return {"status": "unknown", "progress": 0.0, "message": "no such job (expired?)"}
    status = job.get_status()
    return {"status": str(getattr(status, "value", status)), "progress": float(job.meta.get("progress", 0.0)),
            "message": str(job.meta.get("message", ""))}


def _probe(connector: Connector) -> ConnectionCheck:
    try:
        info = connector.test_connection()
    except AuthError as exc:
        return ConnectionCheck(False, redact(f"Needs re-authorisation: {exc}"), needs_reauth=True)
    except SourceError as exc:
        return ConnectionCheck(False, redact(str(exc)))
    finally:
        connector.close()
    return ConnectionCheck(True, f"Connected to {info.name or info.account_id} "
                                 f"({info.currency or 'currency ?'}, {info.timezone or 'time zone ?'})", info)


class _Draft:
    """An unsaved source from the "add source" form, shaped like a SourceRecord for a connector."""

    def __init__(self, kind: str, account_ref: str, settings: Mapping[str, Any]) -> None:
        self.kind, self.account_ref, self.settings = kind, account_ref, dict(settings)


def test_credentials(kind: str, account_ref: str, credentials: Mapping[str, str],
                     settings: Mapping[str, Any] | None = None,
                     options: ClientOptions | None = None) -> ConnectionCheck:
    """Try credentials before they are saved (the form's "Test" button)."""
    try:
        connector = connector_class(kind).from_source(_Draft(kind, account_ref, settings or {}), credentials, options)
    except (AuthError, ValueError) as exc:
        return ConnectionCheck(False, str(exc), needs_reauth=isinstance(exc, AuthError))
    return _probe(connector)


def test_connection(source_id: int, *, engine: Engine | None = None,
                    options: ClientOptions | None = None) -> ConnectionCheck:
    """Try a stored source's credentials; a pass lifts `needs_reauth` (they evidently work now)."""
    engine = engine or get_engine()
    with unit_of_work(engine) as conn:
        source = get_source(conn, source_id)
        secrets = source_secrets(conn, source_id)
    try:
        connector = connector_for(source, secrets, options)
    except (AuthError, ValueError) as exc:
        return ConnectionCheck(False, str(exc), needs_reauth=isinstance(exc, AuthError))
    check = _probe(connector)
    with unit_of_work(engine) as conn:
        if check.ok and source.status == "needs_reauth":
            set_status(conn, source_id, "active")
        if connector.secrets_changed:
            store_secrets(conn, source_id, connector.secrets)
    return check


# ---------------------------------------------------------------------------------------------
# Uploads: preview (parsed rows + problems), then commit whole or not at all

def _unstorable(rows: list[Row]) -> list[str]:
    """Rows that parse but cannot be stored: the facts need an account, a campaign and a currency."""
    problems = []
    for key, what in (("account_id", "account"), ("campaign_id", "campaign"), ("currency", "currency")):
        missing = sum(1 for row in rows if not row.get(key))
        if missing:
            problems.append(f"{missing} rows have no {what}: add a column or choose one for the whole file")
    return problems


def preview_upload(data: bytes, filename: str, *, defaults: Mapping[str, Any] | None = None) -> UploadResult:
    """A CSV/XLSX file → rows + every problem found; nothing is written."""
    result = parse_upload(data, filename, defaults=defaults)
    result.problems.extend(_unstorable(result.rows))
    return result


def preview_telegram_export(stats: bytes, budget: bytes | None = None, *, account_id: str, campaign_id: str,
                            ad_id: str | None = None, currency: str | None = None) -> UploadResult:
    """The statistics (and budget) exports of one Telegram ad → rows + problems; nothing is written."""
    texts = [part.decode("utf-8-sig") for part in (stats, budget) if part]
    try:
        rows = telegram.parse(texts, account_id=account_id, campaign_id=campaign_id, ad_id=ad_id)
    except (PayloadError, UnicodeDecodeError) as exc:
        return UploadResult(problems=[f"not a Telegram Ads export: {exc}"])
    for row in rows:
        row["currency"] = row["currency"] or currency
    return UploadResult(rows=rows, problems=_unstorable(rows))


def _days(rows: list[Row]) -> list[Row]:
    """Hourly rows summed into their day (ad facts are daily); daily rows pass through."""
    days: dict[tuple, Row] = {}
    out: list[Row] = []
    for row in rows:
        if row.get("hour") is None:
            out.append(row)
            continue
        key = tuple(sorted((k, v) for k, v in row.items() if k not in _ADDITIVE and k not in ("hour", "reach")))
        day = days.get(key)
        if day is None:
            day = days[key] = {k: v for k, v in row.items() if k != "hour"} | {"reach": None}
            out.append(day)
        else:
            for measure in _ADDITIVE:
                if measure in row:
                    day[measure] = (day.get(measure) or 0) + (row[measure] or 0)
    return out


def commit_upload(result: UploadResult, *, engine: Engine | None = None, source_id: int | None = None,
                  reporting_currency: str | None = None) -> int:
    """Write a previewed upload in one transaction; refused whole when it has any problem."""
    if result.problems:
        raise UploadRefused(result.problems)
    if not result.rows:
        raise UploadRefused(["the file has no rows to import"])
    hourly = [row for row in result.rows if row.get("hour") is not None]
    with unit_of_work(engine or get_engine()) as conn:
        written = write_window(conn, FetchResult(daily=_days(result.rows), hourly=hourly), None,
                               reporting_currency or get_settings().reporting_currency)
        if source_id is not None:
            last = max(dt.date.fromisoformat(str(row["date"])[:10]) for row in result.rows)
            record_success(conn, source_id, cursor_date=last, rows=written)
    return written
