"""The bench loader empties tables by names read from PostgreSQL's catalogue: a name with a quote
or a semicolon in it is one identifier, never SQL."""

from __future__ import annotations

import pytest

from django.db import connection

from bench import pgschema

pytestmark = pytest.mark.django_db


@pytest.fixture
def hostile_tables():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: the loader's COPY … FREEZE path")
    parent, child = 'bench "parent"; DROP TABLE x; --', "bench child"  # the child references the parent
    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE "bench ""parent""; DROP TABLE x; --" (id int PRIMARY KEY)')
        cursor.execute('CREATE TABLE "bench child" (id int, p int REFERENCES "bench ""parent""; DROP TABLE x; --")')
    return parent, child


def test_empty_tables_with_hostile_names_are_truncated_as_names(hostile_tables):
    parent, _child = hostile_tables
    with connection.cursor() as cursor:
        assert pgschema.truncate_if_empty(cursor, [parent]) is True


def test_a_table_with_a_row_is_left_alone(hostile_tables):
    parent, _child = hostile_tables
    with connection.cursor() as cursor:
        cursor.execute('INSERT INTO "bench ""parent""; DROP TABLE x; --" VALUES (1)')
        cursor.execute('INSERT INTO "bench child" VALUES (1, 1)')
        assert pgschema.truncate_if_empty(cursor, [parent]) is False
        cursor.execute('SELECT count(*) FROM "bench child"')
        assert cursor.fetchone()[0] == 1
