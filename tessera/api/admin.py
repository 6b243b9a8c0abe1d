"""API keys in the configuration admin: made through `keys.issue_key`, their secret shown once.

The add form's answer is the one page that shows the secret, rendered straight from the POST
(never a redirect through the session or a message, which would store it). Afterwards the key
can be narrowed, widened, switched off or deleted, but its digest is never shown or edited.
Every save is recorded by the audit mixin every model admin gets (tessera.audit.admin_hooks),
and the creation also by `issue_key`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tessera.api import keys
from tessera.api.models import ApiKey, Scope

_SHOWN_ONCE = "_tessera_new_api_key"  # on the request object only, for the page that answers the POST


def _field_messages(error: ValidationError, field: str) -> list[str]:
    if hasattr(error, "message_dict"):
        return [str(m) for m in error.message_dict.get(field, error.messages)]
    return [str(m) for m in error.messages]


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("What the key may do. A key that acts as an agent can still do only what they could."),
    )
    allowed_ips = forms.CharField(
        label=gettext_lazy("Allowed addresses"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 40}),
        required=False,
        help_text=gettext_lazy(
            "One address or CIDR range per line (203.0.113.7, 192.0.2.0/24, 2001:db8::/32). Empty: any address."
        ),
    )

    class Meta:
        model = ApiKey
        fields = ["name", "agent", "scopes", "allowed_ips", "expires_at", "is_active", "rate_limit"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["allowed_ips"] = "\n".join(self.instance.allowed_ips or [])

    def clean_name(self) -> str:
        name = str(self.cleaned_data.get("name") or "").strip()
        if ApiKey.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("A key named “%(name)s” already exists.") % {"name": name})
        return name

    def clean_allowed_ips(self) -> list[str]:
        try:
            return keys.clean_networks(str(self.cleaned_data.get("allowed_ips") or "").splitlines())
        except ValidationError as error:
            raise forms.ValidationError(_field_messages(error, "allowed_ips")) from None

    def clean_scopes(self) -> list[str]:
        try:
            return keys.clean_scopes(self.cleaned_data.get("scopes") or [])
        except ValidationError as error:
            raise forms.ValidationError(_field_messages(error, "scopes")) from None

    def clean_expires_at(self) -> Any:
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now() and "expires_at" in self.changed_data:
            raise forms.ValidationError(_("The expiry must be in the future."))
        return expires_at


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["name", "prefix", "agent", "scope_list", "is_active", "expires_at", "last_used_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "prefix"]
    actions = ["switch_off"]
    add_fields = ["name", "agent", "scopes", "allowed_ips", "expires_at", "rate_limit"]
    change_readonly = ["name", "prefix", "agent", "last_used_at", "last_used_ip", "created_by", "created_at"]
    change_fields = ["scopes", "allowed_ips", "expires_at", "is_active", "rate_limit"]

    @admin.display(description=gettext_lazy("Scopes"))
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes) or "—"

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:  # type: ignore[override]
        return list(self.add_fields) if obj is None else [*self.change_readonly, *self.change_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        return [] if obj is None else list(self.change_readonly)

    def get_form(self, request: HttpRequest, obj: ApiKey | None = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["fields"] = self.add_fields if obj is None else self.change_fields
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: ApiKey, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        key, raw = keys.issue_key(
            name=data["name"],
            created_by=request.user,  # type: ignore[arg-type]
            agent=data.get("agent"),
            scopes=data.get("scopes") or [],
            allowed_ips=data.get("allowed_ips") or [],
            expires_at=data.get("expires_at"),
            rate_limit=data.get("rate_limit"),
        )
        # The admin goes on with the object it built (log entry, audit, answer): make it the saved key.
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(key, field.attname))
        obj._state.adding = False
        setattr(request, _SHOWN_ONCE, raw)

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue: str | None = None) -> HttpResponse:
        secret = getattr(request, _SHOWN_ONCE, None)
        if secret is None:  # pragma: no cover - every add goes through save_model
            return super().response_add(request, obj, post_url_continue)
        context = {**self.admin_site.each_context(request), "opts": self.opts, "key": obj, "secret": secret}
        response = TemplateResponse(request, "admin/api/apikey/issued.html", context)
        add_never_cache_headers(response)
        return response

    @admin.action(description=gettext_lazy("Switch off the selected keys"))
    def switch_off(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = keys.switch_off(request.user, queryset)  # type: ignore[arg-type]
        self.message_user(
            request,
            ngettext("%(n)d key switched off.", "%(n)d keys switched off.", count) % {"n": count},
            messages.SUCCESS,
        )
