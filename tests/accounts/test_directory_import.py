"""Importing people from CSV: a preview that says what each row would do and what is wrong with
it, then everything at once or nothing, applying exactly the previewed file."""

from __future__ import annotations

import pytest

from django.core import signing
from django.db import DatabaseError
from django.urls import reverse

from tessera.accounts import directory_import, directory_services
from tessera.accounts.directory_import import ImportRefused, Step
from tessera.accounts.models import Organization, OrganizationDomain, User
from tessera.audit.models import AuditEntry


@pytest.fixture
def acme(desk):
    org = Organization.objects.create(name="Acme")
    OrganizationDomain.objects.create(organization=org, domain="acme.example")
    return org


GOOD = (
    b"email,name,organisation,time zone\n"
    b"ann@example.net,Ann Archer,acme,Europe/Paris\n"
    b"ken@example.com,Kenneth Adams,,\n"
    b"bob@acme.example,Bob Baker,,\n"
)


def test_the_preview_says_what_each_row_would_do_and_changes_nothing(desk, acme):
    plan = directory_import.prepare(desk.john.user, GOOD)
    steps = {row.email: row.step for row in plan.rows}
    assert steps == {"ann@example.net": Step.CREATE, "ken@example.com": Step.UPDATE, "bob@acme.example": Step.CREATE}
    ken = next(r for r in plan.rows if r.email == "ken@example.com")
    assert ken.changes == ["name: Ken Adams → Kenneth Adams"]
    assert plan.can_apply and plan.token
    assert not User.objects.filter(email="ann@example.net").exists()
    desk.ken.refresh_from_db()
    assert desk.ken.name == "Ken Adams"


def test_each_bad_row_is_reported_with_its_line_and_nothing_can_be_imported(desk, acme):
    data = (
        b"Email;Name;Organization\n"
        b"not-an-address;X;\n"
        b"ann@example.net;Ann;\n"
        b"ANN@example.net;Ann again;\n"
        b"carl@example.net;Carl;Nowhere Inc\n"
        b"john@example.com;John;\n"
        b"dora@example.net;Dora;Acme\n"
    )
    plan = directory_import.prepare(desk.john.user, data)
    errors = {row.line: row.errors for row in plan.errors}
    assert errors == {
        2: ["“not-an-address” is not a valid email address."],
        4: ["This address is also on line 3."],
        5: ["No organisation is named “Nowhere Inc”. An administrator creates it first."],
        6: ["This address belongs to an agent or administrator; change them in the admin."],
    }
    assert not plan.can_apply and not plan.token


def test_utf8_with_a_byte_order_mark_semicolons_and_unknown_columns_are_read(desk, acme):
    data = "\ufeffE-mail;Full name;Shoe size;Time zone\r\nzoe@example.net;Zoë Zander;38;Europe/Paris\r\n".encode()
    plan = directory_import.prepare(desk.john.user, data)
    assert plan.ignored_columns == ["Shoe size"]
    assert [(r.email, r.step, r.values.get("name")) for r in plan.rows] == [
        ("zoe@example.net", Step.CREATE, "Zoë Zander")
    ]


