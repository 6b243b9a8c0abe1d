"""The database task backend (TASKS_BACKEND=database): django-tasks-db's, with a cheaper enqueue.

Why: the backend writes a task row inside every change (a ticket's notifications), and on the
API's creation path its enqueue was an eighth of a ticket's CPU (issue 13): Django compiling the
row's INSERT, and the result read back from the row twice (once for the `task_enqueued` signal,
once for the caller). The row is the same; it is written through `QueuedTask` (a compiled
INSERT) and read back once. Workers (`manage.py db_worker`) and results are django-tasks-db's.
Tests: tests/scheduler/test_task_backend.py.
"""

from __future__ import annotations

from typing import Any

from django_tasks_db import backend as tasks_db
from django_tasks_db.models import DBTaskResult

from django.tasks.signals import task_enqueued
from django.utils.json import normalize_json

from .models import QueuedTask


class DatabaseBackend(tasks_db.DatabaseBackend):
    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        self.validate_task(task)
        result = self._task_to_db_task(task, args, kwargs).task_result
        task_enqueued.send(type(self), task_result=result)
        return result

    def _task_to_db_task(self, task: Any, args: Any, kwargs: Any) -> DBTaskResult[Any, Any]:
        # The columns django-tasks-db's own _task_to_db_task writes (the test compares the rows).
        row = QueuedTask(
            id=self._get_id(),
            args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,
            backend_name=self.alias,
        )
        row.save(force_insert=True)
        return row
