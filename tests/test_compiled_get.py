"""A read compiled once (tessera.compiled_get) answers exactly as `.get()` does, every time.

The API's key, help topic and requester reads go through it, so these compare it with the
ORM's own `.get()` on the same rows: the instance and its select_related objects, the errors,
the converters (aware datetimes, JSON), the base queryset's own conditions, and that each
call still reads the database and shows up as a query.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from django.db import connection
from django.db.models import Value
from django.db.models.sql import compiler as sql_compiler
from django.utils import timezone

from tessera.accounts.models import Agent, User
from tessera.api import keys
from tessera.api.models import ApiKey, Scope
from tessera.compiled_get import CompiledGet
from tessera.tickets.models import HelpTopic

pytestmark = pytest.mark.django_db


def _columns(instance: object) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}  # type: ignore[attr-defined]


@pytest.fixture
def agent_key(desk) -> ApiKey:
    key, _raw = keys.issue_key(
        name="Monitoring",
        created_by=desk.admin,
        agent=desk.john,
        scopes=[Scope.TICKETS_READ, Scope.TICKETS_WRITE],
        allowed_ips=["192.0.2.0/24"],
        expires_at=timezone.now() + timedelta(days=3),
    )
    return key


def test_a_replayed_read_gives_the_same_instance_and_related_rows_as_get(desk, agent_key):
    by_digest = CompiledGet(ApiKey.objects.select_related("agent__user"), "digest")
    expected = ApiKey.objects.select_related("agent__user").get(digest=agent_key.digest)
    for _call in range(3):  # the first call records, the others replay
        found = by_digest.get(agent_key.digest)
        assert type(found) is ApiKey and found is not expected
        assert _columns(found) == _columns(expected)
        assert found.expires_at.tzinfo is not None and found.scopes == sorted(expected.scopes)
        assert found.allowed_ips == ["192.0.2.0/24"]
        assert found._state.adding is False and found._state.db == "default"
        with connection.execute_wrapper(_no_queries):
            assert _columns(found.agent) == _columns(expected.agent)
            assert _columns(found.agent.user) == _columns(desk.john.user)
    assert by_digest.replays()


def test_a_missing_related_row_is_known_without_a_query(desk):
    system, _raw = keys.issue_key(name="Integration", created_by=desk.admin, scopes=[Scope.TICKETS_WRITE])
    by_digest = CompiledGet(ApiKey.objects.select_related("agent__user"), "digest")
    by_digest.get(system.digest)
    found = by_digest.get(system.digest)
    with connection.execute_wrapper(_no_queries):
        assert found.agent is None


def test_replaying_compiles_nothing_and_reads_the_database_once_per_call(desk, agent_key, django_assert_num_queries):
    by_digest = CompiledGet(ApiKey.objects.select_related("agent__user"), "digest")
    by_digest.get(agent_key.digest)
    compiled = []
    original = sql_compiler.SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        compiled.append(self)
        return original(self, *args, **kwargs)

    sql_compiler.SQLCompiler.as_sql = counting
    try:
        with django_assert_num_queries(1):
            by_digest.get(agent_key.digest)
    finally:
        sql_compiler.SQLCompiler.as_sql = original
    assert compiled == []


def test_each_call_reads_the_row_as_it_is_now(desk, agent_key):
    by_digest = CompiledGet(ApiKey.objects.select_related("agent__user"), "digest")
    assert by_digest.get(agent_key.digest).is_active
    ApiKey.objects.filter(pk=agent_key.pk).update(is_active=False)
    assert not by_digest.get(agent_key.digest).is_active
    Agent.objects.filter(pk=desk.john.pk).update(is_active=False)
    assert not by_digest.get(agent_key.digest).agent.is_active


def test_a_missing_row_raises_does_not_exist_as_get_does(desk):
    by_email = CompiledGet(User.objects.select_related("agent"), "email")
    by_email.get("ken@example.com")
    with pytest.raises(User.DoesNotExist, match="User matching query does not exist"):
        by_email.get("nobody@example.com")
    with pytest.raises(User.DoesNotExist):
        by_email.get("ken@example.com' OR '1'='1")  # a value, never SQL
    ken, john = by_email.get("ken@example.com"), by_email.get("john@example.com")
    with connection.execute_wrapper(_no_queries):
        assert ken.pk == desk.ken.pk and not hasattr(ken, "agent")  # known to have none, as get() knows
        assert john.agent == desk.john


def test_several_rows_raise_multiple_objects_returned_as_get_does(desk):
    User.objects.create_user("ken2@example.com", name="Ken Adams")
    by_name = CompiledGet(User.objects.all(), "name")
    assert by_name.get("John Doe").email == "john@example.com"
    with pytest.raises(User.MultipleObjectsReturned, match="it returned 2!"):
        by_name.get("Ken Adams")
    with pytest.raises(User.MultipleObjectsReturned) as from_orm:
        User.objects.get(name="Ken Adams")
    with pytest.raises(User.MultipleObjectsReturned) as replayed:
        by_name.get("Ken Adams")
    assert str(replayed.value) == str(from_orm.value)


def test_the_base_querysets_own_conditions_hold_on_every_call(desk):
    active = CompiledGet(HelpTopic.objects.select_related("department").filter(is_active=True), "pk")
    assert active.get(desk.general.pk).department == desk.support
    HelpTopic.objects.filter(pk=desk.outage.pk).update(is_active=False)
    with pytest.raises(HelpTopic.DoesNotExist):
        active.get(desk.outage.pk)
    assert active.replays()
    assert active.get(str(desk.internal.pk)).name == "Internal: hardware"  # prepared as the field does


def test_a_value_the_field_cannot_take_is_refused_as_get_refuses_it(desk):
    by_pk = CompiledGet(HelpTopic.objects.all(), "pk")
    by_pk.get(desk.general.pk)
    with pytest.raises(ValueError, match="expected a number"):
        HelpTopic.objects.get(pk="seven")
    with pytest.raises(ValueError, match="expected a number"):
        by_pk.get("seven")


def test_a_shape_it_cannot_replay_is_answered_by_get_itself(desk):
    annotated = CompiledGet(User.objects.annotate(flag=Value(7)), "email")
    found = annotated.get("ken@example.com")
    assert found.flag == 7 and found.pk == desk.ken.pk
    assert not annotated.replays()
    with pytest.raises(User.DoesNotExist):
        annotated.get("nobody@example.com")


def test_locking_and_prefetching_reads_are_refused_up_front():
    with pytest.raises(ValueError, match="plain reads"):
        CompiledGet(User.objects.select_for_update(), "email")
    with pytest.raises(ValueError, match="prefetch"):
        CompiledGet(User.objects.prefetch_related("groups"), "email")


def test_the_api_reads_are_replayed(desk, client, agent_key):
    """The reads this exists for: a key, a requester and a help topic, through a real request."""
    from tessera.accounts import services as account_services
    from tessera.tickets import selectors

    _key, raw = keys.issue_key(name="Intake", created_by=desk.admin, scopes=[Scope.TICKETS_WRITE])
    for serial in range(2):
        response = client.post(
            "/api/v1/tickets",
            {
                "requester_email": f"probe{serial}@example.org",
                "topic_id": desk.general.pk,
                "subject": "Disk almost full",
                "message": "At 93 %.",
            },
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw}"},
        )
        assert response.status_code == 201, response.content
    assert keys._KEY_BY_DIGEST.replays()
    assert account_services._USER_BY_EMAIL.replays()
    assert selectors._INTAKE_TOPIC.replays()


def _no_queries(execute, sql, params, many, context):
    raise AssertionError(f"unexpected query: {sql}")
