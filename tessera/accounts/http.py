"""The request type of a view that only a signed-in person reaches.

Django types `request.user` as `User | AnonymousUser`, because middleware cannot know which
views sit behind a sign-in check. A view behind `login_required` or the workspace's
`agent_required` annotates its request as `AuthenticatedHttpRequest`, so the checker knows what
the decorator already guarantees and every `request.user` there is a `User` without a cast.
Nothing changes at run time: Django hands the view the same HttpRequest.
"""

from __future__ import annotations

from django.http import HttpRequest

from tessera.accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User
