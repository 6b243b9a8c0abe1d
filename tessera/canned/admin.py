"""Canned responses in the configuration admin: the same rows the workspace manages, for
administrators (who manage every response). The text is checked by the same rules as in the
workspace (canned.services.validate_text: unknown variables and foreign template syntax are
refused); the admin's audit hooks record every change made here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from . import services
from .models import CannedAttachment, CannedResponse


class CannedResponseAdminForm(forms.ModelForm):
    class Meta:
        model = CannedResponse
        fields = ["title", "body", "departments", "is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        errors = services.validate_text(data.get("title", ""), data.get("body", ""))
        if errors:
            raise ValidationError(errors)
        return data


class CannedAttachmentInline(admin.TabularInline):
    model = CannedAttachment
    extra = 0
    fields = ["name", "size", "content_type"]
    readonly_fields = ["name", "size", "content_type"]
    can_delete = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # files are added in the workspace, where they are checked like any upload


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    form = CannedResponseAdminForm
    list_display = ["title", "is_active", "usage_count", "updated_at"]
    list_filter = ["is_active", "departments"]
    search_fields = ["title", "body"]
    filter_horizontal = ["departments"]
    readonly_fields = ["usage_count", "created_by", "created_at", "updated_at"]
    inlines = [CannedAttachmentInline]

    def save_model(self, request: HttpRequest, obj: CannedResponse, form: Any, change: bool) -> None:
        if not change and request.user.is_authenticated:
            obj.created_by = request.user
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CannedResponse]:
        return super().get_queryset(request).prefetch_related("departments")
