from django import template

from tessera.accounts import twofactor

register = template.Library()


@register.inclusion_tag("accounts/_two_factor_summary.html", takes_context=True)
def two_factor_summary(context: template.Context) -> dict[str, object]:
    """The profile page's two-factor block: on or off, and the way to change it."""
    user = context["request"].user
    return {
        "apps": len(twofactor.primary_devices(user)),
        "codes_left": twofactor.recovery_codes_left(user),
        "required": twofactor.is_required(user),
    }
