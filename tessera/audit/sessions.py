"""Signed-in sessions: the idle timeout, and the list of a person's sessions with which they
can sign out other browsers.

Django's session table cannot be listed per user, so each sign-in also writes a UserSession
row (user, session key, times, address, browser). The row follows the session when its key
changes (a changed password rotates it) and goes when the person signs out. The idle clock
lives in the session itself and is renewed at most once a minute, so an ordinary request
costs no write; background polls (queue counts, new arrivals, "who is replying") never
renew it, or an open tab would keep a session alive for ever.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from tessera.accounts.models import User

from . import services
from .models import Action, UserSession

SEEN_KEY = "_tessera_seen"  # epoch seconds of the last activity that renewed the session
ROW_KEY = "_tessera_row"  # the session key the UserSession row was written for
RENEW_SECONDS = 60
MAX_USER_AGENT = 500

# Requests the page makes by itself, on a timer: they are not activity.
BACKGROUND_VIEWS = frozenset(
    {"staff:queue_counts", "staff:queue_arrivals", "staff:saved_queue_arrivals", "staff:ticket_presence"}
)


def idle_seconds() -> int:
    """0 turns the idle timeout off."""
    return max(0, int(settings.TESSERA.get("SESSION_IDLE_MINUTES", 0) or 0)) * 60


def _store_class() -> type[SessionBase]:
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    return store


def _user_agent(request: HttpRequest) -> str:
    return (request.META.get("HTTP_USER_AGENT") or "")[:MAX_USER_AGENT]


def start(request: HttpRequest, user: User) -> None:
    """Called on sign-in: start the idle clock and list the session."""
    session = request.session
    if session.session_key is None:
        session.save()  # login() may have flushed the session: give it its key now
    now = time.time()
    session[SEEN_KEY] = int(now)
    key = session.session_key
    if key is None:  # never: save() gives the session its key; this tells mypy
        return
    _write_row(request, user, key, previous=session.get(ROW_KEY))
    session[ROW_KEY] = key


def _write_row(request: HttpRequest, user: User, key: str, *, previous: str | None = None) -> None:
    """The row for this session, moved from its previous key when the key was rotated."""
    now = timezone.now()
    fields = {
        "user": user,
        "last_seen": now,
        "ip_address": services.client_ip(request),
        "user_agent": _user_agent(request),
    }
    if (
        previous
        and previous != key
        and UserSession.objects.filter(session_key=previous, user=user).update(session_key=key, **fields)
    ):
        return
    try:
        with transaction.atomic():
            UserSession.objects.update_or_create(session_key=key, defaults=fields, create_defaults={**fields})
    except IntegrityError:  # the same session signing in twice at once
        pass


def forget(request: HttpRequest) -> None:
    """Called on sign-out (before the session is flushed)."""
    key = getattr(request, "session", None) and request.session.session_key
    if key:
        UserSession.objects.filter(session_key=key).delete()


class SessionActivityMiddleware:
    """Signs out sessions idle for longer than TESSERA_SESSION_IDLE_MINUTES, renews the rest
    (at most once a minute) and keeps the session list in step with rotated keys."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and user.is_authenticated and session is not None:
            key = session.session_key
            if key and session.get(ROW_KEY) and session.get(ROW_KEY) != key:
                # The key changed under a signed-in session (a changed password rotates it).
                _write_row(request, user, key, previous=session.get(ROW_KEY))
                session[ROW_KEY] = key
        return response

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: Sequence[object],
        view_kwargs: dict[str, object],
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        session = request.session
        now = int(time.time())
        seen = session.get(SEEN_KEY)
        limit = idle_seconds()
        if isinstance(seen, int) and limit and now - seen > limit:
            return _sign_out_idle(request, limit)
        background = getattr(request.resolver_match, "view_name", "") in BACKGROUND_VIEWS
        if not isinstance(seen, int) or (not background and now - seen >= RENEW_SECONDS):
            session[SEEN_KEY] = now
            if session.session_key:
                updated = UserSession.objects.filter(session_key=session.session_key).update(
                    last_seen=datetime.fromtimestamp(now, tz=UTC)
                )
                if not updated:  # signed in before the list existed, or the row was lost
                    _write_row(request, user, session.session_key)
                    session[ROW_KEY] = session.session_key
        return None


def _login_url(path: str) -> str:
    if path.startswith(reverse("admin:index")):
        return reverse("admin:login")
    if path.startswith("/staff/"):
        return reverse("staff:login")
    return reverse(settings.LOGIN_URL)


