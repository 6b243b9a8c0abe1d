"""Polling the IMAP mailboxes configured in the admin.

The mailbox is the queue and the database is the record, so a message leaves the queue only
once the record is safe: it is fetched with BODY.PEEK (reading it does not mark it \\Seen),
handed to the one ingest pipeline, and only after ingest returned (its transaction committed)
is it marked \\Seen or moved to the archive folder. A database outage stops the poll with the
message still unseen, so the next poll takes it again; a crash between ingest and the flag
makes the next poll deliver it twice, which ingest turns into a no-op (same Message-ID or hash).

Connection and login failures are recorded on the mailbox (last_error, consecutive_failures)
instead of raised, so one broken mailbox never stops the others from being polled.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
from dataclasses import dataclass
from typing import Any

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError, MailboxFetchError, MailboxFlagError
from imap_tools.mailbox import BaseMailBox
from imap_tools.utils import check_command_status

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from . import ingest as pipeline
from .models import Channel, InboundStatus, Mailbox, Security

log = logging.getLogger(__name__)

# A server that does not answer within this many seconds counts as a failed poll.
TIMEOUT_SECONDS = 30
# What the IMAP side can throw at us: protocol errors, refused or dropped connections, bad
# certificates (ssl.SSLError is an OSError), and imap-tools' own errors for failed commands.
IMAP_ERRORS = (imaplib.IMAP4.error, ImapToolsError, OSError, EOFError, ValueError)


@dataclass
class PollResult:
    """What one poll of one mailbox did: the messages taken in, and the error that stopped it."""

    mailbox: Mailbox
    taken: int = 0
    error: str = ""
    database_unavailable: bool = False

    @property
    def ok(self) -> bool:
        return not self.error


class DatabaseUnavailable(Exception):
    """Ingest could not reach the database; the message it was given is still unseen."""


class IngestFailed(Exception):
    """Ingest failed for another reason (a bug); the message it was given is still unseen."""


def connect(mailbox: Mailbox) -> BaseMailBox:
    """An imap-tools client for the mailbox's security setting, not yet logged in. TLS and
    STARTTLS verify the server's certificate and host name with the system's trusted CAs."""
    if mailbox.security == Security.TLS:
        return MailBox(
            mailbox.host, port=mailbox.port, timeout=TIMEOUT_SECONDS, ssl_context=ssl.create_default_context()
        )
    if mailbox.security == Security.STARTTLS:
        return MailBoxStartTls(
            mailbox.host, port=mailbox.port, timeout=TIMEOUT_SECONDS, ssl_context=ssl.create_default_context()
        )
    return MailBoxUnencrypted(mailbox.host, port=mailbox.port, timeout=TIMEOUT_SECONDS)


def poll(mailbox: Mailbox, *, limit: int = 50) -> PollResult:
    """Take up to `limit` unseen messages from the mailbox's folder into the desk, oldest first,
    and record on the mailbox when it was polled and whether that worked."""
    result = PollResult(mailbox=mailbox)
    try:
        box = connect(mailbox)
        box.login(mailbox.username, mailbox.password, initial_folder=mailbox.folder or "INBOX")
        try:
            result.taken = _take_unseen(box, mailbox, limit)
        finally:
            _logout(box)
    except DatabaseUnavailable as exc:
        result.error, result.database_unavailable = str(exc), True
    except IngestFailed as exc:
        result.error = str(exc)
    except IMAP_ERRORS as exc:
        result.error = _describe(exc)
    except pipeline.DATABASE_UNAVAILABLE as exc:
        result.error, result.database_unavailable = _("The database is unavailable: %(error)s") % {"error": exc}, True
    _record(mailbox, result)
    return result


def _take_unseen(box: BaseMailBox, mailbox: Mailbox, limit: int) -> int:
    archive = mailbox.archive_folder.strip()
    if archive and not box.folder.exists(archive):
        # Created before any message is taken: a mailbox that cannot archive takes nothing.
        box.folder.create(archive)
    taken = 0
    # UIDs ascend in arrival order, so an original is posted before the replies to it.
    for uid in box.uids("UNSEEN UNDELETED")[:limit]:
        raw = _peek(box, uid)
        if raw is None:
            continue  # expunged by someone else since the search
        try:
            row = pipeline.ingest(raw, channel=Channel.IMAP, mailbox=mailbox)
        except pipeline.DATABASE_UNAVAILABLE as exc:
            raise DatabaseUnavailable(
                _("The database is unavailable; the message stays unseen for the next poll: %(error)s") % {"error": exc}
            ) from exc
        except Exception as exc:
            # ingest keeps every message it can read, so this is a bug, not the mailbox's fault.
            log.exception("Could not take message %s from mailbox %s", uid, mailbox.pk)
            raise IngestFailed(
                _("Could not take in a message; it stays unseen for the next poll: %(error)s") % {"error": exc}
            ) from exc
        if row.status == InboundStatus.PENDING:
            # Stored but not processed: leave it unseen so the next poll processes it again.
            continue
        if archive:
            box.move(uid, archive)
        else:
            check_command_status(box.client.uid("STORE", uid, "+FLAGS", r"(\Seen)"), MailboxFlagError)
        taken += 1
    return taken


def _peek(box: BaseMailBox, uid: str) -> bytes | None:
    """The message's exact bytes. BODY.PEEK leaves \\Seen alone; imap-tools' own fetch would
    parse the message (we only want the bytes), and its flag() expunges the whole folder."""
    response = box.client.uid("FETCH", uid, "(BODY.PEEK[])")
    check_command_status(response, MailboxFetchError)
    for item in response[1]:
        if isinstance(item, tuple) and len(item) == 2:
            return bytes(item[1])
    return None


def _logout(box: BaseMailBox) -> None:
    # The work is done or already failed; a connection dropped at the very end changes nothing.
    with contextlib.suppress(*IMAP_ERRORS):
        box.logout()


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return _("Could not read the mailbox: %(error)s") % {"error": text}


def _record(mailbox: Mailbox, result: PollResult) -> None:
    """Write the outcome with an UPDATE of just these columns, so an administrator's edit made
    meanwhile is not overwritten. Best effort when the database is what failed."""
    now = timezone.now()
    fields: dict[str, Any] = {"last_polled_at": now, "last_error": result.error[:2000]}
    fields["consecutive_failures"] = F("consecutive_failures") + 1 if result.error else 0
    try:
        Mailbox.objects.filter(pk=mailbox.pk).update(**fields)
    except pipeline.DATABASE_UNAVAILABLE:
        log.warning("Could not record the poll of mailbox %s: the database is unavailable", mailbox.pk)
        return
    mailbox.refresh_from_db(fields=["last_polled_at", "last_error", "consecutive_failures"])
    if result.error:
        log.warning("Polling mailbox %s failed: %s", mailbox, result.error)
