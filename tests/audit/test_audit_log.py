"""The audit log records sign-ins, failures, lockouts and administrative changes, with the
actor and their address, and never a password; it cannot be changed or deleted."""

import io

import pytest

from django.contrib import admin
from django.contrib.auth.signals import user_login_failed
from django.core.management import call_command

from tessera.accounts import services as account_services
from tessera.accounts.models import Membership, Role
from tessera.audit import services
from tessera.audit.admin_hooks import AuditedAdminMixin
from tessera.audit.models import Action, AppendOnly, AuditEntry
from tessera.mail.models import Mailbox

# ---------------------------------------------------------------------------- signing in


def test_a_sign_in_is_recorded_with_the_person_their_address_and_the_door(signed_in, desk):
    signed_in(ip="203.0.113.9")
    entry = AuditEntry.objects.get(action=Action.SIGN_IN)
    assert entry.actor == desk.john.user
    assert entry.actor_label == "john@example.com"
    assert entry.ip_address == "203.0.113.9"
    assert entry.detail == "/staff/login/"


@pytest.mark.parametrize("door", ["/login/", "/staff/login/", "/admin/login/"])
def test_a_failed_sign_in_keeps_the_name_tried_but_never_the_password(client, desk, door):
    secret = "Tr0ub4dor&3-not-the-password"
    client.post(door, {"username": "john@example.com", "password": secret}, REMOTE_ADDR="198.51.100.4")

    entry = AuditEntry.objects.get(action=Action.SIGN_IN_FAILED)
    assert entry.object_repr == "john@example.com"
    assert entry.ip_address == "198.51.100.4"
    assert entry.actor is None
    stored = repr([getattr(entry, f.attname) for f in AuditEntry._meta.concrete_fields])
    assert secret not in stored


def test_a_failed_sign_in_without_a_request_is_still_recorded(db):
    user_login_failed.send(sender=__name__, credentials={"username": "=cmd|' /C calc'!A0", "password": "x"})
    entry = AuditEntry.objects.get(action=Action.SIGN_IN_FAILED)
    assert entry.object_repr == "=cmd|' /C calc'!A0" and entry.ip_address is None


def test_a_lockout_and_its_lifting_are_recorded(desk, client):
    for _ in range(5):
        client.post("/staff/login/", {"username": "jane@example.com", "password": "wrong"}, REMOTE_ADDR="192.0.2.10")
    entry = AuditEntry.objects.get(action=Action.LOCKOUT)
    assert entry.object_repr == "jane@example.com" and entry.ip_address == "192.0.2.10"
    assert entry.detail.startswith("sign-in: account jane@example.com until ")

    call_command("lockouts", "--lift-all", stdout=io.StringIO())
    lifted = AuditEntry.objects.get(action=Action.LOCKOUT_LIFTED)
    assert lifted.object_repr == "jane@example.com" and lifted.actor is None


def test_a_sign_out_is_recorded(signed_in):
    john = signed_in()
    john.post("/staff/logout/")
    assert AuditEntry.objects.filter(action=Action.SIGN_OUT, actor_label="john@example.com").exists()


# ---------------------------------------------------------------------------- services


def test_an_agent_profile_change_by_a_service_records_before_and_after(signed_in, desk):
    john = signed_in(ip="203.0.113.20")
    john.post("/staff/profile/", {"name": "John Q. Doe", "time_zone": "", "signature": "", "is_available": "on"})

    entry = AuditEntry.objects.get(action=Action.CHANGE)
    assert entry.object_type == "accounts.agent" and entry.object_id == str(desk.john.pk)
    assert entry.before["name"] == "John Doe" and entry.after["name"] == "John Q. Doe"
    assert "time_zone" not in entry.after  # unchanged fields are left out
    assert entry.ip_address == "203.0.113.20"  # from the request, though the service never saw it


def test_a_profile_saved_unchanged_records_nothing(desk):
    account_services.update_agent_profile(
        desk.john.user, desk.john, name="John Doe", time_zone="", signature="", is_available=True
    )
    assert not AuditEntry.objects.filter(action=Action.CHANGE).exists()


