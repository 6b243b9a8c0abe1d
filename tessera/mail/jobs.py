"""The mail app's periodic jobs, in the scheduler's shape `run(now=None) -> int`; registered from
MailConfig.ready(). The same cores serve the commands poll_mailboxes, retry_mail and
retry_inbound, for operators who prefer cron."""

from __future__ import annotations

from datetime import datetime

from . import ingest, outbound, polling


def poll_mailboxes(now: datetime | None = None) -> int:
    """Messages taken in from the IMAP mailboxes."""
    return polling.run(now)


def retry_mail(now: datetime | None = None) -> int:
    """Notifications whose retry was due and was tried (sent, queued again, or failed for good).
    Needed with a backend that cannot defer a retry; harmless with one that can (an attempt
    claims its row first, so a message is never sent twice)."""
    return sum(outbound.retry_due(now=now).values())


def retry_inbound(now: datetime | None = None) -> int:
    """Received messages that a crash or an outage left waiting, processed now."""
    return ingest.retry_pending()
