"""Every change made through the configuration admin is recorded, for every registered model,
from this one mixin: ready() mixes it into each registered ModelAdmin, so a model admin added
later needs no code of its own (tests/audit checks that none is missed).

Before values are read from the database when the save starts; after values once the object
and its many-to-many fields and inlines are saved. Inline rows (a membership edited on an
agent's page) get an entry of their own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

from . import services
from .models import Action

if TYPE_CHECKING:
    from django.contrib.admin.models import LogEntry
    from django.db.models import QuerySet

    # Type-checked as the ModelAdmin it is always mixed into; a plain class at run time.
    _AdminBase = admin.ModelAdmin[Model]
else:
    _AdminBase = object

_PENDING = "_audit_admin_before"


def _pending(request: HttpRequest) -> dict[tuple[str, Any], dict[str, Any] | None]:
    if not hasattr(request, _PENDING):
        setattr(request, _PENDING, {})
    pending: dict[tuple[str, Any], dict[str, Any] | None] = getattr(request, _PENDING)
    return pending


def _message_text(message: Any) -> str:
    """The admin's change message ("Changed name.") as text, in the site's language."""
    if isinstance(message, list):
        from django.contrib.admin.models import LogEntry

        return LogEntry(change_message=json.dumps(message)).get_change_message()
    return str(message or "")


class AuditedAdminMixin(_AdminBase):
    """Mixed into every registered ModelAdmin (see audit_registered_admins)."""

    audit_log_enabled = True

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        if change:
            _pending(request)[(obj._meta.label_lower, obj.pk)] = services.stored_snapshot(obj)
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # By instance: a deleted row has lost its pk by the time the formset says so.
        befores: dict[int, tuple[Any, dict[str, Any] | None]] = {}
        for inline_form in formset.initial_forms:
            instance = inline_form.instance
            if instance.pk is not None and (inline_form.has_changed() or formset._should_delete_form(inline_form)):
                befores[id(instance)] = (instance.pk, services.stored_snapshot(instance))
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            services.record(
                Action.ADMIN_ADD, actor=request.user, obj=obj, after=services.snapshot(obj), request=request
            )
        for obj, changed_fields in formset.changed_objects:
            _record_change(request, obj, befores.get(id(obj), (None, None))[1], ", ".join(changed_fields))
        for obj in formset.deleted_objects:
            pk, before = befores.get(id(obj), (None, None))
            services.record(
                Action.ADMIN_DELETE, actor=request.user, obj=obj, object_id=pk, before=before, request=request
            )

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> LogEntry:
        entry = super().log_addition(request, obj, message)
        services.record(
            Action.ADMIN_ADD,
            actor=request.user,
            obj=obj,
            after=services.snapshot(obj),
            request=request,
            detail=_message_text(message),
        )
        return entry

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> LogEntry:
        entry = super().log_change(request, obj, message)
        key = (obj._meta.label_lower, obj.pk)
        pending = _pending(request)
        if key in pending:
            _record_change(request, obj, pending.pop(key), _message_text(message))
        else:
            # Saved without save_model (the user admin's password form): the message says what;
            # the values are secret by nature.
            services.record(
                Action.ADMIN_CHANGE, actor=request.user, obj=obj, request=request, detail=_message_text(message)
            )
        return entry

    def log_deletions(self, request: HttpRequest, queryset: QuerySet[Model]) -> list[LogEntry]:
        # Called before the deletion, so the rows can still be read.
        result = super().log_deletions(request, queryset)
        for obj in queryset:
            services.record(
                Action.ADMIN_DELETE, actor=request.user, obj=obj, before=services.snapshot(obj), request=request
            )
        return result

    def response_action(
        self, request: HttpRequest, queryset: QuerySet[Model], *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        """Actions other than delete (which records each row) are recorded with their targets."""
        action = request.POST.get("action", "")
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        if request.POST.get("select_across") == "1":
            selected = selected or ["*"]
        response = super().response_action(request, queryset, *args, **kwargs)
        if action and action != "delete_selected" and selected:
            services.record(
                Action.ADMIN_ACTION,
                actor=request.user,
                object_type=self.model._meta.label_lower,
                object_id=",".join(selected)[:64],
                object_repr=str(self.model._meta.verbose_name_plural),
                detail=f"{action}: {', '.join(selected)}",
                request=request,
            )
        return response


def audit_registered_admins(site: admin.AdminSite | None = None) -> None:
    """Give every registered ModelAdmin the audit mixin (once)."""
    site = site or admin.site
    for model_admin in site._registry.values():
        cls = type(model_admin)
        if issubclass(cls, AuditedAdminMixin) or getattr(cls, "audit_log_exempt", False):
            continue
        model_admin.__class__ = type(f"Audited{cls.__name__}", (AuditedAdminMixin, cls), {"__module__": cls.__module__})


def _record_change(request: HttpRequest, obj: Model, before: Mapping[str, Any] | None, detail: str) -> None:
    """One admin change: the fields that differ from the snapshot taken before it, old and new."""
    old, new = services.changes(before or {}, services.snapshot(obj))
    services.record(
        Action.ADMIN_CHANGE, actor=request.user, obj=obj, before=old, after=new, request=request, detail=detail
    )
