"""Tessera's database task backend writes the row django-tasks-db would, through a compiled INSERT.

The row is what a `db_worker` claims and runs (tests/scheduler/test_task_workers.py runs one
end to end on this backend), so it must be column for column what django-tasks-db's own backend
writes; what it saves is only CPU (issue 13).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from django.tasks.signals import task_enqueued
from django.utils import timezone

from tessera import compiled_insert
from tessera.scheduler.management.commands.run_desk import worker_command
from tessera.scheduler.task_backend import DatabaseBackend
from tessera.tickets.notifications import deliver_change

pytestmark = pytest.mark.django_db

BOTH = {
    "default": {"BACKEND": "tessera.scheduler.task_backend.DatabaseBackend"},
    "plain": {"BACKEND": "django_tasks_db.DatabaseBackend"},
}
ITEMS = [{"notice": "new_ticket", "actor_id": 7, "entry_id": 9, "extra": {"note": "Ünïcode “quotes”"}}]


@pytest.fixture
def both_backends(settings):
    settings.TASKS = BOTH


def _columns(row: DBTaskResult) -> dict[str, object]:
    return {f.attname: getattr(row, f.attname) for f in DBTaskResult._meta.concrete_fields}


def test_the_row_is_the_one_django_tasks_db_writes(both_backends):
    ours = deliver_change.enqueue(41, ITEMS)
    theirs = deliver_change.using(backend="plain").enqueue(41, ITEMS)
    ours_row, theirs_row = (_columns(DBTaskResult.objects.get(pk=r.id)) for r in (ours, theirs))
    assert ours_row.pop("backend_name") == "default" and theirs_row.pop("backend_name") == "plain"
    assert abs(ours_row.pop("enqueued_at") - theirs_row.pop("enqueued_at")) < timedelta(seconds=5)
    assert ours_row.pop("id") != theirs_row.pop("id")
    assert ours_row == theirs_row
    assert ours_row["args_kwargs"] == {"args": [41, ITEMS], "kwargs": {}}


def test_a_deferred_and_prioritised_task_keeps_its_run_after_and_priority(both_backends):
    later = timezone.now() + timedelta(hours=2)
    result = deliver_change.using(run_after=later, priority=10, queue_name="default").enqueue(5, ITEMS)
    row = DBTaskResult.objects.get(pk=result.id)
    assert (row.run_after, row.priority, row.queue_name, row.status) == (later, 10, "default", "READY")
    assert row.task_path == "tessera.tickets.notifications.deliver_change"


def test_the_caller_and_the_signal_get_the_queued_result(both_backends):
    heard = []

    def listen(sender, task_result, **kwargs):
        heard.append((sender, task_result))

    task_enqueued.connect(listen)
    try:
        result = deliver_change.enqueue(12, ITEMS)
    finally:
        task_enqueued.disconnect(listen)
    assert [(sender, r.id) for sender, r in heard] == [(DatabaseBackend, result.id)]
    assert result.status == "READY" and result.args == [12, ITEMS] and result.kwargs == {}
    assert result.task.func is deliver_change.func
    assert deliver_change.get_result(result.id).id == result.id


def test_enqueueing_is_one_statement_whose_insert_is_compiled_once(both_backends, django_assert_num_queries):
    deliver_change.enqueue(1, ITEMS)
    compiled = compiled_insert.compile_count
    with django_assert_num_queries(1):
        deliver_change.enqueue(2, ITEMS)
    assert compiled_insert.compile_count == compiled


def test_an_invalid_task_is_still_refused_before_anything_is_written(both_backends):
    with pytest.raises(Exception, match="priority"):
        deliver_change.using(priority=1000).enqueue(3, ITEMS)
    assert not DBTaskResult.objects.exists()


def test_make_run_starts_a_database_worker_for_either_database_backend():
    python, manage = "/usr/bin/python3", "manage.py"
    for backend in ("tessera.scheduler.task_backend.DatabaseBackend", "django_tasks_db.DatabaseBackend"):
        assert worker_command(backend, python, manage)[2] == "db_worker"
    assert worker_command("django_tasks_rq.RQBackend", python, manage)[2] == "rqworker"
    assert worker_command("django.tasks.backends.immediate.ImmediateBackend", python, manage) is None
    assert worker_command("no.such.Backend", python, manage) is None
