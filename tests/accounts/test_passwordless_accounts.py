"""People made by mail, the API or an agent have no password until they set one, and no password,
however guessed, signs them in."""

from __future__ import annotations

import pytest

from django.contrib.auth import authenticate
from django.contrib.auth.hashers import is_password_usable

from tessera.accounts.models import User
from tessera.accounts.services import end_user_for_email

pytestmark = pytest.mark.django_db


def test_a_requester_made_from_an_address_has_no_usable_password(rf):
    ken = end_user_for_email(email="ken@example.org", name="Ken")
    kim = end_user_for_email(email="kim@example.org", name="Kim")
    assert not ken.has_usable_password() and not is_password_usable(ken.password)
    assert ken.password.startswith("!") and len(ken.password) == 41
    assert ken.password != kim.password  # random, so no two accounts share a value
    for guess in ("", "!", ken.password, ken.password[1:], "password"):
        assert not ken.check_password(guess)
        assert authenticate(rf.post("/"), username="ken@example.org", password=guess) is None


def test_setting_a_password_later_makes_it_usable(rf):
    ken = User.objects.create_user("ken@example.org", name="Ken")
    ken.set_password("correct horse battery staple")
    ken.save()
    assert authenticate(rf.post("/"), username="ken@example.org", password="correct horse battery staple") == ken
    ken.set_unusable_password()
    ken.save()
    assert authenticate(rf.post("/"), username="ken@example.org", password="correct horse battery staple") is None
