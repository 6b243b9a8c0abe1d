"""One pipeline for every message that reaches the desk (MTA pipe, IMAP, API).

Two transactions, on purpose:

1. The raw bytes are stored and committed before anything else happens (`InboundMessage`,
   status PENDING). From then on the message cannot be lost: a crash, a bug or a database outage
   later leaves the row PENDING, and delivering the same message again (the MTA retries after
   exit 75, IMAP finds it still unseen) processes it again. The row's `dedupe_key` (Message-ID,
   or the hash of the bytes when there is none) makes every other repeat a no-op.
2. The message is processed under a row lock (two workers never post it twice): refused
   senders, loops, bounces and automatic replies are kept with the reason; the rest becomes a
   ticket or lands on the ticket it answers, through tickets.services like any other change.
   The ticket work runs in a savepoint, so a failure undoes it and still records why.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from tessera import process_memo
from tessera.accounts.models import Department, User
from tessera.accounts.services import end_user_for_email
from tessera.tickets import attachments as attachment_store
from tessera.tickets import policy, services
from tessera.tickets.content import clean_line
from tessera.tickets.models import EventKind, HelpTopic, Source, State, ThreadEntry, Ticket
from tessera.tickets.policy import Action

from . import outbound, senders, threading
from .message import ParsedMessage
from .models import Delivery, InboundMessage, InboundStatus, Mailbox
from .parse import parse, peek
from .quotes import strip_quoted

log = logging.getLogger(__name__)

# The database is down or unreachable: the caller must retry later (the pipe exits 75).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
# A message whose processing was interrupted this often (crash, outage) is given up on and kept.
MAX_ATTEMPTS = 3


@dataclass
class Outcome:
    status: str
    reason: str = ""
    ticket: Ticket | None = None
    entry: ThreadEntry | None = None


@dataclass
class Body:
    text: str
    html: str | None
    uploads: list[attachment_store.Upload] = field(default_factory=list)


# ---------------------------------------------------------------------------- storing


def dedupe_key(parsed: ParsedMessage, sha256: str) -> str:
    message_id = parsed.message_id.strip()
    return f"mid:{message_id}"[:300] if message_id else f"sha256:{sha256}"


def _sender(parsed: ParsedMessage) -> str:
    return (parsed.sender.email if parsed.sender else "").strip().lower()[:254]


def store(raw: bytes, *, channel: str, mailbox: Mailbox | None = None) -> tuple[InboundMessage, ParsedMessage, bool]:
    """Keep the raw message (committed on return) unless it is here already.

    Returns the row, what the parser made of the bytes and whether the row is new. Messages
    that are too large or not mail at all are stored already REJECTED, with the reason."""
    raw = bytes(raw)
    digest = hashlib.sha256(raw).hexdigest()
    too_big = len(raw) > settings.TESSERA["MAIL_MAX_MESSAGE_BYTES"]
    parsed = peek(raw) if too_big else parse(raw)
    key = dedupe_key(parsed, digest)
    status, reason, processed_at = InboundStatus.PENDING, "", None
    if not parsed.is_message:
        status, reason = InboundStatus.REJECTED, _("Not an email message: it has no headers.")
    elif too_big:
        status = InboundStatus.REJECTED
        reason = _("The message is %(size)d bytes; messages over %(limit)d bytes are kept, not posted.") % {
            "size": len(raw),
            "limit": settings.TESSERA["MAIL_MAX_MESSAGE_BYTES"],
        }
    if status != InboundStatus.PENDING:
        processed_at = timezone.now()
    try:
        with _own_transaction():
            row = InboundMessage.objects.create(
                dedupe_key=key,
                message_id=parsed.message_id.strip()[:255],
                sha256=digest,
                raw=raw,
                size=len(raw),
                channel=channel,
                mailbox=mailbox,
                sender=_sender(parsed),
                subject=clean_line(parsed.subject)[:998],
                status=status,
                reason=reason,
                processed_at=processed_at,
                # The first attempt is counted with the bytes: one transaction fewer per message.
                attempts=1 if status == InboundStatus.PENDING else 0,
            )
    except IntegrityError:
        # Delivered before (or twice at once): the unique key says so without a look-up first,
        # which saves new mail, by far the common case, a query.
        return InboundMessage.objects.get(dedupe_key=key), parsed, False
    return row, parsed, True


def _own_transaction() -> contextlib.AbstractContextManager[object]:
    """For one statement that may fail on the unique key. Outside a transaction (the pipe,
    LMTP, IMAP) the statement commits on its own, durably, in one round trip; wrapping it in
    atomic() would add BEGIN and COMMIT. Inside a caller's transaction (an API request, a
    test) it needs a savepoint, so that a duplicate does not break that transaction."""
    return transaction.atomic() if transaction.get_connection().in_atomic_block else contextlib.nullcontext()


def ingest(raw: bytes, *, channel: str, mailbox: Mailbox | None = None) -> InboundMessage:
    """Store the message, then process it unless that already happened.

    Raises only DATABASE_UNAVAILABLE errors (retry later); everything else ends as a stored
    row whose status and reason say what became of the message."""
    row, parsed, created = store(raw, channel=channel, mailbox=mailbox)
    if row.status != InboundStatus.PENDING:
        return row
    if created:
        return process(row, parsed, counted=True)
    return process(row)


def retry_pending(limit: int = 100) -> int:
    """Process messages left PENDING by a crash or an outage (for a periodic job). Returns how
    many were tried."""
    rows = list(InboundMessage.objects.filter(status=InboundStatus.PENDING).order_by("received_at", "pk")[:limit])
    for row in rows:
        process(row)
    return len(rows)


def reprocess(row: InboundMessage) -> InboundMessage | None:
    """Give a kept-but-not-posted (or stuck) message another go, e.g. after a sender was unbanned
    or a department's setting changed. Messages that became a ticket, a reply or an event are
    left alone (None), so nothing is ever posted twice."""
    retry = [InboundStatus.REJECTED, InboundStatus.PENDING]
    reset = InboundMessage.objects.filter(pk=row.pk, status__in=retry).update(
        status=InboundStatus.PENDING, attempts=0, reason="", processed_at=None
    )
    if not reset:
        return None
    return process(InboundMessage.objects.get(pk=row.pk))


# ---------------------------------------------------------------------------- processing


def _count_attempt(row: InboundMessage) -> InboundMessage | None:
    """Count this attempt in its own transaction, so attempts cut short by a crash still count;
    give up on a message that keeps failing. None when there is nothing left to do."""
    with transaction.atomic():
        row = InboundMessage.objects.select_for_update().get(pk=row.pk)
        if row.status != InboundStatus.PENDING:
            return None
        if row.attempts >= MAX_ATTEMPTS:
            row.status = InboundStatus.REJECTED
            row.reason = _("Gave up after %(n)d attempts to process it. Last error: %(error)s") % {
                "n": row.attempts,
                "error": row.reason or _("the process stopped"),
            }
            row.processed_at = timezone.now()
            row.save(update_fields=["status", "reason", "processed_at"])
            return None
        InboundMessage.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
    return row


def process(
    row: InboundMessage, parsed: ParsedMessage | None = None, *, counted: bool = False, again: bool = True
) -> InboundMessage:
    """Decide what the stored message becomes, and record it on the row. `counted`: this
    attempt was already counted (a row just stored)."""
    if not counted and _count_attempt(row) is None:
        return InboundMessage.objects.get(pk=row.pk)
    try:
        with transaction.atomic():
            _commit_without_waiting()
            # The raw bytes stay in the database unless they must be parsed again.
            row = InboundMessage.objects.select_for_update().defer("raw").get(pk=row.pk)
            if row.status != InboundStatus.PENDING:
                return row  # another worker finished it while we waited for the lock
            parsed = parsed or parse(bytes(row.raw))
            try:
                with transaction.atomic():
                    outcome = route(row, parsed)
            except DATABASE_UNAVAILABLE:
                raise
            except services.TicketRefused as refused:
                # Kept like any refused mail (this row, with its bytes); the rule's count with it.
                services.count_refusal(refused)
                outcome = Outcome(
                    InboundStatus.REJECTED,
                    _("Refused by the routing rule “%(rule)s”. %(reason)s")
                    % {"rule": refused.rejection.rule_name, "reason": refused.rejection.reason},
                )
            except (PermissionDenied, ValidationError) as exc:
                outcome = Outcome(InboundStatus.REJECTED, _("Not posted: %(error)s") % {"error": _error_text(exc)})
            except Exception as exc:
                log.exception("Could not process received message %s", row.pk)
                outcome = Outcome(InboundStatus.REJECTED, _("Could not be processed: %(error)s") % {"error": exc})
            row.status, row.reason = outcome.status, outcome.reason
            row.ticket, row.entry = outcome.ticket, outcome.entry
            row.processed_at = timezone.now()
            row.save(update_fields=["status", "reason", "ticket", "entry", "processed_at"])
    except DATABASE_UNAVAILABLE as exc:
        _note_error(row, exc)
        raise
    except IntegrityError as exc:
        # PostgreSQL checks references at commit. Refused there, the likeliest cause is a
        # department, topic, status or priority this process still remembered
        # (tessera.process_memo) that was deleted meanwhile: read them again and try once more.
        # Otherwise the message stays pending, with the reason, for retry_inbound.
        process_memo.forget_all()
        if again:
            return process(row, parsed, again=False)
        _note_error(row, exc)
        return InboundMessage.objects.defer("raw").get(pk=row.pk)
    return row


def _commit_without_waiting() -> None:
    """PostgreSQL: let this transaction's commit return before its WAL reaches the disk.

    Safe here, and only here: the message's bytes were committed durably before processing
    began, so if the server crashed within the fraction of a second this gives up, the message
    would simply be PENDING again and processed again (retry_inbound), never lost. Whatever is
    committed durably later (the notifications queued after it) flushes this commit with it.
    Processing is most of ingest's time, and waiting for the flush was a large part of that."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _note_error(row: InboundMessage, exc: BaseException) -> None:
    """Best effort: say on the PENDING row why it is still waiting (the database may be gone)."""
    with contextlib.suppress(*DATABASE_UNAVAILABLE):
        InboundMessage.objects.filter(pk=row.pk, status=InboundStatus.PENDING).update(reason=str(exc)[:1000])


