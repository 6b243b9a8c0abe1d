from django.contrib import admin
from django.http import HttpRequest

from .models import PortalSettings


@admin.register(PortalSettings)
class PortalSettingsAdmin(admin.ModelAdmin):
    """One row, made by the migration: it can be changed, never added twice or deleted."""

    list_display = ["__str__", "registration"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not PortalSettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
