"""Redis and RQ plumbing, with an honest in-process fallback when Redis is not there."""
from __future__ import annotations

import logging

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from db.config import get_settings

log = logging.getLogger("demetra.jobs")
QUEUE_NAME = "demetra"


def redis_connection(url: str | None = None, timeout: float = 1.0) -> Redis | None:
    """A live Redis connection, or None when it does not answer within `timeout` seconds."""
    settings = get_settings()
    if settings.queue_mode == "inline" and url is None:
        return None
    conn = Redis.from_url(url or settings.redis_url, socket_connect_timeout=timeout, socket_timeout=5)
    try:
        conn.ping()
    except (RedisError, OSError) as exc:
        if settings.queue_mode == "redis":
            raise
        log.warning("Redis at %s is not reachable (%s): jobs will run in-process", settings.redis_url, exc)
        return None
    return conn


def get_queue(conn: Redis) -> Queue:
    return Queue(QUEUE_NAME, connection=conn, default_timeout=1800)
