"""Two-factor authentication for the workspace and the admin: authenticator apps (TOTP),
recovery codes, and the administrators' policy of who must use them.

A password alone signs a person in; entering the workspace or the admin then needs the second
factor when they have one (TwoFactorMiddleware), and having one when the policy covers them.
Recovery codes are a way back in, never a device on their own: without an app or a passkey
they do not satisfy the policy.
"""

from __future__ import annotations

import base64
import secrets
from urllib.parse import quote

import segno
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tessera import process_memo

from .models import TwoFactorPolicy, User

# What the session remembers about its user's second factor, set at sign-in and whenever
# devices change, so pages outside the gate pay no query for it.
SESSION_KEY = "tessera.2fa"
HAS_DEVICE, NO_DEVICE = "device", "none"
# Recovery codes just made, shown once by the recovery-codes page.
NEW_CODES_SESSION_KEY = "tessera.2fa.new_codes"

RECOVERY_DEVICE_NAME = "Recovery codes"
RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"


# ---------------------------------------------------------------------------- policy


@process_memo.memo("accounts.TwoFactorPolicy")
def required_for() -> str:
    """The policy row's choice (read at most every few seconds per process)."""
    policy = TwoFactorPolicy.objects.first()
    return policy.required_for if policy else TwoFactorPolicy.Required.NOBODY


def policy() -> TwoFactorPolicy:
    """The one policy row, created with its default on first use."""
    found = TwoFactorPolicy.objects.order_by("pk").first()
    return found or TwoFactorPolicy.objects.create()


def is_admin(user: User) -> bool:
    return user.is_staff or user.is_superuser


def may_use(user: User) -> bool:
    """Who may set up a second factor: whoever can enter the workspace or the admin."""
    return user.is_authenticated and user.is_active and (is_admin(user) or user.is_agent)


def is_required(user: User) -> bool:
    rule = required_for()
    if rule == TwoFactorPolicy.Required.ADMINS:
        return is_admin(user)
    if rule == TwoFactorPolicy.Required.AGENTS:
        return is_admin(user) or user.is_agent
    return False


# ---------------------------------------------------------------------------- devices


PRIMARY_DEVICE_MODELS = (TOTPDevice, WebAuthnCredential)


def primary_devices(user: User) -> list[Device]:
    """Confirmed authenticator apps and passkeys: what counts as having a second factor."""
    return [
        d for model in PRIMARY_DEVICE_MODELS for d in model.objects.filter(user=user, confirmed=True).order_by("pk")
    ]


def has_device(user: User) -> bool:
    return any(model.objects.filter(user=user, confirmed=True).exists() for model in PRIMARY_DEVICE_MODELS)


def has_passkey(user: User) -> bool:
    # bool()/int(): django-otp-webauthn and django-otp are untyped, so their querysets answer Any.
    return bool(WebAuthnCredential.objects.filter(user=user, confirmed=True).exists())


def remember(request: HttpRequest, user: User) -> str:
    """Store in the session whether this user has a second factor; returns it."""
    state = HAS_DEVICE if has_device(user) else NO_DEVICE
    request.session[SESSION_KEY] = state
    required_for()  # read now, so the pages that follow find the policy in the process memo
    return state


def signed_in_user(request: HttpRequest) -> User:
    """request.user, for code that runs behind a sign-in check (the gate, the pages' decorators).
    An anonymous visitor who got past a missing check is refused here, not taken for a person."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied(_("Sign in first."))
    return user


def session_state(request: HttpRequest) -> str:
    state = request.session.get(SESSION_KEY)
    return state if state in (HAS_DEVICE, NO_DEVICE) else remember(request, signed_in_user(request))


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__name=RECOVERY_DEVICE_NAME).count())


def pending_app(user: User) -> TOTPDevice:
    """The authenticator app being set up: its secret is shown until a code confirms it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)


def secret_text(device: TOTPDevice) -> str:
    """The secret as people type it into an app: base32, in groups of four."""
    raw = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def provisioning_uri(device: TOTPDevice) -> str:
    issuer = getattr(settings, "OTP_TOTP_ISSUER", "Tessera")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    label = quote(f"{issuer}:{device.user.email}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}&digits={device.digits}&period={device.step}"


def qr_svg(device: TOTPDevice) -> str:
    """The provisioning URI as an inline SVG QR code (no script, no inline style: CSP-safe)."""
    return segno.make(provisioning_uri(device), error="m").svg_inline(
        scale=4, title=_("QR code for your authenticator app"), dark="#000", light="#fff"
    )


def _clean_code(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def confirm_app(request: HttpRequest, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a pending app with a code it shows; the session counts as verified by it.
    Returns fresh recovery codes when the person had none, else None."""
    user = signed_in_user(request)
    if device.user_id != user.pk or device.confirmed:
        raise PermissionDenied(_("That authenticator app is not waiting to be set up."))
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if not device.verify_token(_clean_code(code)):
            raise ValidationError({"code": _("That code does not match. Check the app's clock and try the next code.")})
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = None if recovery_codes_left(user) else new_recovery_codes(user)
    otp_login(request, device)
    request.session[SESSION_KEY] = HAS_DEVICE
    return codes


def new_recovery_codes(user: User) -> list[str]:
    """Ten new single-use codes; any earlier ones stop working."""
    with transaction.atomic():
        device, _created = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def _recovery_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
    return "".join(secrets.choice(alphabet) for _ in range(10))


def remove_device(request: HttpRequest, persistent_id: str) -> None:
    """Remove one of the person's own apps or passkeys; with the last one go the recovery codes."""
    user = signed_in_user(request)
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    if device is None or device.user_id != user.pk or not isinstance(device, PRIMARY_DEVICE_MODELS):
        raise PermissionDenied(_("That device is not yours or is already removed."))
    device.delete()
    if not has_device(user):
        StaticDevice.objects.filter(user=user).delete()
    remember(request, user)


def verify(request: HttpRequest, code: str) -> Device | None:
    """Check a code from an app or a recovery code (used up on success) for the signed-in user."""
    user = signed_in_user(request)
    token = _clean_code(code)
    if not token:
        return None
    with transaction.atomic():
        candidates = [*TOTPDevice.objects.filter(user=user, confirmed=True).select_for_update()]
        candidates += StaticDevice.objects.filter(user=user, confirmed=True).select_for_update()
        device = next((d for d in candidates if d.verify_token(token)), None)
    if device is not None:
        request.session.cycle_key()  # more rights now: a new session id, as at sign-in
        otp_login(request, device)
    return device
