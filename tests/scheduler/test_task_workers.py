"""A notification queued by a ticket change is sent by a real worker process, on the database
backend (`manage.py db_worker`, what `make run` uses) and on RQ (`manage.py rqworker`, to scale out)."""

from __future__ import annotations

import email
import email.policy
import os

import pytest

from .conftest import REDIS_URL

# Both engines' RQ tests use (and empty) Redis database 5: one worker runs them, one at a time.
# The database mark is for a run of this module alone: pytest-django sets up only the databases
# collected tests declare, and `process_desk` asks for its database at run time.
pytestmark = [pytest.mark.xdist_group("redis_db5"), pytest.mark.django_db(transaction=True)]

OPEN_A_TICKET = """
from tessera.accounts.models import Department, Role
from tessera.tickets.defaults import ensure_defaults
from tessera.tickets.models import Priority, Status
from tessera.tickets.services import open_ticket_for_guest

ensure_defaults(Priority, Status, Role)
# get_or_create: on PostgreSQL the desk is the suite's test database, which an earlier test may
# have left a Support department in.
support, _ = Department.objects.get_or_create(name="Support", defaults={"email": "support@example.com"})
ticket = open_ticket_for_guest(
    email="kim@example.org", name="Kim Customer", subject="Printer on the third floor is jammed",
    message="It shows error E-42.", topic=None, department=support,
)
print(ticket.pk)
"""

TASK_STATES = """
from django_tasks_db.models import DBTaskResult
print(sorted(set(DBTaskResult.objects.values_list("status", flat=True))))
"""


def _mail_to(data_dir, address: str) -> list[str]:
    subjects = []
    for path in sorted((data_dir / "mail").glob("*")) if (data_dir / "mail").exists() else []:
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                message = email.message_from_bytes(chunk.strip(), policy=email.policy.default)
                if address in str(message["To"]):
                    subjects.append(str(message["Subject"]))
    return subjects


def test_the_database_worker_sends_the_notification_a_new_ticket_queued(process_desk):
    process_desk.python(OPEN_A_TICKET, TASKS_BACKEND="database")
    assert process_desk.python(TASK_STATES) == "['READY']", "queued in the database, not sent in the request"
    assert _mail_to(process_desk.data_dir, "kim@example.org") == []

    process_desk.manage("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload",
                        TASKS_BACKEND="database")  # fmt: skip

    assert process_desk.python(TASK_STATES) == "['SUCCESSFUL']"
    subjects = _mail_to(process_desk.data_dir, "kim@example.org")
    assert any("Printer on the third floor is jammed" in s for s in subjects), subjects


@pytest.fixture
def redis_db5():
    """Redis database 5, emptied; unreachable Redis skips the test, except in CI where it fails."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        reason = f"Redis is not reachable at {REDIS_URL} ({exc}); start redis-server to run the RQ tests"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    client.flushdb()
    yield client
    client.flushdb()


def test_an_rq_worker_sends_the_notification_a_new_ticket_queued(process_desk, redis_db5):
    process_desk.python(OPEN_A_TICKET, TASKS_BACKEND="rq")
    assert redis_db5.llen("rq:queue:default") >= 1, "queued on Redis"
    assert _mail_to(process_desk.data_dir, "kim@example.org") == []

    process_desk.manage("rqworker", "--burst", "--job-class", "django_tasks_rq.Job", "--with-scheduler", "default",
                        TASKS_BACKEND="rq")  # fmt: skip

    subjects = _mail_to(process_desk.data_dir, "kim@example.org")
    assert any("Printer on the third floor is jammed" in s for s in subjects), subjects
    assert redis_db5.llen("rq:queue:default") == 0
