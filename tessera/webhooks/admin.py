"""Webhooks in the configuration admin: subscriptions, and the delivery log with redelivery.

The signing secret is shown on a subscription's page to superusers only (models.py says why
it is kept readable at all); rotating it is an action, so a leaked secret is one click away
from useless.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .events import WebhookEvent
from .models import Attempt, Delivery, Subscription, SubscriptionState


class SubscriptionForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=_("events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Subscription
        fields = ["name", "url", "events", "owner", "state"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ["name", "url", "state", "consecutive_failures", "paused_at", "owner"]
    list_filter = ["state"]
    search_fields = ["name", "url"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["signing_secret", "consecutive_failures", "paused_at", "pause_reason", "created_at"]
    actions = ["resume", "pause", "rotate_secret"]

    @admin.display(description=_("signing secret"))
    def signing_secret(self, obj: Subscription) -> str:
        if obj.pk is None:
            return str(_("Made when the subscription is saved."))
        return format_html("<code>{}</code>", obj.secret)

    @admin.display(description=_("signing secret"))
    def signing_secret_hidden(self, obj: Subscription) -> str:
        return str(_("Shown to superusers only."))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields[fields.index("signing_secret")] = "signing_secret_hidden"
        return fields

    def save_model(self, request: HttpRequest, obj: Subscription, form: Any, change: bool) -> None:
        was = Subscription.objects.filter(pk=obj.pk).values_list("state", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        if was == SubscriptionState.PAUSED and obj.state == SubscriptionState.ACTIVE:
            services.resume(obj)

    @admin.action(description=_("Resume the selected subscriptions (send what waited)"), permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        for subscription in queryset:
            services.resume(subscription)
        self.message_user(
            request,
            ngettext("%(count)d subscription resumed.", "%(count)d subscriptions resumed.", len(queryset))
            % {"count": len(queryset)},
            messages.SUCCESS,
        )

    @admin.action(description=_("Pause the selected subscriptions"), permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        count = sum(services.pause(s, str(_("Paused by %(name)s.") % {"name": request.user})) for s in queryset)
        self.message_user(
            request,
            ngettext("%(count)d subscription paused.", "%(count)d subscriptions paused.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Make a new signing secret for the selected subscriptions"), permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        for subscription in queryset:
            services.rotate_secret(subscription)
        self.message_user(
            request,
            _("New secrets made: give each receiver its new secret (shown on the subscription's page)."),
            messages.WARNING,
        )


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    fields = ["at", "response_code", "duration_ms", "error"]
    readonly_fields = ["at", "response_code", "duration_ms", "error"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The log: every delivery, what the receiver answered and how long it took."""

    list_display = [
        "created_at",
        "subscription",
        "event",
        "ticket_number",
        "sequence",
        "status",
        "attempts",
        "last_response_code",
        "last_duration_ms",
        "next_attempt_at",
    ]
    list_filter = ["status", "event", "subscription"]
    list_select_related = ["subscription", "ticket"]
    search_fields = ["=uid", "=ticket__number"]
    date_hierarchy = "created_at"
    inlines = [AttemptInline]
    actions = ["redeliver"]

    @admin.display(description=_("ticket"), ordering="ticket__number")
    def ticket_number(self, obj: Delivery) -> int:
        return obj.ticket.number

    @admin.display(description=_("payload"))
    def payload_json(self, obj: Delivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False))

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [
            "uid",
            "subscription",
            "ticket",
            "sequence",
            "event",
            "status",
            "attempts",
            "next_attempt_at",
            "last_response_code",
            "last_duration_ms",
            "last_error",
            "created_at",
            "delivered_at",
            "redelivery_of",
            "payload_json",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Redeliver the selected deliveries"), permissions=["change"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = 0
        for delivery in queryset.order_by("ticket_id", "sequence"):
            services.redeliver(delivery)
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery queued again, at the end of its ticket's queue.",
                "%(count)d deliveries queued again, each at the end of its ticket's queue.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
