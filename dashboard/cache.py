"""flask-caching, keyed on the data version so new data is never hidden behind a cached figure.

Redis backend when Redis answers (shared by all gunicorn workers), in-process otherwise.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, has_app_context
from flask_caching import Cache

from db.config import get_settings
from db.queries import data_version

log = logging.getLogger("demetra.web")
cache = Cache()
F = TypeVar("F", bound=Callable[..., Any])


def init_cache(server: Flask) -> None:
    from jobs.queue import redis_connection

    settings = get_settings()
    if settings.cache_type == "off":
        config = {"CACHE_TYPE": "NullCache"}
    elif settings.cache_type == "simple":
        config = {"CACHE_TYPE": "SimpleCache"}
    elif redis_connection() is not None:
        config = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": settings.redis_url,
                  "CACHE_KEY_PREFIX": "demetra:cache:"}
    else:
        log.warning("cache: Redis not reachable, using an in-process cache")
        config = {"CACHE_TYPE": "SimpleCache"}
    config["CACHE_DEFAULT_TIMEOUT"] = settings.cache_timeout
    cache.init_app(server, config=config)


def cached(fn: F) -> F:
    """Memoize a pure query function on its arguments plus the current data version."""

    def versioned(version: str, *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    # flask-caching namespaces keys by module + qualname: make it the wrapped function's.
    versioned.__module__, versioned.__qualname__ = fn.__module__, fn.__qualname__
    versioned = cache.memoize()(versioned)

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # Outside an app context (scripts, benches, tests calling dashboard.data directly) there
        # is no cache to consult. Checked, not caught: flask-caching raises AttributeError, not
        # RuntimeError, before any app is set up, and falls back to the last app set up after.
        if not has_app_context():
            return fn(*args, **kwargs)
        try:
            version = data_version()
        except Exception:  # database away: let the call itself raise a readable error
            return fn(*args, **kwargs)
        return versioned(version, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
