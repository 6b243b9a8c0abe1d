from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .colours import AA_NORMAL_TEXT, DISTINCT_DELTA_E, best_contrast, delta_e, is_hex_colour
from .models import AlertSetting, HelpTopic, Priority, Status
from .services.desk_setup import check_state_change


class PriorityForm(forms.ModelForm):
    class Meta:
        model = Priority
        fields = ["name", "urgency", "colour", "is_default"]
        widgets = {"colour": forms.TextInput(attrs={"type": "color"})}
        help_texts = {
            "colour": gettext_lazy(
                "The badge's background. The text on it is white or near-black, whichever reads "
                "better; pick a colour that reads with one of them and differs from the other priorities'."
            )
        }

    def clean_colour(self) -> str:
        colour = str(self.cleaned_data["colour"]).strip()
        if not is_hex_colour(colour):
            raise forms.ValidationError(_("Enter a colour as # and six hexadecimal digits, e.g. #b42318."))
        return colour.lower()


def colour_warnings(priority: Priority) -> list[str]:
    """Why the colour may be a poor choice: unreadable text, or a badge that looks like another's.
    Warnings, not errors: the administrator may have reasons (a house palette) and can fix it later."""
    warnings = []
    contrast = best_contrast(priority.colour)
    if contrast < AA_NORMAL_TEXT:
        warnings.append(
            _(
                "The colour %(colour)s of “%(name)s” reaches only %(ratio).1f:1 contrast with white or "
                "near-black text; badges need 4.5:1 to be readable (WCAG AA). Pick a darker or lighter shade."
            )
            % {"colour": priority.colour, "name": priority.name, "ratio": contrast}
        )
    alike = [
        other
        for other in Priority.objects.exclude(pk=priority.pk).order_by("urgency")
        if is_hex_colour(other.colour) and delta_e(priority.colour, other.colour) < DISTINCT_DELTA_E
    ]
    warnings.extend(
        _("The colour of “%(name)s” is hard to tell apart from that of “%(other)s” (%(colour)s).")
        % {"name": priority.name, "other": other.name, "colour": other.colour}
        for other in alike
    )
    return warnings


@admin.register(Priority)
class PriorityAdmin(admin.ModelAdmin):
    form = PriorityForm
    list_display = ["name", "urgency", "colour", "is_default"]

    def save_model(self, request: HttpRequest, obj: Priority, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        for warning in colour_warnings(obj):
            self.message_user(request, warning, messages.WARNING)


class StatusForm(forms.ModelForm):
    class Meta:
        model = Status
        fields = ["name", "state", "order", "is_default", "allow_reopen", "reopen_days"]

    def clean_state(self) -> str:
        state: str = self.cleaned_data["state"]
        if self.instance.pk is not None:
            try:
                check_state_change(self.instance, state)
            except ValidationError as refused:
                raise ValidationError(refused.message_dict["state"]) from None
        return state


@admin.register(Status)
class StatusAdmin(admin.ModelAdmin):
    form = StatusForm
    list_display = ["name", "state", "order", "is_default", "allow_reopen", "reopen_days"]
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
                "description": gettext_lazy(
                    "Who is told. SLA warnings and overdue alerts are sent by the SLA scan, once per "
                    "ticket and target; the assignee is told first, else the team, else the department."
                ),
            },
        )
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one row per event, made by the migration

    def has_delete_permission(self, request: HttpRequest, obj: AlertSetting | None = None) -> bool:
        return False
