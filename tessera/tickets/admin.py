from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import AlertSetting, HelpTopic, Priority, Status


@admin.register(Priority)
class PriorityAdmin(admin.ModelAdmin):
    list_display = ["name", "urgency", "colour", "is_default"]


@admin.register(Status)
class StatusAdmin(admin.ModelAdmin):
    list_display = ["name", "state", "order", "is_default"]
    list_filter = ["state"]


@admin.register(HelpTopic)
class HelpTopicAdmin(admin.ModelAdmin):
    list_display = ["name", "department", "default_priority", "is_public", "is_active"]
    list_filter = ["department", "is_public", "is_active"]


@admin.register(AlertSetting)
class AlertSettingAdmin(admin.ModelAdmin):
    """One row per event, made by a migration: administrators tick who hears about it."""

    list_display = ["event", "assignee", "team", "department", "manager"]
    list_editable = ["assignee", "team", "department", "manager"]
    readonly_fields = ["event"]
    fieldsets = [
        (
            None,
            {
                "fields": ["event", "assignee", "team", "department", "manager"],
                "description": _(
                    "Overdue alerts can be configured here, but Tessera does not send them yet: nothing "
                    "marks a ticket overdue and alerts about it."
                ),
            },
        )
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one row per event, made by the migration

    def has_delete_permission(self, request: HttpRequest, obj: AlertSetting | None = None) -> bool:
        return False
