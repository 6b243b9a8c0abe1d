"""Compiled single-row INSERTs (tessera/compiled_insert.py): a User, Ticket, ThreadEntry or Event
saved through the reused statement is stored exactly as Django's own path stores it, and every
case the statement cannot serve still goes through Django. Run on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from django.core import serializers
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Value
from django.db.models.functions import Now
from django.db.models.signals import post_save, pre_save
from django.db.models.sql.compiler import SQLInsertCompiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tessera import compiled_insert
from tessera.accounts.models import User
from tessera.compiled_insert import CompiledInsert
from tessera.satisfaction.models import Survey
from tessera.tickets.models import Event, EventKind, State, ThreadEntry, Ticket

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
WHEN = dt.datetime(2026, 3, 29, 2, 30, 15, 123456, tzinfo=dt.UTC).astimezone(BERLIN)  # the DST switch night
UNICODE = "Ünïcødé Grüße – 😀 中文 עברית e\u0301 "
LONG_TEXT = (UNICODE + "line\n\ttabbed 'quoted' \"double\" %s %(x)s \\ back;\n") * 4000  # ~250k characters
NUMBER = 900_000_000


@pytest.fixture
def fresh_shapes(desk_ticket: Any, monkeypatch: pytest.MonkeyPatch) -> dict[Any, Any]:
    """An empty statement cache once the desk's own rows are saved: the test's first save of
    each shape compiles it."""
    shapes: dict[Any, Any] = {}
    monkeypatch.setattr(compiled_insert, "_shapes", shapes)
    return shapes


@pytest.fixture
def django_compiles(desk_ticket: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, bool]]:
    """Every compile of an INSERT by Django's SQLInsertCompiler once the desk is saved, as
    (model, raw)."""
    calls: list[tuple[Any, bool]] = []
    real = SQLInsertCompiler.as_sql

    def spy(self: SQLInsertCompiler) -> Any:
        calls.append((self.query.model, self.query.raw))
        return real(self)

    monkeypatch.setattr(SQLInsertCompiler, "as_sql", spy)
    return calls


@contextlib.contextmanager
def plain_django_path() -> Iterator[None]:
    """The four models save through Django's own _do_insert, as they did before the mixin."""
    with pytest.MonkeyPatch.context() as patcher:
        patcher.setattr(CompiledInsert, "_do_insert", models.Model.__dict__["_do_insert"])
        yield


def stored(model: type[models.Model], pk: int) -> dict[str, Any]:
    """The row as the database holds it (no ORM converters between)."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])  # noqa: S608 - a model's own table
        names = [column[0] for column in cursor.description]
        row = cursor.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


# One unsaved object per model; `n` makes its unique column unique. Every value is explicit except
# the defaults the test means to exercise.


def new_user(desk: Any, n: int) -> User:
    return User(
        email=f"Twin{n}@Example.com",  # User.save lower-cases it
        name=UNICODE.strip(),
        password="md5$fixed$0123456789abcdef",
        organization=None,
        phone="",
        date_joined=WHEN,
    )


def new_ticket(desk: Any, n: int) -> Ticket:
    return Ticket(
        number=NUMBER + n,
        subject=(UNICODE * 20)[:255],
        user=desk.ken,
        department=desk.support,
        topic=None,
        priority=desk.sev_b,
        status=desk.open,
        assignee=desk.john,
        team=None,
        created_at=WHEN,
        updated_at=WHEN + dt.timedelta(microseconds=1),
        due_at=None,
        first_response_due_at=WHEN + dt.timedelta(days=3),
    )


def new_entry(desk: Any, n: int) -> ThreadEntry:
    return ThreadEntry(
        ticket=desk.ticket,
        kind="message",
        author=None,
        author_name="",
        body_html=f"<p>{LONG_TEXT}</p>",
        body_text=LONG_TEXT,
        created_at=WHEN,
    )


def new_event(desk: Any, n: int) -> Event:
    return Event(
        ticket=desk.ticket,
        kind=EventKind.CREATED,
        actor=desk.ken,
        actor_name=UNICODE,
        before="",
        after=(UNICODE * 20)[:255],
        data={"via": "api", "ünï": "😀", "list": [1, 2.5, None, True, "x"], "nested": {"empty": [], "null": None}},
        created_at=WHEN,
    )


BUILDERS = {  # model name: (builder, its unique column)
    "User": (new_user, "email"),
    "Ticket": (new_ticket, "number"),
    "ThreadEntry": (new_entry, None),
    "Event": (new_event, None),
}


def required(desk: Any) -> dict[str, Any]:
    """A ticket's required foreign keys."""
    return {"user": desk.ken, "department": desk.support, "priority": desk.sev_c, "status": desk.open}


