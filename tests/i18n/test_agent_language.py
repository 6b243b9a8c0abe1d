"""Agents choose the workspace's language in their profile; it also writes their mail."""

from __future__ import annotations

import re

import pytest

PROFILE = "/staff/profile/"


@pytest.fixture
def john_client(client, desk):
    client.force_login(desk.john.user)
    return client


def profile_form(**changes):
    return {"name": "John Doe", "time_zone": "", "signature": "", "is_available": "on", **changes}


def test_an_agent_chooses_german_and_the_workspace_follows(john_client, desk, german_catalogue):
    assert john_client.post(PROFILE, profile_form(language="de")).status_code == 302
    desk.john.user.refresh_from_db()
    assert desk.john.user.language == "de"
    page = john_client.get(PROFILE).content.decode()
    assert '<html lang="de">' in page and "Ihr Profil" in page
    assert re.search(r'<option value="de" selected>Deutsch</option>', page)


def test_going_back_to_the_browsers_language(john_client, desk):
    desk.john.user.language = "fr"
    desk.john.user.save()
    john_client.post(PROFILE, profile_form(language=""))
    desk.john.user.refresh_from_db()
    assert desk.john.user.language == ""
    assert '<html lang="de">' in john_client.get(PROFILE, HTTP_ACCEPT_LANGUAGE="de").content.decode()


def test_a_form_without_the_field_keeps_the_agents_language(john_client, desk):
    desk.john.user.language = "es"
    desk.john.user.save()
    assert john_client.post(PROFILE, profile_form()).status_code == 302
    desk.john.user.refresh_from_db()
    assert desk.john.user.language == "es"


@pytest.mark.parametrize("language", ["xx", "de-DE", "<script>", "en" * 20])
def test_an_unshipped_language_is_refused_and_what_was_typed_kept(john_client, desk, language):
    response = john_client.post(PROFILE, profile_form(language=language, signature="Typed with care"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Typed with care" in page
    assert "<script>" not in page  # the refused value is shown escaped, if at all
    desk.john.user.refresh_from_db()
    assert desk.john.user.language == ""


def test_the_service_refuses_an_unshipped_language_from_any_caller(desk):
    from django.core.exceptions import ValidationError

    from tessera.accounts.services import update_agent_profile

    with pytest.raises(ValidationError) as refused:
        update_agent_profile(
            desk.john.user, desk.john, name="John", time_zone="", signature="", is_available=True, language="xx"
        )
    assert "language" in refused.value.message_dict


def test_only_the_person_sets_their_own_language(desk):
    from django.core.exceptions import PermissionDenied

    from tessera.accounts.services import set_language

    with pytest.raises(PermissionDenied):
        set_language(desk.john.user, desk.ken, "de")
    desk.ken.refresh_from_db()
    assert desk.ken.language == ""
