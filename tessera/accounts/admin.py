from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django_otp_webauthn.admin import WebAuthnCredentialAdmin
from django_otp_webauthn.models import WebAuthnCredential

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import throttle, twofactor
from .models import (
    Agent,
    Department,
    Membership,
    Organization,
    OrganizationDomain,
    Perm,
    Role,
    Team,
    Throttle,
    TwoFactorPolicy,
    User,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


def _report_lifted(modeladmin: admin.ModelAdmin, request: HttpRequest, lifted: int) -> None:
    modeladmin.message_user(
        request,
        ngettext("%(n)d lockout lifted.", "%(n)d lockouts lifted.", lifted) % {"n": lifted},
        messages.SUCCESS,
    )


# Tessera grants access by roles (Membership); Django's groups are unused, so not offered.
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "organization", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["name", "organization", "organization_manager", "time_zone"]}),
        (_("Access"), {"fields": ["is_active", "is_staff", "is_superuser", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "name", "password1", "password2"]})]
    actions = ["lift_sign_in_lockout"]

    @admin.action(description=_("Lift sign-in lockouts of the selected users"))
    def lift_sign_in_lockout(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        emails = [throttle.normalize_account(e) for e in queryset.values_list("email", flat=True)]
        rows = Throttle.objects.filter(kind=Throttle.Kind.ACCOUNT, key__in=emails)
        _report_lifted(self, request, throttle.lift(rows, actor=request.user))


class RoleForm(forms.ModelForm):
    permissions = forms.MultipleChoiceField(
        label=_("Permissions"), choices=Perm.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = Role
        fields = ["name", "permissions"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    form = RoleForm
    list_display = ["name", "permission_list"]

    @admin.display(description=_("Permissions"))
    def permission_list(self, obj: Role) -> str:
        labels = dict(Perm.choices)
        return ", ".join(str(labels.get(p, p)) for p in obj.permissions)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "is_active", "is_available"]
    list_filter = ["is_active", "is_available", "memberships__department"]
    search_fields = ["user__email", "user__name"]
    autocomplete_fields = ["user"]
    inlines = [MembershipInline]
    # How tightly their queues are drawn is the agent's own choice, made on their profile.
    exclude = ["density"]


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = [
            "name",
            "parent",
            "manager",
            "email",
            "is_public",
            "unknown_senders",
            "assign_members_only",
            "sla_plan",
            "assignment_mode",
            "open_ticket_limit",
            "auto_close_days",
            "signature",
        ]
        # The form's own check on negative numbers says what to enter instead, as the model's does.
        error_messages = {
            "open_ticket_limit": {
                "min_value": _("Give a limit of 1 or more open tickets, or leave it empty for no limit.")
            },
            "auto_close_days": {
                "min_value": _("Give 1 day or more, or leave it empty to never close tickets by themselves.")
            },
        }


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    form = DepartmentForm
    list_display = ["name", "parent", "manager", "email", "is_public", "assignment_mode", "auto_close_days"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "lead", "is_active", "assignment_mode"]
    filter_horizontal = ["members"]


class OrganizationDomainInline(admin.TabularInline):
    model = OrganizationDomain
    extra = 1


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "account_manager", "share_tickets"]
    search_fields = ["name", "domains__domain"]
    autocomplete_fields = ["account_manager"]
    inlines = [OrganizationDomainInline]


class LockedNowFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "locked"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, StrPromise]]:
        return [("yes", _("Locked out now")), ("no", _("Counting only"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Throttle]) -> QuerySet[Throttle]:
        locked = Q(locked_until__gt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(locked)
        if self.value() == "no":
            return queryset.exclude(locked)
        return queryset


@admin.register(Throttle)
class ThrottleAdmin(admin.ModelAdmin):
    """Who is locked out of sign-in, password reset or status lookups; lifting deletes the count."""

    list_display = ["key", "kind", "scope", "hits", "window_started", "locked_until", "locked_now"]
    list_filter = [LockedNowFilter, "scope", "kind"]
    search_fields = ["key"]
    actions = ["lift"]
    readonly_fields = ["scope", "kind", "key", "hits", "window_started", "locked_until"]

    @admin.display(boolean=True, description=_("locked out now"))
    def locked_now(self, obj: Throttle) -> bool:
        return obj.is_locked

    @admin.action(description=_("Lift the selected lockouts"), permissions=["lift"])
    def lift(self, request: HttpRequest, queryset: QuerySet[Throttle]) -> None:
        _report_lifted(self, request, throttle.lift(queryset, actor=request.user))

    def has_lift_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.delete_throttle")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Throttle | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Throttle | None = None) -> bool:
        return False  # "Lift" deletes, and tells the audit log who did; plain deleting would not


@admin.register(TwoFactorPolicy)
class TwoFactorPolicyAdmin(admin.ModelAdmin):
    """One row: the list page goes straight to it. Lost phones are handled under
    "TOTP devices" and "Static devices" (delete the person's device; they set up a new one)."""

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return redirect("admin:accounts_twofactorpolicy_change", twofactor.policy().pk)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TwoFactorPolicy | None = None) -> bool:
        return False


# So an administrator can delete the passkey of someone who lost the device it lives on.
admin.site.register(WebAuthnCredential, WebAuthnCredentialAdmin)
