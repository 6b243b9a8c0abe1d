"""Administrators write escalation rules here; the round-robin turns and the record of what each
rule did are shown read-only, for answering "why did this ticket move?"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import EscalationRule, EscalationRun


class EscalationRuleForm(forms.ModelForm):
    class Meta:
        model = EscalationRule
        fields = [
            "name",
            "is_active",
            "department",
            "trigger",
            "minutes",
            "priority_change",
            "priority",
            "assign_team",
            "assign_agent",
            "notify",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        acts = any(cleaned.get(name) for name in ("priority_change", "assign_team", "assign_agent", "notify"))
        if not self.errors and not acts:
            raise forms.ValidationError(
                _("Choose what the rule does: raise the priority, hand the ticket to a team or agent, or tell agents.")
            )
        return cleaned


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    form = EscalationRuleForm
    list_display = ["name", "trigger", "minutes", "department", "priority_change", "is_active"]
    list_filter = ["is_active", "trigger", "department"]
    search_fields = ["name"]
    filter_horizontal = ["notify"]
    fieldsets = [
        (None, {"fields": ["name", "is_active", "department"]}),
        (_("When"), {"fields": ["trigger", "minutes"]}),
        (_("What it does"), {"fields": ["priority_change", "priority", "assign_team", "assign_agent", "notify"]}),
    ]


@admin.register(EscalationRun)
class EscalationRunAdmin(admin.ModelAdmin):
    list_display = ["rule", "ticket", "breach_key", "created_at"]
    list_filter = ["rule"]
    readonly_fields = ["rule", "ticket", "breach_key", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