def test_secrets_are_masked_wherever_they_are_nested(db):
    entry = services.record(
        Action.CHANGE,
        object_repr="mailbox",
        before={"password": "hunter2", "options": {"api_key": "k-123", "nested": [{"client_secret": "s"}]}},
        after={"token": "t-456", "name": "ok"},
    )
    entry.refresh_from_db()
    assert entry.before == {
        "password": "[hidden]",
        "options": {"api_key": "[hidden]", "nested": [{"client_secret": "[hidden]"}]},
    }
    assert entry.after == {"token": "[hidden]", "name": "ok"}


# ---------------------------------------------------------------------------- append-only


@pytest.fixture
def entry(db):
    return services.record(Action.CHANGE, object_repr="something", detail="original")


def test_an_entry_cannot_be_saved_again(entry):
    entry.detail = "rewritten"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.save(update_fields=["detail"])
    assert AuditEntry.objects.get().detail == "original"


def test_a_new_object_with_an_existing_id_cannot_overwrite_an_entry(entry):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry(pk=entry.pk, action=Action.CHANGE, detail="forged").save()
    assert AuditEntry.objects.get().detail == "original"


def test_an_entry_cannot_be_deleted(entry):
    with pytest.raises(AppendOnly):
        entry.delete()
    assert AuditEntry.objects.count() == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda: AuditEntry.objects.update(detail="x"),
        lambda: AuditEntry.objects.filter(action=Action.CHANGE).update(detail="x"),
        lambda: AuditEntry.objects.all().delete(),
        lambda: AuditEntry.objects.filter(detail="original").delete(),
        lambda: AuditEntry.objects.bulk_update(list(AuditEntry.objects.all()), ["detail"]),
        lambda: AuditEntry.objects.update_or_create(pk=AuditEntry.objects.get().pk, defaults={"detail": "x"}),
    ],
    ids=["manager-update", "queryset-update", "all-delete", "queryset-delete", "bulk-update", "update-or-create"],
)
def test_bulk_changes_and_deletions_are_refused(entry, change):
    with pytest.raises(AppendOnly):
        change()
    assert AuditEntry.objects.get().detail == "original"


def test_removing_a_user_keeps_the_entries_about_them(signed_in, desk):
    signed_in(desk.ken, door="/login/")
    desk.ken.delete()
    entry = AuditEntry.objects.get(action=Action.SIGN_IN)
    assert entry.actor_label == "ken@example.com"


# ---------------------------------------------------------------------------- the admin


def test_every_registered_admin_records_its_changes():
    unaudited = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, AuditedAdminMixin) and model is not AuditEntry
    ]
    assert unaudited == []


@pytest.fixture
def admin_client(signed_in, desk):
    return signed_in(desk.admin, door="/admin/login/", ip="192.0.2.50")


def test_an_object_added_in_the_admin_is_recorded_with_its_values(admin_client, desk):
    response = admin_client.post("/admin/accounts/role/add/", {"name": "Night shift", "permissions": ["view", "note"]})
    assert response.status_code == 302

    entry = AuditEntry.objects.get(action=Action.ADMIN_ADD)
    role = Role.objects.get(name="Night shift")
    assert (entry.actor, entry.ip_address) == (desk.admin, "192.0.2.50")
    assert (entry.object_type, entry.object_id, entry.object_repr) == ("accounts.role", str(role.pk), "Night shift")
    assert entry.after["permissions"] == ["view", "note"] and entry.before is None


def test_a_change_in_the_admin_records_only_what_changed_before_and_after(admin_client):
    role = Role.objects.get(name="Agent")
    old = list(role.permissions)
    admin_client.post(f"/admin/accounts/role/{role.pk}/change/", {"name": "Agent", "permissions": ["view"]})

    entry = AuditEntry.objects.get(action=Action.ADMIN_CHANGE)
    assert entry.before == {"permissions": old}
    assert entry.after == {"permissions": ["view"]}
    assert "Changed" in entry.detail