def _sign_out_idle(request: HttpRequest, limit: int) -> HttpResponse:
    # Read back by the sign-out receiver (audit.receivers) through getattr; HttpRequest has no such field.
    request._audit_sign_out_reason = Action.IDLE_SIGN_OUT  # type: ignore[attr-defined]
    logout(request)
    minutes = limit // 60
    messages.warning(
        request,
        _("You were signed out after %(minutes)d minutes without activity. Sign in again to carry on.")
        % {"minutes": minutes},
    )
    login_url = _login_url(request.path)
    if request.headers.get("HX-Request") == "true":
        # A poll or partial update: send the whole page to the sign-in form, not a fragment.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = login_url
        return response
    if request.method in ("GET", "HEAD"):
        return redirect_to_login(request.get_full_path(), login_url)
    return HttpResponseRedirect(login_url)


# ---------------------------------------------------------------------------- the list


@dataclass(frozen=True)
class SessionInfo:
    pk: int
    device: str
    user_agent: str
    ip_address: str | None
    created_at: datetime
    last_seen: datetime
    is_current: bool


def _alive(data: dict[str, Any], user: User, limit: int, now: float) -> bool:
    """The stored session still signs this user in: same user, password unchanged, not idle."""
    if str(data.get(SESSION_KEY, "")) != str(user.pk):
        return False
    if not constant_time_compare(data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()):
        return False
    seen = data.get(SEEN_KEY)
    return not (limit and isinstance(seen, int) and now - seen > limit)


def active_sessions(request: HttpRequest) -> list[SessionInfo]:
    """The signed-in user's live sessions, this one first. Rows whose session has ended by
    itself (expired, idle, password changed) are removed on the way."""
    user = request.user
    if not user.is_authenticated:  # the views require sign-in: nobody has no sessions
        return []
    current = request.session.session_key
    store_class = _store_class()
    limit, now = idle_seconds(), time.time()
    found: list[SessionInfo] = []
    dead: list[int] = []
    for row in UserSession.objects.filter(user=user):
        if row.session_key != current and not _alive(store_class(row.session_key).load(), user, limit, now):
            dead.append(row.pk)
            continue
        found.append(
            SessionInfo(
                pk=row.pk,
                device=describe_user_agent(row.user_agent),
                user_agent=row.user_agent,
                ip_address=row.ip_address,
                created_at=row.created_at,
                last_seen=row.last_seen,
                is_current=row.session_key == current,
            )
        )
    if dead:
        UserSession.objects.filter(pk__in=dead).delete()
    found.sort(key=lambda s: (not s.is_current, -s.last_seen.timestamp()))
    return found


def end_session(request: HttpRequest, pk: int) -> bool:
    """Sign out one of the user's own sessions. False when there is no such session of theirs."""
    user = request.user
    if not user.is_authenticated:
        return False
    row = UserSession.objects.filter(pk=pk, user=user).first()
    if row is None:
        return False
    if row.session_key == request.session.session_key:
        logout(request)
        return True
    _end(request, user, [row], detail=describe_user_agent(row.user_agent))
    return True


def end_other_sessions(request: HttpRequest) -> int:
    """Sign out every other browser signed in as this user; returns how many."""
    user = request.user
    if not user.is_authenticated:
        return 0
    rows = list(UserSession.objects.filter(user=user).exclude(session_key=request.session.session_key))
    if rows:
        _end(request, user, rows, detail=_("everywhere else (%(count)d)") % {"count": len(rows)})
    return len(rows)


def _end(request: HttpRequest, user: User, rows: list[UserSession], *, detail: str) -> None:
    store_class = _store_class()
    for row in rows:
        store_class(row.session_key).delete()
    UserSession.objects.filter(pk__in=[r.pk for r in rows]).delete()
    services.record(Action.SESSION_ENDED, actor=user, obj=user, request=request, detail=detail)


# ---------------------------------------------------------------------------- user agents

_BROWSERS = [
    ("Edge", re.compile(r"Edg(e|A|iOS)?/")),
    ("Opera", re.compile(r"OPR/|Opera")),
    ("Firefox", re.compile(r"Firefox/|FxiOS/")),
    ("Chromium", re.compile(r"Chromium/")),
    ("Chrome", re.compile(r"Chrome/|CriOS/")),
    ("Safari", re.compile(r"Safari/")),
    ("curl", re.compile(r"^curl/")),
]
_SYSTEMS = [
    ("Android", re.compile(r"Android")),
    ("iOS", re.compile(r"iPhone|iPad|iPod")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("Linux", re.compile(r"Linux|X11")),
]


def describe_user_agent(user_agent: str) -> str:
    """A short, human name for a browser ("Firefox on Linux"); the raw string is shown too."""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(user_agent or "")), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent or "")), None)
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    if browser or system:
        return browser or system or ""
    return _("Unknown browser")
