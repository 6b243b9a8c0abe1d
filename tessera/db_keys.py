"""The largest primary key the database holds.

Every table's key is a signed 64-bit integer on PostgreSQL and SQLite alike. An id taken from a
URL, a query string or a JSON body is checked against this bound before it reaches a query:
SQLite raises OverflowError on a larger Python int rather than finding nothing.
"""

from __future__ import annotations

MAX_ID = 2**63 - 1


def is_key(value: int) -> bool:
    """Whether `value` could be a row's id; anything else matches no row."""
    return 1 <= value <= MAX_ID