def test_a_membership_changed_inline_on_an_agents_page_is_recorded(admin_client, desk):
    membership = Membership.objects.get(agent=desk.john)
    manager = Role.objects.get(name="Manager")
    data = {
        "user": desk.john.user.pk,
        "signature": "",
        "is_available": "on",
        "is_active": "on",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": membership.pk,
        "memberships-0-agent": desk.john.pk,
        "memberships-0-department": desk.support.pk,
        "memberships-0-role": manager.pk,
        "memberships-0-is_primary": "on",
    }
    response = admin_client.post(f"/admin/accounts/agent/{desk.john.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]

    entry = AuditEntry.objects.get(action=Action.ADMIN_CHANGE, object_type="accounts.membership")
    assert entry.before == {"role_id": membership.role_id} and entry.after == {"role_id": manager.pk}


def test_a_password_changed_in_the_admin_is_recorded_without_either_value(admin_client, desk):
    mailbox = Mailbox.objects.create(
        name="Support inbox",
        address="help@example.com",
        host="imap.example.com",
        username="help",
        password="old-imap-secret",
        department=desk.support,
    )
    from django.forms.models import model_to_dict

    data = {k: ("" if v is None else v) for k, v in model_to_dict(mailbox).items()}
    data.update({"password": "new-imap-secret", "is_active": "on" if mailbox.is_active else ""})
    response = admin_client.post(f"/admin/mail/mailbox/{mailbox.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]

    entry = AuditEntry.objects.get(action=Action.ADMIN_CHANGE, object_type="mail.mailbox")
    assert entry.before == {"password": "[hidden]"} and entry.after == {"password": "[hidden, changed]"}
    stored = repr([getattr(e, f.attname) for e in AuditEntry.objects.all() for f in AuditEntry._meta.concrete_fields])
    assert "imap-secret" not in stored


def test_a_user_added_in_the_admin_never_has_the_password_or_its_hash_stored(admin_client):
    password = "a brand new passphrase 42"
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "new@example.com",
            "name": "New Person",
            "password1": password,
            "password2": password,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from tessera.accounts.models import User

    entry = AuditEntry.objects.get(action=Action.ADMIN_ADD, object_type="accounts.user")
    assert entry.after["password"] == "[hidden]"
    assert User.objects.get(email="new@example.com").password not in repr(entry.after)


def test_a_deletion_in_the_admin_records_what_was_deleted(admin_client):
    role = Role.objects.create(name="Temporary", permissions=["view"])
    response = admin_client.post(f"/admin/accounts/role/{role.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action=Action.ADMIN_DELETE)
    assert entry.object_id == str(role.pk) and entry.before["name"] == "Temporary"


def test_a_bulk_delete_in_the_admin_records_each_row(admin_client):
    roles = [Role.objects.create(name=f"Temp {i}") for i in range(2)]
    admin_client.post(
        "/admin/accounts/role/",
        {"action": "delete_selected", "_selected_action": [r.pk for r in roles], "post": "yes"},
    )
    assert sorted(AuditEntry.objects.filter(action=Action.ADMIN_DELETE).values_list("object_repr", flat=True)) == [
        "Temp 0",
        "Temp 1",
    ]


def test_an_admin_action_is_recorded_with_its_targets(admin_client, desk):
    import hashlib

    from tessera.mail.models import Channel, InboundMessage, InboundStatus

    raw = b"From: ken@example.com\r\nTo: support@example.com\r\nSubject: Monitor\r\n\r\nIt flickers.\r\n"
    message = InboundMessage.objects.create(
        dedupe_key="sha256:x", sha256=hashlib.sha256(raw).hexdigest(), raw=raw, size=len(raw),
        channel=Channel.IMAP, sender="ken@example.com", subject="Monitor", status=InboundStatus.REJECTED,
    )  # fmt: skip
    admin_client.post("/admin/mail/inboundmessage/", {"action": "reprocess", "_selected_action": [message.pk]})

    entry = AuditEntry.objects.get(action=Action.ADMIN_ACTION)
    assert (entry.object_type, entry.object_id) == ("mail.inboundmessage", str(message.pk))
    assert entry.detail == f"reprocess: {message.pk}" and entry.actor == desk.admin