def _error_text(exc: PermissionDenied | ValidationError) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc)


def route(row: InboundMessage, parsed: ParsedMessage) -> Outcome:
    """What this message becomes. Runs inside the caller's transaction."""
    rejected = InboundStatus.REJECTED
    if not parsed.is_message:
        return Outcome(rejected, _("Not an email message: it has no headers."))
    address = _sender(parsed)
    if not address:
        return Outcome(rejected, _("The message has no sender address, so nobody could be answered."))
    ban = senders.banned(address)
    if ban is not None:
        reason = _("The sender is banned (%(pattern)s).") % {"pattern": ban.pattern}
        return Outcome(rejected, f"{reason} {ban.reason}".strip())
    if senders.over_limit(address):
        return Outcome(
            rejected,
            _("%(address)s sent more than %(n)d messages in the last hour; this one was kept, not posted.")
            % {"address": address, "n": settings.TESSERA["MAIL_SENDER_LIMIT_PER_HOUR"]},
        )
    if senders.is_ours(address) or outbound.sent_by_us(parsed.message_id):
        return Outcome(rejected, _("Mail loop: this message came from the help desk itself."))
    if parsed.bounce:
        return _bounce(parsed, address)
    ticket = threading.find_ticket(parsed)
    if parsed.auto_reply:
        if ticket is None:
            return Outcome(
                rejected, _("An automatic reply that answers no ticket (%(why)s).") % {"why": parsed.auto_reply}
            )
        services.record_mail_event(
            ticket, EventKind.AUTO_REPLY, address=address, detail=_summary(parsed), inbound_id=row.pk
        )
        return Outcome(
            InboundStatus.EVENT,
            _("Automatic reply (%(why)s): recorded, not answered.") % {"why": parsed.auto_reply},
            ticket,
        )
    if ticket is not None and (ticket.state == State.ARCHIVED or ticket.merged_into_id is not None):
        ticket = None  # nothing can be added there any more: start a new conversation
    if ticket is None:
        return _new_ticket(row, parsed, address)
    return _on_ticket(parsed, address, ticket)


