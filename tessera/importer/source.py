"""The osTicket database, read-only.

Every read happens inside one read-only transaction (so the source cannot be written by
mistake, and every phase sees the same snapshot), in batches ordered by primary key: a table of
any size is streamed, never held in memory whole.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

import pymysql  # type: ignore[import-untyped]
import pymysql.cursors  # type: ignore[import-untyped]

BATCH_SIZE = 500
Row = dict[str, Any]


class SourceError(Exception):
    """The source cannot be read as an osTicket database (bad URL, no such table)."""


@dataclass(frozen=True)
class SourceUrl:
    host: str
    port: int
    user: str
    password: str
    database: str

    @classmethod
    def parse(cls, url: str) -> SourceUrl:
        parts = urlparse(url)
        if parts.scheme not in {"mysql", "mariadb"} or not parts.path.strip("/"):
            raise SourceError("The source must look like mysql://user:password@host:3306/database")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            database=unquote(parts.path.strip("/")),
        )


_NAME = re.compile(r"^[A-Za-z0-9_]*$")


class Source:
    """A read-only connection to one osTicket database with its table prefix."""

    def __init__(
        self, url: str, prefix: str = "ost_", time_zone: str | None = None, batch_size: int = BATCH_SIZE
    ) -> None:
        self.batch_size = max(int(batch_size), 1)
        if not _NAME.match(prefix):
            raise SourceError("The table prefix may hold only letters, digits and underscores.")
        self.prefix = prefix
        target = SourceUrl.parse(url)
        try:
            self.conn = pymysql.connect(
                host=target.host,
                port=target.port,
                user=target.user,
                password=target.password,
                database=target.database,
                charset="utf8mb4",
                cursorclass=pymysql.cursors.DictCursor,
                autocommit=False,
            )
        except pymysql.MySQLError as exc:
            raise SourceError(f"Cannot connect to the source: {exc}") from exc
        with self.conn.cursor() as cursor:
            # Dates arrive as the server stores them; we convert them ourselves (see zone).
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            cursor.execute("START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT")
        self._tables = {row["t"] for row in self.all("SHOW TABLES", key="t")}
        if not self.has("ticket"):
            raise SourceError(f"No {prefix}ticket table: is this an osTicket database, and is the prefix right?")
        self.zone = zoneinfo.ZoneInfo(time_zone or self._zone_name())

    def close(self) -> None:
        try:
            self.conn.rollback()
        finally:
            self.conn.close()

    def t(self, name: str) -> str:
        """The quoted, prefixed name of an osTicket table."""
        return f"`{self.prefix}{name}`"

    def has(self, name: str) -> bool:
        return f"{self.prefix}{name}" in self._tables

    def all(self, sql: str, params: Sequence[Any] = (), key: str | None = None) -> list[Row]:
        """A small result (a configuration table, one batch's related rows)."""
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
            rows = list(cursor.fetchall())
        if key:  # SHOW TABLES names its column after the database
            return [{key: next(iter(row.values()))} for row in rows]
        return rows

    def count(self, table: str, where: str = "1=1", params: Sequence[Any] = ()) -> int:
        if not self.has(table):
            return 0
        rows = self.all(f"SELECT COUNT(*) AS n FROM {self.t(table)} WHERE {where}", params)  # noqa: S608  names are ours
        return int(rows[0]["n"])

    def batches(
        self,
        table: str,
        pk: str,
        *,
        columns: str = "*",
        where: str = "1=1",
        params: Sequence[Any] = (),
        size: int | None = None,
    ) -> Iterator[list[Row]]:
        """The rows of `table` in primary-key order, `size` at a time (keyset pagination)."""
        if not self.has(table):
            return
        last: Any = None
        while True:
            keyset = "" if last is None else f" AND `{pk}` > %s"
            sql = (
                f"SELECT {columns} FROM {self.t(table)} WHERE ({where}){keyset} "  # noqa: S608  names are ours
                f"ORDER BY `{pk}` LIMIT {int(size or self.batch_size)}"
            )
            rows = self.all(sql, [*params, *([] if last is None else [last])])
            if not rows:
                return
            yield rows
            last = rows[-1][pk]

    def config(self) -> dict[tuple[str, str], str]:
        if not self.has("config"):
            return {}
        rows = self.all(f"SELECT namespace, `key`, value FROM {self.t('config')}")  # noqa: S608
        return {(row["namespace"], row["key"]): row["value"] or "" for row in rows}

    def _zone_name(self) -> str:
        """The zone osTicket wrote its dates in: its `db_timezone` setting, else the server's
        session zone (what osTicket itself falls back to), else UTC."""
        config = self.config()
        for key in ("db_timezone",):
            name = config.get(("core", key), "")
            if _valid_zone(name):
                return name
        row = self.all("SELECT @@session.time_zone AS tz, @@system_time_zone AS sys")[0]
        for name in (row["tz"], row["sys"]):
            if name and name != "SYSTEM" and _valid_zone(str(name)):
                return str(name)
            if name and re.match(r"^[+-]00:00$", str(name)):
                return "UTC"
        return "UTC"

    def when(self, value: Any) -> dt.datetime | None:
        """A source DATETIME as an aware UTC datetime; zero and invalid dates are None."""
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=self.zone).astimezone(dt.UTC)
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day, tzinfo=self.zone).astimezone(dt.UTC)
        return None  # '0000-00-00 00:00:00' arrives as a string


def _valid_zone(name: str) -> bool:
    if not name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True