def test_a_phone_column_is_read_checked_and_shown_as_a_change(desk, acme):
    User.objects.create_user("ann@example.net", name="Ann Archer", phone="+44 20 7946 0000")
    data = (
        "email,name,Telephone\r\n"
        "zoe@example.net,Zoë Zander,+33 1 23 45 67 89 X12\r\n"
        "ann@example.net,Ann Archer,+44 20 7946 0001\r\n"
        "bob@example.net,Bob,<script>\r\n"
    ).encode()
    plan = directory_import.prepare(desk.john.user, data)
    zoe, ann, bob = plan.rows
    assert zoe.step == Step.CREATE and zoe.values["phone"] == "+33 1 23 45 67 89 X12"
    assert ann.step == Step.UPDATE and ann.changes == ["phone: +44 20 7946 0000 → +44 20 7946 0001"]
    assert bob.step == Step.ERROR and bob.errors == ["“<script>” is not a phone number."]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "The file is empty."),
        (b"name,organisation\nAnn,Acme\n", "The first row must name the columns"),
        ("email\nj\xe9r\xf4me@example.net\n".encode("latin-1"), "not UTF-8"),
        (b"email\n" + b"a@b.example\n" * 10 + b"\x00", "binary"),
        (b"email\n", "lists nobody"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(desk, data, problem):
    plan = directory_import.prepare(desk.john.user, data)
    assert problem in plan.problem and not plan.rows and not plan.can_apply


def test_limits_on_size_and_rows(desk, monkeypatch):
    monkeypatch.setattr(directory_import, "MAX_ROWS", 2)
    plan = directory_import.prepare(desk.john.user, b"email\na@x.example\nb@x.example\nc@x.example\n")
    assert "more than 2 people" in plan.problem
    big = b"email\n" + b"a@x.example\n" * (directory_import.MAX_BYTES // 12 + 10)
    assert "larger than" in directory_import.prepare(desk.john.user, big).problem


def test_the_import_applies_exactly_the_preview_and_new_people_join_by_domain(desk, acme):
    plan = directory_import.prepare(desk.john.user, GOOD)
    directory_import.apply(desk.john.user, plan.token)

    ann = User.objects.get(email="ann@example.net")
    assert (ann.name, ann.organization, ann.time_zone, ann.has_usable_password()) == (
        "Ann Archer",
        acme,
        "Europe/Paris",
        False,
    )
    assert User.objects.get(email="bob@acme.example").organization == acme  # by its domain
    desk.ken.refresh_from_db()
    assert desk.ken.name == "Kenneth Adams" and desk.ken.organization is None  # an empty cell clears nothing
    summary = AuditEntry.objects.get(detail="people imported")
    assert summary.actor == desk.john.user and summary.after == {"created": 2, "updated": 1}


def test_a_database_error_on_a_late_row_leaves_nothing_imported(desk, acme, monkeypatch):
    plan = directory_import.prepare(desk.john.user, GOOD)
    real = directory_services.create_end_user
    calls = []

    def create_then_fail(actor, values):
        calls.append(values["email"])
        if len(calls) == 2:
            raise DatabaseError("disk full")
        return real(actor, values)

    monkeypatch.setattr(directory_services, "create_end_user", create_then_fail)
    with pytest.raises(ImportRefused, match="Nothing was imported: line 4"):
        directory_import.apply(desk.john.user, plan.token)

    assert calls == ["ann@example.net", "bob@acme.example"]
    assert not User.objects.filter(email__in=["ann@example.net", "bob@acme.example"]).exists()
    desk.ken.refresh_from_db()
    assert desk.ken.name == "Ken Adams"  # the update on line 3 was rolled back too
    assert not AuditEntry.objects.filter(detail__in=["user created", "user changed", "people imported"]).exists()


def test_a_token_that_was_not_previewed_here_or_by_this_agent_is_refused(desk, acme):
    plan = directory_import.prepare(desk.john.user, GOOD)
    with pytest.raises(ImportRefused, match="not previewed"):
        directory_import.apply(desk.john.user, plan.token[:-2] + "xx")
    with pytest.raises(ImportRefused, match="not previewed"):
        directory_import.apply(desk.bill.user, plan.token)
    forged = signing.dumps({"csv": "email\nevil@example.net\n", "plan": "x", "by": desk.john.user.pk})
    with pytest.raises(ImportRefused):
        directory_import.apply(desk.john.user, forged)
    assert not User.objects.filter(email__in=["ann@example.net", "evil@example.net"]).exists()


def test_a_directory_changed_since_the_preview_is_not_imported_blindly(desk, acme):
    plan = directory_import.prepare(desk.john.user, GOOD)
    User.objects.create_user("ann@example.net", name="Ann Elsewhere")  # someone added Ann meanwhile
    with pytest.raises(ImportRefused, match="changed since the preview"):
        directory_import.apply(desk.john.user, plan.token)
    assert not User.objects.filter(email="bob@acme.example").exists()


def test_through_the_workspace_upload_preview_and_import(client, desk, acme):
    client.force_login(desk.john.user)
    upload = client.get(reverse("staff:people_import"))
    assert upload.status_code == 200

    from django.core.files.uploadedfile import SimpleUploadedFile

    preview = client.post(reverse("staff:people_import"), {"file": SimpleUploadedFile("people.csv", GOOD)})
    html = preview.content.decode()
    assert preview.status_code == 200 and "2 new people" in html and "1 person updated" in html
    token = html.split('name="token" value="')[1].split('"')[0]
    assert not User.objects.filter(email="ann@example.net").exists()

    done = client.post(reverse("staff:people_import_confirm"), {"token": token}, follow=True)
    assert "Imported: 2 new people, 1 updated." in done.content.decode()
    assert User.objects.filter(email="ann@example.net").exists()

    again = client.post(reverse("staff:people_import_confirm"), {"token": token})
    assert again.status_code == 400  # the same file again would now change nothing: refused, not re-applied

    bad = client.post(reverse("staff:people_import"), {"file": SimpleUploadedFile("people.csv", b"email\nnope\n")})
    assert bad.status_code == 400 and "Line 2" in bad.content.decode() and 'name="token"' not in bad.content.decode()


def test_end_users_cannot_import(client, desk):
    client.force_login(desk.ken)
    assert client.get(reverse("staff:people_import")).status_code == 403
    with pytest.raises(Exception, match="may not import"):
        directory_import.prepare(desk.ken, GOOD)


def test_a_name_that_would_break_a_mail_header_is_imported_on_one_line(desk):
    data = b'email,name\nann@example.net,"Ann\r\nBcc: victim@example.org"\n'
    plan = directory_import.prepare(desk.john.user, data)
    directory_import.apply(desk.john.user, plan.token)
    name = User.objects.get(email="ann@example.net").name
    assert "\n" not in name and "\r" not in name and name.startswith("Ann")
