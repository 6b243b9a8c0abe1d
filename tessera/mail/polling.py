"""Poll every active IMAP mailbox once: the core shared by `manage.py poll_mailboxes` and the
scheduler's mailbox job, so both poll, report and fail the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext as _

from . import imap
from .models import Mailbox

DEFAULT_LIMIT = 50


class NoSuchMailbox(LookupError):
    pass


@dataclass
class Polled:
    results: list[imap.PollResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """At least one poll worked, or there was nothing to poll: one broken mailbox among
        several pages nobody (its error is on the mailbox in the admin)."""
        return not self.results or any(result.ok for result in self.results)

    @property
    def taken(self) -> int:
        return sum(result.taken for result in self.results)


def poll_all(
    name: str | None = None, limit: int = DEFAULT_LIMIT, report: Callable[[imap.PollResult], None] | None = None
) -> Polled:
    """Poll each active mailbox (or the one named) once, calling `report` after each."""
    mailboxes = Mailbox.objects.filter(is_active=True).select_related("department", "topic")
    if name:
        mailboxes = mailboxes.filter(name=name)
        if not mailboxes.exists():
            raise NoSuchMailbox(_("There is no active mailbox named “%(name)s”.") % {"name": name})
    polled = Polled()
    for mailbox in mailboxes:
        result = imap.poll(mailbox, limit=limit)
        polled.results.append(result)
        if report is not None:
            report(result)
    return polled


class EveryMailboxFailed(RuntimeError):
    pass


def run(now: datetime | None = None) -> int:
    """The scheduler's job: messages taken in. Raises when every mailbox failed, so the job is
    retried and, if it goes on failing, shown as failed to administrators."""
    polled = poll_all()
    if not polled.ok:
        errors = "; ".join(f"{r.mailbox.address}: {r.error}" for r in polled.results)
        raise EveryMailboxFailed(_("Every mailbox failed: %(errors)s") % {"errors": errors})
    return polled.taken