@pytest.fixture
def desk_ticket(desk: Any) -> Any:
    """The desk, with a ticket for entries and events."""
    desk.ticket = Ticket.objects.create(number=NUMBER - 1, subject="Parent", **required(desk))
    return desk


@pytest.mark.parametrize("name", BUILDERS)
def test_a_row_saved_through_the_compiled_statement_equals_the_row_djangos_own_path_stores(
    name, desk_ticket, fresh_shapes, django_compiles
):
    build, unique = BUILDERS[name]
    first = build(desk_ticket, 1)
    first.save()  # compiles the shape
    second = build(desk_ticket, 2)
    second.save()  # reuses it
    model = type(first)
    assert [call for call in django_compiles if call[0] is model] == [(model, True)]  # only the one check
    assert isinstance(fresh_shapes[next(key for key in fresh_shapes if key[0] is model)], compiled_insert._Shape)

    with plain_django_path():
        plain = build(desk_ticket, 3)
        plain.save()
    assert [call for call in django_compiles if call[0] is model][-1] == (model, False)

    skip = {"id", unique}
    rows = [{k: v for k, v in stored(model, obj.pk).items() if k not in skip} for obj in (first, second, plain)]
    assert rows[0] == rows[2]
    assert rows[1] == rows[2]
    for obj in (first, second, plain):
        loaded = model.objects.get(pk=obj.pk)
        for field in model._meta.concrete_fields:
            assert getattr(loaded, field.attname) == getattr(obj, field.attname), field.name
    if unique == "email":
        assert (first.email, second.email) == ("twin1@example.com", "twin2@example.com")
        assert stored(model, second.pk)["email"] == "twin2@example.com"
    if unique == "number":
        assert stored(model, second.pk)["number"] == NUMBER + 2


def test_defaults_and_null_foreign_keys_are_stored_like_django_stores_them(desk_ticket, fresh_shapes):
    before = timezone.now()
    compiled = Ticket.objects.create(
        number=NUMBER + 10,
        subject="",
        **required(desk_ticket),
    )
    with plain_django_path():
        plain = Ticket.objects.create(
            number=NUMBER + 11,
            subject="",
            **required(desk_ticket),
        )
    after = timezone.now()
    a, b = stored(Ticket, compiled.pk), stored(Ticket, plain.pk)
    times = {"created_at", "updated_at"}
    assert {k: v for k, v in a.items() if k not in {"id", "number", *times}} == {
        k: v for k, v in b.items() if k not in {"id", "number", *times}
    }
    loaded = Ticket.objects.get(pk=compiled.pk)
    assert (loaded.state, loaded.source, loaded.version, loaded.is_answered, loaded.sla_pauses) == (
        "open",
        "web",
        1,
        False,
        [],
    )
    assert loaded.assignee_id is None and loaded.topic_id is None and loaded.organization_id is None
    assert before <= loaded.created_at <= after and before <= loaded.updated_at <= after
    assert loaded.created_at == compiled.created_at


def test_the_primary_key_is_set_and_the_object_is_no_longer_adding(desk_ticket):
    events = [Event.objects.create(ticket=desk_ticket.ticket, kind=EventKind.NOTE) for _ in range(3)]
    for event in events:
        assert isinstance(event.pk, int) and event.pk > 0
        assert event._state.adding is False
        assert Event.objects.filter(pk=event.pk, ticket=desk_ticket.ticket).exists()
    assert len({event.pk for event in events}) == 3
    event = Event(ticket=desk_ticket.ticket, kind=EventKind.NOTE)
    event.save()
    event.after = "changed"
    event.save()  # now an UPDATE of the same row, not a second INSERT
    assert Event.objects.filter(ticket=desk_ticket.ticket).count() == 4
    assert Event.objects.get(pk=event.pk).after == "changed"


def test_the_second_and_third_save_reuse_the_statement_and_store_their_own_values(
    desk_ticket, fresh_shapes, django_compiles
):
    compiles_before = compiled_insert.compile_count
    made = [
        Event.objects.create(ticket=desk_ticket.ticket, kind=EventKind.NOTE, actor_name=f"actor {i}", data={"i": i})
        for i in range(3)
    ]
    assert compiled_insert.compile_count == compiles_before + 1
    assert django_compiles == [(Event, True)]  # the one check against Django's compile, nothing after
    assert [(e.actor_name, e.data) for e in Event.objects.filter(pk__in=[e.pk for e in made]).order_by("pk")] == [
        ("actor 0", {"i": 0}),
        ("actor 1", {"i": 1}),
        ("actor 2", {"i": 2}),
    ]


