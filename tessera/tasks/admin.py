"""Tasks in the configuration admin: read-only, as every change goes through tasks.services."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Task, TaskEntry, TaskEvent


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class EntryInline(admin.TabularInline):
    model = TaskEntry
    extra = 0
    fields = ("created_at", "author_name", "body_text")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class EventInline(admin.TabularInline):
    model = TaskEvent
    extra = 0
    fields = ("created_at", "actor_name", "kind", "data")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Task)
class TaskAdmin(ReadOnly):
    list_display = ("number", "title", "state", "department", "assignee", "team", "due_at", "updated_at")
    list_filter = ("state", "department")
    search_fields = ("title", "=number")
    list_select_related = ("department", "assignee__user", "team")
    raw_id_fields = ("ticket",)
    inlines = [EntryInline, EventInline]
