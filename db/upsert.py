"""Bulk, idempotent upsert (INSERT … ON CONFLICT DO UPDATE) for SQLite and PostgreSQL.

PostgreSQL: COPY into a temporary table, then one INSERT … SELECT … ON CONFLICT — the only
way to get 10^6 rows in well under 30 s (row-by-row executemany is ~20× slower).
SQLite: executemany of the same upsert statement through the raw DB-API cursor.
Both run inside the caller's transaction, so the caller decides what is written whole.
"""
from __future__ import annotations

import math
import uuid
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Table
from sqlalchemy.engine import Connection

SQLITE_CHUNK = 50_000


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def upsert_frame(
    conn: Connection,
    table: Table,
    frame: pd.DataFrame,
    key: Sequence[str],
    update: Sequence[str] | None = None,
) -> int:
    """Insert rows of `frame` into `table`; rows whose `key` exists get `update` columns replaced.

    Returns the number of rows written. Columns of `frame` that the table lacks are an error,
    so a typo can never silently drop a measure.
    """
    if frame.empty:
        return 0
    # ON CONFLICT cannot touch one row twice in a statement: the last version of a key wins.
    frame = frame.drop_duplicates(subset=list(key), keep="last")
    cols = list(frame.columns)
    unknown = [c for c in cols if c not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no columns {unknown}")
    update = [c for c in (update if update is not None else cols) if c not in key]
    if conn.dialect.name == "postgresql":
        return _upsert_postgres(conn, table, frame, cols, list(key), update)
    return _upsert_generic(conn, table, frame, cols, list(key), update)


def _conflict_clause(key: list[str], update: list[str]) -> str:
    target = ", ".join(_quote(k) for k in key)
    if not update:
        return f"ON CONFLICT ({target}) DO NOTHING"
    sets = ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in update)
    return f"ON CONFLICT ({target}) DO UPDATE SET {sets}"


def _python_rows(frame: pd.DataFrame) -> list[tuple]:
    """Plain Python values (no numpy scalars, NaN → NULL) for DB-API drivers."""
    obj = frame.astype(object).where(frame.notna(), None)
    rows = []
    for row in obj.itertuples(index=False, name=None):
        rows.append(tuple(_plain(v) for v in row))
    return rows


def _plain(v: object) -> object:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v


def _upsert_generic(conn: Connection, table: Table, frame: pd.DataFrame, cols: list[str],
                    key: list[str], update: list[str]) -> int:
    col_sql = ", ".join(_quote(c) for c in cols)
    marks = ", ".join("?" for _ in cols)
    sql = (f"INSERT INTO {_quote(table.name)} ({col_sql}) VALUES ({marks}) "
           f"{_conflict_clause(key, update)}")
    raw = conn.connection.driver_connection
    cur = raw.cursor()
    try:
        for start in range(0, len(frame), SQLITE_CHUNK):
            cur.executemany(sql, _python_rows(frame.iloc[start:start + SQLITE_CHUNK]))
    finally:
        cur.close()
    return len(frame)


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV via Arrow's C++ writer: ~10× faster than DataFrame.to_csv on a million rows."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, write_options=pa_csv.WriteOptions(include_header=False,
                                                                    quoting_style="all_valid"))
    return sink.getvalue().to_pybytes()


def _upsert_postgres(conn: Connection, table: Table, frame: pd.DataFrame, cols: list[str],
                     key: list[str], update: list[str]) -> int:
    tmp = f"tmp_upsert_{uuid.uuid4().hex[:10]}"
    col_sql = ", ".join(_quote(c) for c in cols)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(
            f"CREATE TEMP TABLE {tmp} AS SELECT {col_sql} FROM {_quote(table.name)} WITH NO DATA"
        )
        data = _csv_bytes(frame)
        # Every non-null value is quoted, so an unquoted empty field can only mean NULL.
        with cur.copy(f"COPY {tmp} ({col_sql}) FROM STDIN (FORMAT csv)") as copy:
            step = 8 << 20
            for i in range(0, len(data), step):
                copy.write(data[i:i + step])
        cur.execute(
            f"INSERT INTO {_quote(table.name)} ({col_sql}) SELECT {col_sql} FROM {tmp} "
            f"{_conflict_clause(key, update)}"
        )
        cur.execute(f"DROP TABLE {tmp}")
    return len(frame)
