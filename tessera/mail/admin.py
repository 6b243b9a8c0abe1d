"""The mail part of the configuration admin (administrators only, like the rest of /admin/):
notification wording, IMAP mailboxes, banned senders, and read-only records of what arrived and
what was sent. Received mail and delivery records are evidence: nobody adds, edits or deletes them
here."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import ingest, templates
from .forms import BannedSenderForm, EmailTemplateForm, MailboxForm
from .models import BannedSender, Delivery, EmailTemplate, InboundMessage, Mailbox

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups

    from tessera.tickets.models import Ticket

log = logging.getLogger(__name__)

RAW_SHOWN_BYTES = 200_000


def _ticket_link(ticket: Ticket | None) -> str:
    if ticket is None:
        return "—"
    return format_html('<a href="{}">{}</a>', reverse("staff:ticket", args=[ticket.number]), ticket.reference)


def _short(text: str, length: int = 80) -> str:
    return Truncator(text or "").chars(length)


def _variables_table(notice: templates.Notice) -> str:
    rows = format_html_join(
        "",
        "<tr><td><code>{{{{ {} }}}}</code></td><td>{}</td></tr>",
        ((v.name, v.description) for v in notice.all_variables),
    )
    return format_html("<p>{}</p><table>{}</table>", notice.description, rows)


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    form = EmailTemplateForm
    list_display = ["notice_label", "language", "subject", "updated_at"]
    list_filter = ["language"]
    readonly_fields = ["notice_label", "variables", "preview"]

    def get_fields(self, request: HttpRequest, obj: EmailTemplate | None = None) -> _FieldGroups:
        if obj is None:
            return ["notice", "language", "subject", "body", "variables"]
        return ["notice_label", "language", "subject", "body", "variables", "preview"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One wording per notification and language (blank: all languages); when every pair is
        # reworded there is nothing to add.
        possible = len(templates.NOTICES) * (len(settings.LANGUAGES) + 1)
        return super().has_add_permission(request) and EmailTemplate.objects.count() < possible

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        taken = set(EmailTemplate.objects.values_list("notice", flat=True))
        builtin = [str(n.label) for n in templates.NOTICES.values() if n.key not in taken]
        if builtin and request.method == "GET":
            messages.info(
                request,
                gettext("Still using the built-in wording: %(list)s. Add an email template to reword one.")
                % {"list": "; ".join(builtin)},
            )
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("notification"), ordering="notice")
    def notice_label(self, obj: EmailTemplate) -> str:
        notice = templates.NOTICES.get(obj.notice)
        return str(notice.label) if notice else obj.notice

    @admin.display(description=_("variables you can use"))
    def variables(self, obj: EmailTemplate | None) -> str:
        intro = format_html(
            "<p>{}</p>",
            gettext(
                "Write {{ name }} to insert a variable; built-in filters and {%% if %%}, {%% with %%} work. "
                "Each notification, who gets it and examples are described in %(docs)s."
            )
            % {"docs": templates.DOCS},
        )
        notice = templates.NOTICES.get(obj.notice) if obj and obj.pk else None
        if notice:
            return intro + _variables_table(notice)
        parts = format_html_join(
            "", "<h4>{}</h4>{}", ((n.label, _variables_table(n)) for n in templates.NOTICES.values())
        )
        return intro + parts

    @admin.display(description=_("preview with a made-up ticket"))
    def preview(self, obj: EmailTemplate | None) -> str:
        if obj is None or not obj.pk or obj.notice not in templates.NOTICES:
            return "—"
        try:
            subject, text, html = templates.render_strings(obj.subject, obj.body, templates.sample_context(obj.notice))
        except Exception as exc:  # a row saved without the form's checks: show why instead of failing
            return format_html("<p>{}</p><pre>{}</pre>", gettext("This template cannot be rendered:"), exc)
        return format_html(
            '<p><strong>{}</strong> {}</p><pre style="white-space:pre-wrap">{}</pre>'
            '<iframe sandbox srcdoc="{}" style="width:100%;height:320px;border:1px solid #ddd"></iframe>',
            gettext("Subject:"),
            subject,
            text,
            escape(html),  # escape() even though it is marked safe: it goes into an attribute
        )


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = ["name", "address", "department", "is_active", "last_polled_at", "last_error_short"]
    list_filter = ["is_active", "department"]
    search_fields = ["name", "address", "host"]
    readonly_fields = ["last_polled_at", "last_error", "consecutive_failures"]

    @admin.display(description=_("last error"))
    def last_error_short(self, obj: Mailbox) -> str:
        return _short(obj.last_error)


@admin.register(BannedSender)
class BannedSenderAdmin(admin.ModelAdmin):
    form = BannedSenderForm
    list_display = ["pattern", "reason", "created_at"]
    search_fields = ["pattern", "reason"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "status", "channel", "sender", "subject", "reason_short", "ticket_link"]
    list_filter = ["status", "channel", "mailbox"]
    search_fields = ["sender", "subject", "message_id"]
    ordering = ["-received_at"]
    date_hierarchy = "received_at"
    list_select_related = ["ticket"]
    fields = [
        "received_at",
        "status",
        "reason",
        "ticket_link",
        "entry",
        "channel",
        "mailbox",
        "sender",
        "subject",
        "message_id",
        "size",
        "attempts",
        "processed_at",
        "raw_source",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # the stubs allow field groups in `fields`; these are plain names
    actions = ["reprocess"]

    @admin.action(description=_("Process the selected messages again"))
    def reprocess(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        """Kept-but-not-posted and stuck messages get another go (ingest.reprocess); messages
        that already became a ticket, reply or event are skipped, so nothing is posted twice."""
        done, failed, skipped = 0, 0, 0
        for message in queryset.order_by("received_at"):
            try:
                if ingest.reprocess(message) is None:
                    skipped += 1
                else:
                    done += 1
            except Exception:  # one bad message must not stop the others; the log has the cause
                log.exception("Reprocessing inbound message %s failed", message.pk)
                failed += 1
        if done:
            self.message_user(
                request, ngettext("%d message processed again.", "%d messages processed again.", done) % done
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%d message was already posted and was left as it is.",
                    "%d messages were already posted and were left as they are.",
                    skipped,
                )
                % skipped,
                messages.WARNING,
            )
        if failed:
            self.message_user(
                request,
                ngettext("%d message failed; see the log.", "%d messages failed; see the log.", failed) % failed,
                messages.ERROR,
            )

    @admin.display(description=_("what happened"))
    def reason_short(self, obj: InboundMessage) -> str:
        return _short(obj.reason)

    @admin.display(description=_("ticket"), ordering="ticket__number")
    def ticket_link(self, obj: InboundMessage) -> str:
        return _ticket_link(obj.ticket)

    @admin.display(description=_("raw message"))
    def raw_source(self, obj: InboundMessage) -> str:
        raw = bytes(obj.raw or b"")
        text = raw[:RAW_SHOWN_BYTES].decode("utf-8", errors="replace")
        more = len(raw) > RAW_SHOWN_BYTES
        note = gettext("(first %(n)s bytes of %(size)s)") % {"n": RAW_SHOWN_BYTES, "size": len(raw)} if more else ""
        return format_html('<pre style="white-space:pre-wrap;max-height:40em;overflow:auto">{}</pre>{}', text, note)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "ticket_link", "notice", "recipient", "status", "attempts", "last_error_short"]
    list_filter = ["status", "notice"]
    search_fields = ["recipient", "message_id", "ticket__number"]
    ordering = ["-created_at"]
    list_select_related = ["ticket"]
    fields = [
        "ticket_link",
        "notice",
        "recipient",
        "status",
        "attempts",
        "last_error",
        "message_id",
        "created_at",
        "sent_at",
        "next_attempt_at",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # the stubs allow field groups in `fields`; these are plain names

    @admin.display(description=_("ticket"), ordering="ticket__number")
    def ticket_link(self, obj: Delivery) -> str:
        return _ticket_link(obj.ticket)

    @admin.display(description=_("last error"))
    def last_error_short(self, obj: Delivery) -> str:
        return _short(obj.last_error)
