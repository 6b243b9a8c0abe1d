"""Checking what an osTicket client sent, and deciding what to do with each part.

Missing or unusable requester, subject or message refuse the request with osTicket's own
field keys and sentences. Everything else osTicket would drop without a word (an unknown help
topic or priority, base64 that does not decode, a file over the limit or of a blocked type, a
key that names no custom field) becomes a warning: the ticket still opens, and each warning is
written on it and listed in the answer's `X-Tessera-Warnings` header. No lookup leaves the
process while checking (no DNS for the address, unlike osTicket).

Custom fields by name, as osTicket's API takes them: a top-level key that is the key of a field
the requester answers for the topic is that field's answer (a choice by its label, a multiple
choice as comma-separated labels, a checkbox as true/false). An answer the field refuses, or a
field the requester does not answer, is a warning with the value as sent, not a refusal.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from tessera.accounts.models import Department, User
from tessera.customfields import json_values
from tessera.tickets import attachments as attachment_store
from tessera.tickets import selectors
from tessera.tickets.content import clean_line, from_html
from tessera.tickets.models import HelpTopic, Priority, Source

from . import answers, data_urls
from .raw_request import RawFile, RawRequest

KNOWN = frozenset(
    {"name", "email", "phone", "subject", "ip", "topicId", "priority", "priorityId", "source", "alert", "autorespond"}
)
MAX_WARNINGS = 20
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class Invalid(Exception):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass
class Prepared:
    email: str
    name: str
    subject: str
    text: str
    html: str | None
    topic: HelpTopic | None
    department: Department | None
    priority: Priority | None
    source: str
    alert: bool
    autorespond: bool
    phone: str
    ip: str
    uploads: list[attachment_store.Upload] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    custom: dict[str, object] = field(default_factory=dict)  # open_ticket's custom_values


def prepare(raw: RawRequest) -> Prepared:
    """The request ready for open_ticket, or `Invalid` with osTicket's errors."""
    warnings: list[tuple[str, str]] = list(raw.problems)
    values = raw.values

    def value(name: str) -> str:
        got = values.get(name)
        if got is None and name in values:
            warnings.append((name, _("the value must be text; it was not used")))
        return (got or "").strip()

    errors: list[tuple[str, str]] = []
    email, name = value("email").lower(), clean_line(value("name"))[:150]
    try:
        validate_email(email)  # a pattern, never a DNS lookup
    except ValidationError:
        errors.append(("user", answers.INCOMPLETE_CLIENT))
    else:
        if not name and not User.objects.filter(email=email).exists():
            errors.append(("user", answers.INCOMPLETE_CLIENT))
    subject = value("subject")
    if not clean_line(subject):
        errors.append(("subject", answers.SUBJECT_REQUIRED))
    text, html = _message(raw, warnings)
    if not text.strip():
        errors.append(("message", answers.MESSAGE_REQUIRED))
    if errors or not raw.is_object:
        raise Invalid(errors or [("user", answers.INCOMPLETE_CLIENT)])

    topic = _topic(value("topicId"), warnings)
    priority_name = "priorityId" if values.get("priorityId") is not None else "priority"
    prepared = Prepared(
        email=email,
        name=name,
        subject=subject,
        text=text,
        html=html,
        topic=topic,
        department=None if topic is not None else _default_department(),
        priority=_priority(priority_name, value(priority_name), warnings),
        source=_source(value("source"), warnings),
        alert=_flag("alert", value("alert"), warnings),
        autorespond=_flag("autorespond", value("autorespond"), warnings),
        phone=clean_line(value("phone"))[:60],
        ip=_ip(value("ip"), warnings),
    )
    prepared.uploads = _uploads(raw.files, warnings)
    others = {name: values[name] or "" for name in values if name not in KNOWN}
    custom, refused, unknown_keys = json_values.loose_input(topic, others)
    prepared.custom = custom
    for name, why in refused.items():
        shown = clean_line(others[name])[:200]
        warnings.append(
            (name[:100], _("“%(value)s” was not kept: %(why)s") % {"value": shown, "why": clean_line(why)[:300]})
        )
    for unknown in unknown_keys:
        shown = clean_line(others[unknown])[:200]
        warnings.append(
            (
                unknown[:100],
                _("unknown field (no custom field has this key); its value “%(value)s” was not kept")
                % {"value": shown},
            )
        )
    if len(warnings) > MAX_WARNINGS:
        extra = len(warnings) - MAX_WARNINGS + 1
        warnings = [*warnings[: MAX_WARNINGS - 1], ("request", _("%(n)d more problems not listed") % {"n": extra})]
    prepared.warnings = warnings
    return prepared


