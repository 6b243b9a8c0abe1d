from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .models import PortalSettings


@admin.register(PortalSettings)
class PortalSettingsAdmin(admin.ModelAdmin):
    """One row (made by the migration): the list opens it, it is never added or deleted."""

    list_display = ["__str__", "registration"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            return super().changelist_view(request, extra_context)
        if not PortalSettings.objects.filter(pk=1).exists():
            PortalSettings.load().save()  # a desk whose row went missing gets the defaults back
        return HttpResponseRedirect(reverse("admin:portal_portalsettings_change", args=[1]))
