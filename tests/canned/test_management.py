"""Managing canned responses in the workspace: who may see, create, change and delete which
ones (policy.can_manage_canned), and what the pages say when something is wrong."""

from __future__ import annotations

import pytest

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tessera.audit.models import AuditEntry
from tessera.canned import services
from tessera.canned.models import CannedAttachment, CannedResponse
from tessera.tickets import policy

from .conftest import signed_in


def form_data(**overrides):
    data = {"title": "Password reset", "body": "Hello %{user.first_name}, here is how.", "is_active": "on"}
    data.update(overrides)
    return data


def test_a_manager_creates_a_response_shared_with_their_department(desk, people):
    client = signed_in(people.mia)
    page = client.get(reverse("canned:create")).content.decode()
    assert "%{ticket.number}" in page and "%{user.first_name}" in page  # the variables are listed
    answer = client.post(reverse("canned:create"), form_data(departments=[desk.support.pk]))
    assert answer.status_code == 302 and answer["Location"] == reverse("canned:list")
    saved = CannedResponse.objects.get()
    assert (saved.title, saved.created_by, list(saved.departments.all())) == (
        "Password reset",
        people.mia.user,
        [desk.support],
    )
    entry = AuditEntry.objects.filter(object_type="canned.cannedresponse").get()
    assert entry.actor == people.mia.user and entry.detail == "created"
    assert "Password reset" in client.get(reverse("canned:list")).content.decode()


def test_an_unknown_variable_comes_back_named_with_what_was_typed_kept(desk, people):
    client = signed_in(people.mia)
    answer = client.post(reverse("canned:create"), form_data(body="Ticket %{ticket.numbr} is done."))
    html = answer.content.decode()
    assert answer.status_code == 400
    assert "Unknown variable %{ticket.numbr}" in html
    assert "Ticket %{ticket.numbr} is done." in html and 'value="Password reset"' in html
    assert not CannedResponse.objects.exists()


def test_an_agent_without_the_right_cannot_open_or_use_the_management_pages(desk, people, make_response):
    response = make_response(departments=[desk.support])
    client = signed_in(desk.john)
    assert client.get(reverse("canned:list")).status_code == 403
    assert client.get(reverse("canned:create")).status_code == 403
    assert client.post(reverse("canned:create"), form_data()).status_code == 403
    assert client.get(reverse("canned:edit", args=[response.pk])).status_code == 404
    assert client.post(reverse("canned:delete", args=[response.pk])).status_code == 404
    assert CannedResponse.objects.filter(pk=response.pk).exists() and CannedResponse.objects.count() == 1


def test_a_manager_of_one_department_does_not_see_or_change_another_departments_responses(desk, people, make_response):
    billing_only = make_response(title="Refunds", departments=[desk.billing])
    both = make_response(title="Invoices", departments=[desk.billing, desk.support])
    everyone = make_response(title="Greeting")
    sam = signed_in(people.sam)  # manages them in Billing only, and not in his primary department
    listing = sam.get(reverse("canned:list")).content.decode()
    assert "Refunds" in listing and "Invoices" not in listing and "Greeting" not in listing
    assert sam.get(reverse("canned:edit", args=[billing_only.pk])).status_code == 200
    for other in (both, everyone):
        assert sam.get(reverse("canned:edit", args=[other.pk])).status_code == 404
        assert sam.post(reverse("canned:delete", args=[other.pk])).status_code == 404
    # Nor may he widen his own response to a department or to everyone beyond his reach.
    answer = sam.post(reverse("canned:edit", args=[billing_only.pk]), form_data(departments=[desk.support.pk]))
    assert answer.status_code == 400  # Support is not even offered to him
    with pytest.raises(PermissionDenied):
        services.save_response(people.sam.user, billing_only, title="Refunds", body="x", departments=[])
    assert list(CannedResponse.objects.get(pk=billing_only.pk).departments.all()) == [desk.billing]


