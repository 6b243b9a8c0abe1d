"""manage.py retry_mail: send again every notification whose previous attempt failed and whose
wait is over.

Needed when the task backend cannot schedule work for later (the in-process ImmediateBackend):
a failed send then waits in the database with its next attempt time, and this command — run
from cron every minute or so — tries it. With django-tasks-db the retries are queued on the
worker already; running this as well is harmless (an attempt claims its row first, so a
message is never sent twice).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tessera.mail import outbound


class Command(BaseCommand):
    help = (
        "Send every queued email notification whose next attempt is due: ones that failed before "
        "and waited their retry delay (TESSERA_MAIL_RETRY_SECONDS, doubling each time), and ones "
        "whose background task was lost. After TESSERA_MAIL_DELIVERY_ATTEMPTS failures a message "
        "is marked failed and shown to agents on its ticket. Run it from cron every minute when "
        "the task backend cannot defer work (the default in-process backend)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="Try at most this many messages in this run.")

    def handle(self, *args: Any, limit: int | None, **options: Any) -> None:
        outcome = outbound.retry_due(limit=limit)
        sent, queued, failed = (outcome.get(s, 0) for s in ("sent", "queued", "failed"))
        self.stdout.write(f"{sent} sent, {queued} to be tried again later, {failed} failed for good.")
