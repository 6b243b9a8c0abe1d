"""The osTicket-compatible endpoints: plain Django views, no session, no CSRF (a key is the
only credential), answering as osTicket's clients expect (`answers`).

Order of checks, as osTicket's: the URL and method (400 `URL not supported`), then the key
(401), then the body (400), then the fields. Tickets are opened by the requester (found or
made from the address, as the portal and mail do) through `services.open_ticket`, with the key
named as the channel on every Event; `tickets.email` hands the raw message to the mail
pipeline, which threads it and ignores a second delivery of the same Message-ID.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from tessera.accounts.services import end_user_for_email
from tessera.api import keys
from tessera.api.auth import channel_label, client_address
from tessera.api.models import ApiKey, Scope
from tessera.customfields import json_values
from tessera.mail import ingest
from tessera.mail.models import Channel, InboundStatus
from tessera.tickets import channel, policy, services
from tessera.tickets.models import Ticket

from . import answers, parse_json, parse_xml, submission

FORMATS = ("json", "xml", "email")
_MB = 1024 * 1024


def _stateless(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """No cookie on any answer (osTicket sets a session cookie on every API call): a browser
    session that happens to come along is neither used nor saved."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        session = getattr(request, "session", None)
        if session is not None:
            session.modified = False
            session.accessed = False
        return response

    return csrf_exempt(wrapper)


@_stateless
def unsupported(request: HttpRequest, **_kwargs: object) -> HttpResponse:
    return answers.text(400, answers.URL_NOT_SUPPORTED)


@_stateless
def tickets(request: HttpRequest, *, fmt: str) -> HttpResponse:
    if request.method != "POST" or fmt not in FORMATS:
        return answers.text(400, answers.URL_NOT_SUPPORTED)
    try:
        key = keys.authenticate(request.headers.get("X-API-Key"), client_address(request))
    except keys.Refused as refused:
        return answers.text(401, answers.REFUSALS[refused.reason])
    if not key.has_scope(Scope.OSTICKET):
        return answers.text(401, answers.KEY_NOT_AUTHORISED)
    decision = keys.take_turn(key)
    if not decision.allowed:
        return answers.text(
            429,
            _("Too many requests with this key. Try again in %(seconds)d seconds.") % {"seconds": decision.retry_after},
            headers={"Retry-After": str(decision.retry_after)},
        )
    request.api_key = key  # type: ignore[attr-defined]  # for channel_label
    body = _body(request, _limit(fmt))
    if body is None:
        return answers.text(413, _("The request is too large."))
    if fmt == "email":
        return _email(request, body)
    try:
        raw = parse_json.parse(body) if fmt == "json" else parse_xml.parse(body)
    except parse_json.MalformedJson:
        return answers.text(400, answers.MALFORMED_JSON)
    except parse_xml.MalformedXml as exc:
        return answers.text(400, str(exc))
    try:
        prepared = submission.prepare(raw)
    except submission.Invalid as invalid:
        return answers.unable(invalid.errors)
    return _open(request, key, prepared)


def _limit(fmt: str) -> int:
    """Room for the largest file a ticket may keep, base64-encoded, and the message."""
    if fmt == "email":
        return int(settings.TESSERA["MAIL_MAX_MESSAGE_BYTES"])
    largest = int(settings.TESSERA["MAX_ATTACHMENT_BYTES"]) * 4 // 3
    return max(int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0), largest + 2 * _MB)


def _body(request: HttpRequest, limit: int) -> bytes | None:
    """The body, read up to `limit` bytes (None beyond it). Read from the stream, so Django's
    form-size limit, meant for browsers, does not turn a large attachment into a 400."""
    length = request.META.get("CONTENT_LENGTH") or ""
    if length.isdecimal() and int(length) > limit:
        return None
    data = request.read(limit + 1)
    return None if len(data) > limit else data


def _custom_values(prepared: submission.Prepared) -> dict[str, object] | None:
    """The custom answers to give open_ticket. Each was checked alone; a required field left out
    would refuse the whole ticket, which osTicket's API would not do for an extra key: such
    answers are then not given at all, and each is a warning instead."""
    if not prepared.custom:
        return None
    missing = json_values.missing_required(prepared.topic, prepared.custom)
    if not missing:
        return prepared.custom
    for key in prepared.custom:
        prepared.warnings.append(
            (key[:100], _("not kept: the required fields %(keys)s were not given") % {"keys": ", ".join(missing)})
        )
    return None


def _open(request: HttpRequest, key: ApiKey, prepared: submission.Prepared) -> HttpResponse:
    try:
        with channel.acting_via(channel_label(request)), transaction.atomic():
            requester = end_user_for_email(email=prepared.email, name=prepared.name, phone=prepared.phone)
            if policy.is_desk_staff(requester):
                # The requester is the actor here: "Ada Admin opened the ticket" must not be
                # something an integration can make appear, nor borrow her rights to open it.
                raise ValidationError(
                    {"email": _("This address belongs to a member of the help desk staff; use a customer's address.")}
                )
            ticket = services.open_ticket(
                requester,
                requester=requester,
                subject=prepared.subject,
                message=prepared.text,
                html=prepared.html,
                topic=prepared.topic,
                department=prepared.department,
                priority=prepared.priority,
                source=prepared.source,
                uploads=prepared.uploads,
                routed=True,  # the key's administrator let this integration in: any topic, any priority
                keep_refusal=False,
                acknowledge=prepared.autorespond,
                alert=prepared.alert,
                custom_values=_custom_values(prepared),
            )
            services.record_intake_warnings(ticket, prepared.warnings, phone=prepared.phone, address=prepared.ip)
    except services.TicketRefused as refused:
        services.record_refusal(refused)
        return _denied(prepared.email, " ".join(refused.messages))
    except ValidationError as exc:
        return answers.unable(_errors(exc))
    except PermissionDenied as exc:
        return _denied(prepared.email, str(exc))
    return _created(ticket, prepared.warnings)


def _email(request: HttpRequest, body: bytes) -> HttpResponse:
    if not body.strip():
        return answers.unable([("user", answers.INCOMPLETE_CLIENT)])
    with channel.acting_via(channel_label(request)):
        row = ingest.ingest(body, channel=Channel.API)
    if row.status in (InboundStatus.TICKET, InboundStatus.REPLY, InboundStatus.EVENT) and row.ticket is not None:
        return _created(row.ticket, [])
    if row.status == InboundStatus.PENDING:
        return answers.text(503, _("The message is kept; try again later."), headers={"Retry-After": "60"})
    if not row.sender:
        return answers.unable([("user", answers.INCOMPLETE_CLIENT)])
    return _denied(row.sender, row.reason)


def _created(ticket: Ticket, warnings: list[tuple[str, str]]) -> HttpResponse:
    headers = {answers.WARNINGS_HEADER: answers.warnings_header(warnings)} if warnings else None
    return answers.text(201, str(ticket.number), headers=headers)


def _denied(email: str, reason: str) -> HttpResponse:
    """osTicket's refusal shape (filters, bans): 403, the address, then why."""
    return answers.text(403, f"{answers.UNABLE}Ticket denied: {email}\n\n{reason}".strip())


def _errors(exc: ValidationError) -> list[tuple[str, str]]:
    if not hasattr(exc, "error_dict"):
        return [("ticket", message) for message in exc.messages]
    return [
        ("user" if field in ("email", "requester") else field, message)
        for field, messages in exc.message_dict.items()
        for message in messages
    ]