def test_save_signals_still_fire_with_the_saved_row(desk_ticket):
    seen: list[tuple[str, Any, bool | None]] = []

    def before(sender, instance, **kwargs):
        seen.append(("pre", instance.pk, None))

    def after(sender, instance, created, **kwargs):
        seen.append(("post", Ticket.objects.filter(pk=instance.pk).values_list("subject", flat=True).first(), created))

    pre_save.connect(before, sender=Ticket)
    post_save.connect(after, sender=Ticket)
    try:
        Ticket.objects.create(
            number=NUMBER + 20,
            subject="Signalled",
            **required(desk_ticket),
        )
    finally:
        pre_save.disconnect(before, sender=Ticket)
        post_save.disconnect(after, sender=Ticket)
    assert seen == [("pre", None, None), ("post", "Signalled", True)]


def test_the_satisfaction_app_still_plans_a_survey_for_a_ticket_created_through_the_compiled_path(
    desk_ticket, django_capture_on_commit_callbacks
):
    ticket = Ticket.objects.create(
        number=NUMBER + 21,
        subject="Rate me",
        **required(desk_ticket),
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket.state = State.RESOLVED
        ticket.save(update_fields=["state"])
    survey = Survey.objects.get(ticket=ticket)
    assert survey.requester_id == desk_ticket.ken.pk


def test_an_expression_value_goes_through_django_and_still_works(desk_ticket, fresh_shapes, django_compiles):
    before = timezone.now()
    ticket = Ticket.objects.create(
        number=NUMBER + 30,
        subject=Value("From an expression"),
        **required(desk_ticket),
        created_at=Now(),
    )
    assert django_compiles == [(Ticket, False)]  # Django compiled it, not the cached statement
    assert not fresh_shapes  # nothing cached for a shape with an expression in it
    loaded = Ticket.objects.get(pk=ticket.pk)
    assert loaded.subject == "From an expression"
    assert before - dt.timedelta(seconds=5) <= loaded.created_at <= timezone.now() + dt.timedelta(seconds=5)
    assert ticket.created_at == loaded.created_at  # returned by the INSERT, as Django does

    with pytest.raises(ValueError, match="F\\(\\) expressions can only be used to update"), transaction.atomic():
        Event.objects.create(ticket=desk_ticket.ticket, kind=EventKind.NOTE, actor_name=F("kind"))

    # The plain shape is unharmed: compiled once, then reused.
    for n in (31, 32):
        Ticket.objects.create(
            number=NUMBER + n,
            subject="Plain",
            **required(desk_ticket),
        )
    assert [call for call in django_compiles if call[0] is Ticket] == [(Ticket, False), (Ticket, True)]


def test_a_duplicate_email_still_raises_integrity_error_and_rolls_back_its_atomic_block(desk_ticket):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="kept-out@example.com", name="Made in the block")
        User.objects.create(email="KEN@example.com", name="Second Ken")  # lower-cased: Ken's address
    assert not User.objects.filter(email="kept-out@example.com").exists()
    assert User.objects.filter(email="ken@example.com").count() == 1

    with transaction.atomic():  # the outer block goes on after a failed inner one
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(email="ken@example.com")
        survivor = User.objects.create(email="after@example.com", name="After")
    assert User.objects.get(pk=survivor.pk).name == "After"