def _summary(parsed: ParsedMessage) -> str:
    return clean_line(parsed.subject) or clean_line(parsed.text)[:200] or _("[No subject]")


def _bounce(parsed: ParsedMessage, address: str) -> Outcome:
    """A delivery failure report: on the ticket whose mail bounced, never answered."""
    ids = [i.strip().strip("<>") for i in parsed.bounce_ids if i.strip()]
    delivery = Delivery.objects.filter(message_id__in=ids).select_related("ticket").first() if ids else None
    ticket = delivery.ticket if delivery is not None else threading.find_ticket(parsed)
    ticket = threading.resolve_merged(ticket)
    detail = clean_line((parsed.bounce_text or "").strip().split("\n\n")[0])[:255] or _summary(parsed)
    if ticket is None:
        return Outcome(
            InboundStatus.REJECTED,
            _("A bounce about mail that belongs to no ticket: %(detail)s") % {"detail": detail},
        )
    failed = delivery.recipient if delivery is not None else address
    services.record_mail_event(
        ticket, EventKind.BOUNCE, address=failed, detail=detail, delivery_id=delivery.pk if delivery else None
    )
    if delivery is not None:
        outbound.record_bounce(delivery, detail)
    return Outcome(InboundStatus.EVENT, _("Bounce: recorded on the ticket."), ticket)


