"""Running an import inside the test database, and taking it away again afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pymysql  # type: ignore[import-untyped]

from django.db import transaction

HOST, PORT, USER = "127.0.0.1", 3306, "root"
ROOT = Path(__file__).resolve().parents[2]  # the project


def connect(database: str | None = None) -> pymysql.Connection:
    return pymysql.connect(host=HOST, port=PORT, user=USER, database=database, autocommit=True, charset="utf8mb4")


def url(database: str) -> str:
    return f"mysql://{USER}@{HOST}:{PORT}/{database}"


# Everything an import writes, children first: what a module-wide import leaves behind is
# deleted after the module, so tests elsewhere in the same worker start from a clean desk.
WRITTEN = (
    "importer.IdMap",
    "kb.Article",
    "kb.Category",
    "customfields.FieldValue",
    "customfields.Field",
    "customfields.Form",
    "customfields.ChoiceList",
    "mail.InboundMessage",
    "tickets.Ticket",
    "tasks.Task",
    "accounts.DirectoryNote",
    "accounts.Membership",
    "canned.CannedResponse",
    "mail.BannedSender",
    "tickets.HelpTopic",
    "accounts.OrganizationDomain",
    "accounts.Team",
    "accounts.Agent",
    "accounts.User",
    "accounts.Organization",
    "accounts.Department",
    "sla.SlaPlan",
    "sla.ScheduleInterval",
    "sla.Schedule",
    "sla.Holiday",
    "sla.HolidayCalendar",
    "accounts.Role",
    "tickets.Status",
    "tickets.Priority",
)


def _model(label: str) -> Any:
    from django.apps import apps

    return apps.get_model(label)


@contextmanager
def leaves_no_trace() -> Iterator[None]:
    """Delete, on the way out, every row written inside (by primary key above the highest before)."""
    from tessera.search.models import TicketDocument
    from tessera.tickets.models import Counter

    before = {
        label: _model(label).objects.order_by("-pk").values_list("pk", flat=True).first() or 0 for label in WRITTEN
    }
    counters = dict(Counter.objects.values_list("name", "value"))
    try:
        yield
    finally:
        with transaction.atomic():
            TicketDocument.objects.all().delete()
            for label in WRITTEN:
                _model(label).objects.filter(pk__gt=before[label]).delete()
            Counter.objects.exclude(name__in=counters).delete()
            for name, value in counters.items():
                Counter.objects.filter(name=name).update(value=value)
