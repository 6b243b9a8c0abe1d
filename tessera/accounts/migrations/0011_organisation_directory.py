# Organisations get a list of email domains (was one `domain` column), an account manager, the
# "share tickets among members" switch, and notes about users and organisations.
#
# Every existing domain is copied, lower-cased, before the column goes. Two organisations that
# claimed the same domain could not both keep it (a domain now belongs to one organisation): the
# older one keeps it, as new users already joined the older one, and the younger one gets a note
# saying which domain it had, so nothing is lost.

import django.core.validators
import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def copy_domains(apps, schema_editor):
    Organization = apps.get_model("accounts", "Organization")
    OrganizationDomain = apps.get_model("accounts", "OrganizationDomain")
    DirectoryNote = apps.get_model("accounts", "DirectoryNote")
    owners = {}
    for org in Organization.objects.exclude(domain="").order_by("pk").iterator():
        domain = org.domain.strip().lstrip("@").strip().lower()
        if not domain:
            continue
        if domain in owners:
            DirectoryNote.objects.create(
                organization=org,
                author=None,
                body=(
                    f"This organisation's email domain was {domain}. {owners[domain]} claimed it first, so new "
                    f"users at {domain} join {owners[domain]}; a domain now belongs to one organisation."
                ),
            )
            continue
        owners[domain] = org.name
        OrganizationDomain.objects.create(organization=org, domain=domain)


def copy_domains_back(apps, schema_editor):
    Organization = apps.get_model("accounts", "Organization")
    OrganizationDomain = apps.get_model("accounts", "OrganizationDomain")
    for row in OrganizationDomain.objects.order_by("-pk").iterator():  # the first domain wins
        Organization.objects.filter(pk=row.organization_id).update(domain=row.domain)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_department_signature"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="account_manager",
            field=models.ForeignKey(
                blank=True,
                help_text="The agent who looks after this customer. For information only: it grants no access.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="managed_organizations",
                to="accounts.agent",
                verbose_name="account manager",
            ),
        ),
        migrations.AddField(
            model_name="organization",
            name="share_tickets",
            field=models.BooleanField(
                default=False,
                help_text="Members may then read and answer every ticket of the organisation on the Help Center.",
                verbose_name="share tickets among members",
            ),
        ),
        migrations.CreateModel(
            name="DirectoryNote",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("body", models.TextField(max_length=4000, verbose_name="note")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="written")),
                (
                    "author",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="author",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="directory_notes",
                        to="accounts.organization",
                        verbose_name="organisation",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="directory_notes",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "note",
                "verbose_name_plural": "notes",
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(fields=["user", "-created_at"], name="directorynote_user"),
                    models.Index(fields=["organization", "-created_at"], name="directorynote_org"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("organization__isnull", True), ("user__isnull", False)),
                            models.Q(("organization__isnull", False), ("user__isnull", True)),
                            _connector="OR",
                        ),
                        name="directorynote_about_one",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="OrganizationDomain",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "domain",
                    models.CharField(
                        error_messages={"unique": "Another organisation already has this email domain."},
                        max_length=200,
                        unique=True,
                        validators=[
                            django.core.validators.RegexValidator(
                                "(?i)^(?=.{1,200}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$",
                                message="Enter a domain such as example.com, without @ or spaces.",
                            )
                        ],
                        verbose_name="email domain",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="domains",
                        to="accounts.organization",
                        verbose_name="organisation",
                    ),
                ),
            ],
            options={
                "verbose_name": "email domain",
                "verbose_name_plural": "email domains",
                "ordering": ["domain"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("domain", django.db.models.functions.text.Lower("domain"))),
                        name="organizationdomain_lower_case",
                    )
                ],
            },
        ),
        migrations.RunPython(copy_domains, copy_domains_back),
        migrations.RemoveField(
            model_name="organization",
            name="domain",
        ),
    ]