@dataclass(frozen=True)
class _Routes:
    departments: dict[str, Department]  # by their lower-cased address
    mailboxes: dict[str, Mailbox]  # by their lower-cased address, with department and topic
    portal_topic: HelpTopic | None  # the first help topic the portal offers
    first_department: Department | None


@process_memo.memo("accounts.Department", "mail.Mailbox", "tickets.HelpTopic")
def _routes() -> _Routes:
    """Where new tickets may land, read at most every few seconds per process (every message
    needs it; tessera.process_memo)."""
    departments: dict[str, Department] = {}
    for department in Department.objects.exclude(email="").order_by("pk"):
        departments.setdefault(department.email.strip().lower(), department)
    mailboxes: dict[str, Mailbox] = {}
    for mailbox in Mailbox.objects.select_related("department", "topic").order_by("pk"):
        mailboxes.setdefault(mailbox.address.strip().lower(), mailbox)
    return _Routes(
        departments=departments,
        mailboxes=mailboxes,
        portal_topic=HelpTopic.objects.filter(is_active=True, is_public=True).order_by("name").first(),
        first_department=Department.objects.order_by("pk").first(),
    )


def mailbox_for(recipients: Sequence[str]) -> Mailbox | None:
    """The configured mailbox whose address is an envelope recipient (the first such recipient
    wins), so new tickets land in its department and topic as with `ingest_email --mailbox`.
    None: route by the To and Cc headers, as for any other mail."""
    mailboxes = _routes().mailboxes
    return next((mailboxes[a] for a in (r.strip().lower() for r in recipients) if a in mailboxes), None)


def _intake_target(mailbox: Mailbox | None, parsed: ParsedMessage) -> tuple[Department | None, HelpTopic | None]:
    """Where a new ticket lands: the mailbox's department and topic; else the department whose
    address the message was sent to (the first recipient that is one), else the mailbox with
    that address; else the first help topic the portal offers."""
    if mailbox is not None:
        return mailbox.department, mailbox.topic
    routes = _routes()
    recipients = [a.email.strip().lower() for a in [*parsed.to, *parsed.cc] if a.email]
    for address in recipients:
        if address in routes.departments:
            return routes.departments[address], None
    for address in recipients:
        if address in routes.mailboxes:
            return routes.mailboxes[address].department, routes.mailboxes[address].topic
    if routes.portal_topic is not None:
        return None, routes.portal_topic
    return routes.first_department, None


def _new_ticket(row: InboundMessage, parsed: ParsedMessage, address: str) -> Outcome:
    department, topic = _intake_target(row.mailbox, parsed)
    body = _body(parsed, strip=False)
    subject = clean_line(parsed.subject)[: settings.TESSERA["MAX_SUBJECT_LENGTH"]] or _("[No subject]")
    # What open_ticket_for_guest does, without its transaction: this one (route's savepoint)
    # already undoes a new account if the ticket is refused.
    requester = end_user_for_email(email=address, name=parsed.sender.name if parsed.sender else "")
    ticket = services.open_ticket(
        requester,
        requester=requester,
        subject=subject,
        message=body.text,
        html=body.html,
        topic=topic,
        department=department,
        source=Source.EMAIL,
        uploads=body.uploads,
        routed=True,
        recipients=_recipients(row, parsed),
        keep_refusal=False,
    )
    opening = ticket.opening_entry  # type: ignore[attr-defined]  # set by services.open_ticket on the ticket it returns
    return Outcome(InboundStatus.TICKET, _("Opened ticket %(ref)s.") % {"ref": ticket.reference}, ticket, opening)


def _recipients(row: InboundMessage, parsed: ParsedMessage) -> list[str]:
    """The address the message came to, for routing rules: the mailbox that took it (envelope
    recipient or `--mailbox`), else the To and Cc addresses."""
    if row.mailbox is not None:
        return [row.mailbox.address]
    return [a.email for a in [*parsed.to, *parsed.cc] if a.email]