def test_a_duplicate_ticket_number_still_raises_integrity_error(desk_ticket):
    fields = {
        "subject": "Twice",
        **required(desk_ticket),
    }
    Ticket.objects.create(number=NUMBER + 40, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.create(number=NUMBER + 40, **fields)
    assert Ticket.objects.filter(number=NUMBER + 40).count() == 1
    again = Ticket.objects.create(number=NUMBER + 41, **fields)  # the statement still serves
    assert Ticket.objects.get(pk=again.pk).number == NUMBER + 41


def test_bulk_create_is_djangos_own(desk_ticket, fresh_shapes, django_compiles):
    compiles_before = compiled_insert.compile_count
    made = Event.objects.bulk_create(
        [Event(ticket=desk_ticket.ticket, kind=EventKind.NOTE, actor_name=f"bulk {i}", data=[i]) for i in range(3)]
    )
    assert django_compiles == [(Event, False)]
    assert compiled_insert.compile_count == compiles_before and not fresh_shapes
    assert all(isinstance(event.pk, int) for event in made)
    assert sorted(Event.objects.filter(actor_name__startswith="bulk").values_list("actor_name", "data")) == [
        ("bulk 0", [0]),
        ("bulk 1", [1]),
        ("bulk 2", [2]),
    ]


def test_a_raw_save_from_a_fixture_goes_through_django(desk_ticket, django_compiles):
    events = [
        Event.objects.create(ticket=desk_ticket.ticket, kind=EventKind.NOTE, actor_name=f"Fixture {i}", data={"k": "ü"})
        for i in range(2)
    ]
    dumped = serializers.serialize("json", events)
    Event.objects.filter(pk__in=[e.pk for e in events]).delete()
    django_compiles.clear()
    for restored in serializers.deserialize("json", dumped):
        restored.save()
    assert django_compiles == [(Event, True), (Event, True)]  # Django compiled each one
    assert list(
        Event.objects.filter(pk__in=[e.pk for e in events]).order_by("pk").values_list("actor_name", "data")
    ) == [
        ("Fixture 0", {"k": "ü"}),
        ("Fixture 1", {"k": "ü"}),
    ]


def test_query_logging_and_execute_wrappers_see_the_statement_django_would_run(desk_ticket, django_assert_num_queries):
    fields = {
        "subject": "Counted",
        **required(desk_ticket),
        "created_at": WHEN,
        "updated_at": WHEN,
    }

    def create(number: int) -> tuple[list[tuple[str, Any]], list[str]]:
        executed: list[tuple[str, Any]] = []

        def wrapper(execute, sql, params, many, context):
            executed.append((sql, params))
            return execute(sql, params, many, context)

        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(wrapper):
            Ticket.objects.create(number=number, **fields)
        return executed, [query["sql"] for query in captured.captured_queries]

    with plain_django_path():
        [(plain_sql, plain_params)], plain_logged = create(NUMBER + 50)
    create(NUMBER + 51)  # compiles the shape, if no earlier test did
    with django_assert_num_queries(len(plain_logged)):
        [(sql, params)], logged = create(NUMBER + 52)
    assert sql == plain_sql
    assert len(params) == len(plain_params) and NUMBER + 52 in params and "Counted" in params
    assert logged == [plain_logged[0].replace(str(NUMBER + 50), str(NUMBER + 52))]


def test_an_unsupported_database_vendor_goes_through_django(desk_ticket, fresh_shapes, django_compiles, monkeypatch):
    monkeypatch.setattr(compiled_insert, "_VENDORS", frozenset({"oracle"}))
    for n in (60, 61):
        Event.objects.create(ticket=desk_ticket.ticket, kind=EventKind.NOTE, actor_name=f"vendor {n}")
    assert django_compiles == [(Event, False), (Event, False)]
    assert list(fresh_shapes.values()) == [None]
    assert Event.objects.filter(actor_name__startswith="vendor").count() == 2


def _altered(field: models.Field[Any, Any], how: str) -> models.Field[Any, Any]:
    field = copy.copy(field)
    if how == "db_default":
        field.db_default = Value("x")
    elif how == "generated":
        field.generated = True  # type: ignore[misc]
    else:
        field.get_placeholder_sql = lambda value, compiler, conn: ("UPPER(%s)", [value])  # type: ignore[attr-defined]
    return field


@pytest.mark.parametrize("how", ["db_default", "generated", "placeholder"])
def test_a_field_with_a_database_default_a_generated_value_or_its_own_placeholder_is_left_to_django(desk_ticket, how):
    event = Event(ticket=desk_ticket.ticket, kind=EventKind.NOTE, actor_name="x")
    fields = [f for f in Event._meta.local_concrete_fields if f is not Event._meta.auto_field]
    returning = list(Event._meta.db_returning_fields)
    assert compiled_insert._compile(event, Event, connection, fields, returning) is not None
    altered = [_altered(f, how) if f.name == "actor_name" else f for f in fields]
    assert compiled_insert._compile(event, Event, connection, altered, returning) is None


def test_an_explicit_primary_key_is_a_shape_of_its_own(desk_ticket, fresh_shapes):
    automatic = Event.objects.create(ticket=desk_ticket.ticket, kind=EventKind.NOTE, actor_name="automatic")
    chosen = Event.objects.create(
        pk=automatic.pk + 1000, ticket=desk_ticket.ticket, kind=EventKind.NOTE, actor_name="chosen"
    )
    again = Event.objects.create(ticket=desk_ticket.ticket, kind=EventKind.NOTE, actor_name="again")
    assert chosen.pk == automatic.pk + 1000
    assert Event.objects.get(pk=automatic.pk + 1000).actor_name == "chosen"
    assert Event.objects.get(pk=again.pk).actor_name == "again"
    assert len([key for key in fresh_shapes if key[0] is Event]) == 2


def test_a_statement_that_differs_from_djangos_own_compile_is_never_used(desk_ticket, fresh_shapes, monkeypatch):
    real = SQLInsertCompiler.as_sql

    def as_sql_with_a_comment(self: SQLInsertCompiler) -> Any:
        return [(f"{sql} /* Django's own */", params) for sql, params in real(self)]

    monkeypatch.setattr(SQLInsertCompiler, "as_sql", as_sql_with_a_comment)
    with CaptureQueriesContext(connection) as captured:
        for n in (70, 71):
            Event.objects.create(ticket=desk_ticket.ticket, kind=EventKind.NOTE, actor_name=f"differs {n}")
    assert [query["sql"].endswith("/* Django's own */") for query in captured.captured_queries] == [True, True]
    assert list(fresh_shapes.values()) == [None]
    assert Event.objects.filter(actor_name__startswith="differs").count() == 2