def _message(raw: RawRequest, warnings: list[tuple[str, str]]) -> tuple[str, str | None]:
    """The message's plain text and, for an HTML message, its HTML."""
    body = raw.message or ""
    media_type, charset = (raw.message_type or "text/plain").lower(), raw.message_charset
    if data_urls.is_data_url(body):
        try:
            url = data_urls.parse(body)
            media_type, charset = url.media_type, url.charset
            body = url.text()
        except data_urls.DataUrlError as exc:
            warnings.append(("message", _("%(why)s; the message was kept as sent") % {"why": exc}))
    elif raw.message_encoding.lower() == "base64":
        try:
            body = data_urls.decode_text(data_urls.decode_base64(body), charset)
        except data_urls.DataUrlError as exc:
            warnings.append(("message", _("%(why)s; the message was kept as sent") % {"why": exc}))
    if charset and not data_urls.known_charset(charset):
        warnings.append(("message", _("unknown charset “%(charset)s”; read as UTF-8") % {"charset": charset[:40]}))
    body = body.replace("\x00", "")  # decoded base64 may hold what no database stores
    if media_type == "text/html":
        clean, text = from_html(body)
        return text, clean
    if media_type != "text/plain":
        warnings.append(("message", _("type “%(type)s” read as plain text") % {"type": media_type[:60]}))
    return body, None


def _topic(value: str, warnings: list[tuple[str, str]]) -> HelpTopic | None:
    if not value:
        return None
    topic = None
    if value.isdecimal() and len(value) < 10:
        try:
            topic = selectors.intake_topic(int(value), active_only=True)
        except HelpTopic.DoesNotExist:
            topic = None
    if topic is None:
        why = _("no active help topic %(id)s; the ticket went to the default department") % {"id": value[:40]}
        warnings.append(("topicId", why))
    return topic


def _default_department() -> Department | None:
    """Where a ticket without a topic goes, as with mail that names no department: the first
    public help topic's department, else the first department."""
    public = HelpTopic.objects.filter(is_active=True, is_public=True)
    topic = public.select_related("department").order_by("name").first()
    return topic.department if topic is not None else Department.objects.order_by("pk").first()


def _priority(name: str, value: str, warnings: list[tuple[str, str]]) -> Priority | None:
    """A priority by id (osTicket's way) or by name."""
    if not value:
        return None
    found = None
    if value.isdecimal() and len(value) < 10:
        found = Priority.objects.filter(pk=int(value)).first()
    if found is None:
        found = Priority.objects.filter(name__iexact=value[:60]).first()
    if found is None:
        warnings.append((name, _("no priority “%(value)s”; the default priority was used") % {"value": value[:40]}))
    return found


def _source(value: str, warnings: list[tuple[str, str]]) -> str:
    lowered = value.lower()
    if lowered in ("", "api"):
        return Source.API
    if lowered == "phone":
        return Source.PHONE
    why = _("“%(value)s” is not a source for API tickets; recorded as API") % {"value": value[:40]}
    warnings.append(("source", why))
    return Source.API


def _flag(name: str, value: str, warnings: list[tuple[str, str]]) -> bool:
    lowered = value.lower()
    if lowered in _FALSE:
        return False
    if lowered and lowered not in _TRUE:
        warnings.append((name, _("“%(value)s” is neither true nor false; true was used") % {"value": value[:40]}))
    return True


def _ip(value: str, warnings: list[tuple[str, str]]) -> str:
    if not value:
        return ""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        warnings.append(("ip", _("“%(value)s” is not an IP address; it was not kept") % {"value": value[:60]}))
        return ""


def _uploads(files: list[RawFile], warnings: list[tuple[str, str]]) -> list[attachment_store.Upload]:
    """Each file decoded and checked alone, like mail's: one bad file never stops the others."""
    kept: list[attachment_store.Upload] = []
    limit = settings.TESSERA["MAX_ATTACHMENTS"]
    for item in files:
        name = item.name or "attachment"
        try:
            upload = _upload(item, name)
            attachment_store.validate_uploads([upload])
        except data_urls.DataUrlError as exc:
            warnings.append(("attachments", _("“%(name)s” was not kept: %(why)s") % {"name": name[:100], "why": exc}))
            continue
        except ValidationError as exc:
            why = " ".join(str(m) for m in exc.messages)
            warnings.append(("attachments", _("“%(name)s” was not kept: %(why)s") % {"name": name[:100], "why": why}))
            continue
        if len(kept) >= limit:
            why = _("“%(name)s” was not kept: at most %(n)d files are kept") % {"name": name[:100], "n": limit}
            warnings.append(("attachments", why))
            continue
        kept.append(upload)
    return kept


def _upload(item: RawFile, name: str) -> attachment_store.Upload:
    if item.encoding:  # XML: the element's text, base64 or as it is
        if item.encoding.lower() != "base64":
            raise data_urls.DataUrlError(_("unknown encoding “%(encoding)s”") % {"encoding": item.encoding[:40]})
        content = data_urls.decode_base64(item.payload)
        return attachment_store.Upload(name=name, content=content, content_type=item.content_type)
    if data_urls.is_data_url(item.payload):
        url = data_urls.parse(item.payload)
        content_type = item.content_type or url.media_type
        return attachment_store.Upload(name=name, content=url.content(), content_type=content_type)
    return attachment_store.Upload(
        name=name, content=item.payload.encode("utf-8"), content_type=item.content_type or "text/plain"
    )