def _on_ticket(parsed: ParsedMessage, address: str, ticket: Ticket) -> Outcome:
    """A message on an existing ticket: the requester's or a collaborator's reply, an agent's
    note, or a stranger, whom the department either copies on the ticket or refuses."""
    # Stored lower-cased, as `address` is, so the index serves it; with the agent profile,
    # which the policy checks next.
    user = User.objects.select_related("agent").filter(email=address).first()
    body = _body(parsed, strip=True)
    added = _("Added to ticket %(ref)s.") % {"ref": ticket.reference}
    if user is not None and policy.acts_as_agent(user, ticket) and policy.can(user, Action.NOTE, ticket):
        entry = services.add_note(
            user, ticket, note=body.text, html=body.html, uploads=body.uploads, source=Source.EMAIL
        )
        return Outcome(
            InboundStatus.REPLY,
            _("Added to ticket %(ref)s as an internal note.") % {"ref": ticket.reference},
            ticket,
            entry,
        )
    if user is None or not policy.is_end_user_party(user, ticket):
        if ticket.department.unknown_senders == "refuse":
            reason = _("%(address)s is neither the requester nor copied on the ticket.") % {"address": address}
            services.record_mail_event(ticket, EventKind.MAIL_REFUSED, address=address, detail=_summary(parsed))
            return Outcome(InboundStatus.REJECTED, reason, ticket)
        user = end_user_for_email(email=address, name=parsed.sender.name if parsed.sender else "")
        services.copy_mail_sender(ticket, user=user)
        ticket.refresh_from_db()
    # Past the status's reopen window the reply opens a new ticket linked to this one (services/reopen.py).
    posted = services.reply_or_follow_up(
        user, ticket, message=body.text, html=body.html, uploads=body.uploads, source=Source.EMAIL, keep_refusal=False
    )
    if posted.follow_up:
        opened = _("Opened ticket %(new)s as a follow-up to %(ref)s, which can no longer be reopened.") % {
            "new": posted.ticket.reference,
            "ref": ticket.reference,
        }
        return Outcome(InboundStatus.TICKET, opened, posted.ticket, posted.entry)
    return Outcome(InboundStatus.REPLY, added, ticket, posted.entry)


def _body(parsed: ParsedMessage, *, strip: bool) -> Body:
    """The entry's text and HTML: quoted history cut from replies (the original stays on the
    InboundMessage), attachments that pass the upload rules, and a line for each file that was
    not kept and each part the parser could not read."""
    text, html = parsed.text or "", parsed.html or ""
    if strip:
        stripped = strip_quoted(text, html, settings.TESSERA["REPLY_MARKER"])
        if stripped.stripped and (stripped.text or "").strip():
            text, html = stripped.text, stripped.html or ""
    uploads, notes = _uploads(parsed)
    notes = [*parsed.problems, *notes]
    text = text.replace("\r\n", "\n").strip() or _("(This message had no text.)")
    if not html.strip():
        html = linebreaks(text, autoescape=True)
    limit = settings.TESSERA["MAX_MESSAGE_LENGTH"]
    room = limit - sum(len(n) + 2 for n in notes) - 200
    if len(text) > room:
        notes.append(_("The message was shortened; the full original is kept."))
        text = text[: max(room, 0)].rstrip()
        html = linebreaks(text, autoescape=True)
    if notes:
        text = text + "\n\n" + "\n".join(notes)
        html = html + "".join(f'<p class="mail-note"><em>{escape(n)}</em></p>' for n in notes)
    return Body(text=text, html=html, uploads=uploads)


def _uploads(parsed: ParsedMessage) -> tuple[list[attachment_store.Upload], list[str]]:
    """Each file checked alone against the upload rules, so one refused file never stops the
    message; files past the count limit are refused by name."""
    kept: list[attachment_store.Upload] = []
    notes: list[str] = []
    limit = settings.TESSERA["MAX_ATTACHMENTS"]
    for part in parsed.attachments:
        upload = attachment_store.Upload(
            name=part.filename, content=part.data, content_type=part.content_type, content_id=part.content_id
        )
        try:
            attachment_store.validate_uploads([upload])
        except ValidationError as exc:
            why = " ".join(str(m) for m in exc.messages)
            notes.append(_("Attachment %(name)s was not kept: %(why)s") % {"name": part.filename, "why": why})
            continue
        if len(kept) >= limit:
            notes.append(
                _("Attachment %(name)s was not kept: at most %(n)d files are kept per message.")
                % {"name": part.filename, "n": limit}
            )
            continue
        kept.append(upload)
    return kept, notes
