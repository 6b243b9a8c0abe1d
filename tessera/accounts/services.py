"""Changes to people: finding or creating the end user behind an email address, and the agent's
own profile and workspace preferences."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tessera import process_memo
from tessera.audit import services as audit
from tessera.compiled_get import CompiledGet
from tessera.tickets import policy

from .models import Agent, Density, Organization, OrganizationDomain, User
from .phone import is_phone


@process_memo.memo("accounts.Organization", "accounts.OrganizationDomain")
def _organizations_by_domain() -> dict[str, Organization]:
    """Organisations by the email domains they claim (stored lower-case, one organisation per
    domain). Every new address needs it, so it is read at most every few seconds per process
    (tessera.process_memo)."""
    return {row.domain: row.organization for row in OrganizationDomain.objects.select_related("organization")}


def organization_for_email(email: str) -> Organization | None:
    """The organisation a new user with this address joins: the one that claims its domain.

    The one rule for every way a person is created (portal, mail, API, the workspace and its CSV
    import): they all create end users through `end_user_for_email` or
    `directory_services.create_end_user`, which ask here."""
    domain = (email or "").strip().lower().rpartition("@")[2]
    return _organizations_by_domain().get(domain) if domain else None


# With its agent profile (or the knowledge that there is none): the services asked next want to
# know, and would otherwise query for it. Compiled once (tessera.compiled_get): every ticket
# opened by mail or through the API asks.
_USER_BY_EMAIL = CompiledGet(User.objects.select_related("agent"), "email")


def end_user_for_email(*, email: str, name: str = "", phone: str = "", language: str = "") -> User:
    """The user with this address, created (without a password) when new.

    A new user whose address matches an organisation's domain joins it. A `name` or `phone` given
    fills the person's when they have none, and is never written over what they have; a phone
    that is not a number (accounts.phone) is left out here (the intake records what was sent).
    `language` is the one the person wrote in (the page's, for a guest on the Help Center): kept
    when they have none, so their acknowledgement and later mail come in it; the desk's own
    language is not stored (it is what an empty choice means).
    """
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Enter a valid email address.")}) from None
    name = (name or "").strip()[:150]
    phone = (phone or "").strip()
    if not is_phone(phone):
        phone = ""
    shipped = {code for code, _label in settings.LANGUAGES} - {settings.LANGUAGE_CODE}
    language = language if language in shipped else ""
    try:
        user = _USER_BY_EMAIL.get(email)
    except User.DoesNotExist:
        user = None
    if user is not None:
        if not user.is_active:
            raise ValidationError({"email": _("This address cannot open tickets. Contact the help desk another way.")})
        missing = {
            "name": name and not user.name,
            "phone": phone and not user.phone,
            "language": language and not user.language,
        }
        if any(missing.values()):
            for field, wanted in missing.items():
                if wanted:
                    setattr(user, field, {"name": name, "phone": phone, "language": language}[field])
            user.save(update_fields=[field for field, wanted in missing.items() if wanted])
        return user
    org = organization_for_email(email)
    try:
        with transaction.atomic():
            user = User.objects.create_user(email, name=name, organization=org, phone=phone, language=language)
        # A new account has no agent profile: say so, or the first policy check would ask.
        User.agent.related.set_cached_value(user, None)
        return user
    except IntegrityError:
        # Two intakes for a new address at once: the other one created it.
        return User.objects.get(email=email)


def update_agent_profile(
    actor: User,
    agent: Agent,
    *,
    name: str,
    time_zone: str,
    signature: str,
    is_available: bool,
    density: str | None = None,
    language: str | None = None,
) -> Agent:
    """Agents keep their own name, time zone, signature, availability, queue density and language
    (None leaves either as it is; a blank language follows the browser); administrators may too."""

    if not policy.can_edit_agent_profile(actor, agent):
        raise PermissionDenied(_("You can only change your own profile."))
    errors = {}
    if density is not None and density not in Density.values:
        errors["density"] = _("Choose comfortable or compact rows.")
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Give the name people will see on your replies.")
    if time_zone and time_zone not in _time_zones():
        errors["time_zone"] = _("Choose a time zone from the list.")
    if len(signature or "") > 2000:
        errors["signature"] = _("Keep the signature under 2,000 characters.")
    if language and not _is_shipped_language(language):
        errors["language"] = _("Choose a language from the list.")
    if errors:
        raise ValidationError(errors)

    def profile_values() -> dict[str, object]:
        user = agent.user
        return {
            "name": user.name,
            "time_zone": user.time_zone,
            "language": user.language,
            "signature": agent.signature,
            "is_available": agent.is_available,
            "density": agent.density,
        }

    before = profile_values()
    with transaction.atomic():
        user = agent.user
        user.name = name[:150]
        user.time_zone = time_zone
        if language is not None:
            user.language = language
        user.save(update_fields=["name", "time_zone", "language"])
        agent.signature = (signature or "").strip()
        agent.is_available = is_available
        if density is not None:
            agent.density = density
        agent.save(update_fields=["signature", "is_available", "density"])
        old, new = audit.changes(before, profile_values())
        if old or new:
            audit.record(audit.Action.CHANGE, actor=actor, obj=agent, before=old, after=new, detail="agent profile")
    return agent


def set_density(actor: User, agent: Agent, density: str) -> Agent:
    """The queue page's quick switch between comfortable and compact rows: the agent's own
    preference, kept on their Agent so it follows them to every browser."""
    if not policy.can_edit_agent_profile(actor, agent):
        raise PermissionDenied(_("You can only change your own profile."))
    if density not in Density.values:
        raise ValidationError({"density": _("Choose comfortable or compact rows.")})
    if agent.density != density:
        Agent.objects.filter(pk=agent.pk).update(density=density)
        agent.density = density
    return agent


def set_language(actor: User, user: User, language: str) -> User:
    """The language a person reads pages and mail in, chosen with the portal's picker (a blank
    choice goes back to following the browser). Only they may change it here."""
    if actor.pk != user.pk:
        raise PermissionDenied(_("You can only change your own language."))
    if language and not _is_shipped_language(language):
        raise ValidationError({"language": _("Choose a language from the list.")})
    if user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
    return user


def _is_shipped_language(code: str) -> bool:
    return code in {shipped for shipped, _name in settings.LANGUAGES}


def _time_zones() -> set[str]:
    import zoneinfo

    return zoneinfo.available_timezones()