def test_sharing_with_everyone_needs_the_right_in_the_primary_department(desk, people):
    assert policy.can_manage_canned(people.mia.user, []) is True
    assert policy.can_manage_canned(people.sam.user, []) is False
    assert policy.can_manage_canned(people.sam.user, [desk.billing.pk]) is True
    assert policy.can_manage_canned(people.sam.user, [desk.billing.pk, desk.support.pk]) is False
    assert policy.can_manage_canned(desk.admin, [desk.billing.pk]) is True
    assert policy.can_manage_canned(desk.john.user, [desk.support.pk]) is False
    answer = signed_in(people.sam).post(reverse("canned:create"), form_data())
    assert answer.status_code == 403
    assert "share canned responses with everyone" in answer.content.decode()


def test_editing_and_deleting_are_audited_and_files_are_kept_with_the_response(desk, people, settings):
    client = signed_in(people.mia)
    leaflet = SimpleUploadedFile("leaflet.pdf", b"%PDF-1.4 tray guide", content_type="application/pdf")
    client.post(reverse("canned:create"), {**form_data(departments=[desk.support.pk]), "attachments": [leaflet]})
    saved = CannedResponse.objects.get()
    [file] = saved.attachments.all()
    assert (file.name, file.size) == ("leaflet.pdf", 19)
    assert client.get(reverse("canned:file", args=[file.pk])).getvalue() == b"%PDF-1.4 tray guide"
    assert signed_in(desk.bill).get(reverse("canned:file", args=[file.pk])).status_code == 404

    answer = client.post(
        reverse("canned:edit", args=[saved.pk]),
        form_data(title="Password reset (new portal)", departments=[desk.support.pk], remove_files=[file.pk]),
    )
    assert answer.status_code == 302
    assert not CannedAttachment.objects.exists()
    change = AuditEntry.objects.filter(object_type="canned.cannedresponse", detail="changed").get()
    assert change.before == {"files": ["leaflet.pdf"], "title": "Password reset"}
    assert change.after == {"files": [], "title": "Password reset (new portal)"}

    assert (
        "Delete “Password reset (new portal)”?"
        in client.get(reverse("canned:delete", args=[saved.pk])).content.decode()
    )
    assert client.post(reverse("canned:delete", args=[saved.pk])).status_code == 302
    assert not CannedResponse.objects.exists()
    assert AuditEntry.objects.filter(object_type="canned.cannedresponse", detail="deleted").count() == 1


def test_a_dangerous_file_is_refused_and_the_form_kept(desk, people):
    client = signed_in(people.mia)
    program = SimpleUploadedFile("setup.exe", b"MZ" + b"\0" * 100, content_type="application/octet-stream")
    answer = client.post(reverse("canned:create"), {**form_data(), "attachments": [program]})
    assert answer.status_code == 400
    assert "setup.exe" in answer.content.decode()
    assert not CannedResponse.objects.exists()


def test_the_list_searches_titles_and_text(desk, people, make_response):
    make_response(title="Printer tray", body="Use the other tray.")
    make_response(title="VPN", body="Reconnect the VPN client.")
    html = signed_in(people.mia).get(reverse("canned:list") + "?q=tray").content.decode()
    assert "Printer tray" in html and "VPN" not in html
    html = signed_in(people.mia).get(reverse("canned:list") + "?q=nothing-like-it").content.decode()
    assert "No canned response you manage matches" in html


@pytest.mark.django_db(transaction=True)
def test_an_upgraded_desks_manager_role_may_manage_canned_responses():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from tessera.accounts.models import Role

    executor = MigrationExecutor(connection)
    executor.migrate([("canned", "0001_initial")])
    old = executor.loader.project_state([("canned", "0001_initial")]).apps
    OldRole = old.get_model("accounts", "Role")
    OldRole.objects.update_or_create(name="Manager", defaults={"permissions": ["view", "reply", "manage"]})
    OldRole.objects.update_or_create(name="Observer", defaults={"permissions": ["view", "note"]})
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert "canned" in Role.objects.get(name="Manager").permissions
    assert "canned" not in Role.objects.get(name="Observer").permissions
