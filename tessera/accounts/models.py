"""People and how the desk is organised: who may see and do what is decided in
tickets.policy from the facts stored here (department memberships and their roles)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tessera.compiled_insert import CompiledInsert

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import ManyRelatedManager


class Perm(models.TextChoices):
    """What a role can grant inside a department."""

    VIEW = "view", _("View tickets")
    REPLY = "reply", _("Reply to the user")
    NOTE = "note", _("Write internal notes")
    ASSIGN = "assign", _("Assign and reassign")
    TRANSFER = "transfer", _("Transfer to another department")
    PRIORITY = "priority", _("Change priority")
    STATUS = "status", _("Change status (resolve, reopen)")
    CLOSE = "close", _("Close tickets")
    DELETE = "delete", _("Delete tickets")
    MERGE = "merge", _("Merge tickets")
    MANAGE = "manage", _("Manage collaborators and ticket details")
    CANNED = "canned", _("Manage canned responses")
    KB = "kb", _("Write and edit knowledge-base articles")
    # Tasks (tessera.tasks): pieces of work on a ticket or on their own, as osTicket's task permissions.
    TASK_CREATE = "task_create", _("Create tasks")
    TASK_EDIT = "task_edit", _("Edit tasks (title, description, due date)")
    TASK_ASSIGN = "task_assign", _("Assign tasks")
    TASK_TRANSFER = "task_transfer", _("Transfer tasks to another department")
    TASK_CLOSE = "task_close", _("Close and reopen tasks")
    TASK_DELETE = "task_delete", _("Delete tasks")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return (email or "").strip().lower()

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=self.normalize_email(username))


class Organization(models.Model):
    """A customer company. New users whose address is at one of its email domains
    (`OrganizationDomain`) join it; with `share_tickets` its members see each other's tickets."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    account_manager = models.ForeignKey(
        "Agent",
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_organizations",
        help_text=_("The agent who looks after this customer. For information only: it grants no access."),
    )
    share_tickets = models.BooleanField(
        _("share tickets among members"),
        default=False,
        help_text=_("Members may then read and answer every ticket of the organisation on the Help Center."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        # The people lookup's "starts with", case ignored, in byte order (accounts/lookup.py) has
        # an index on PostgreSQL only, made by migration 0009_user_lookup_index and not declared
        # here: SQLite has no "C" collation and rebuilds a table from its declared indexes.

    def __str__(self) -> str:
        return self.name


validate_email_domain = RegexValidator(
    r"(?i)^(?=.{1,200}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$",
    message=_("Enter a domain such as example.com, without @ or spaces."),
)


class OrganizationDomain(models.Model):
    """An email domain whose new users join the organisation (stored lower-case; a domain
    belongs to one organisation at most)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="domains", verbose_name=_("organisation")
    )
    domain = models.CharField(
        _("email domain"),
        max_length=200,
        unique=True,
        validators=[validate_email_domain],
        error_messages={"unique": _("Another organisation already has this email domain.")},
    )

    class Meta:
        verbose_name = _("email domain")
        verbose_name_plural = _("email domains")
        ordering = ["domain"]
        constraints = [
            models.CheckConstraint(condition=models.Q(domain=Lower("domain")), name="organizationdomain_lower_case")
        ]

    def __str__(self) -> str:
        return self.domain

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.domain = (self.domain or "").strip().lower()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # Before the unique check (full_clean runs it after clean), so "ACME.example" meets "acme.example".
        self.domain = (self.domain or "").strip().lstrip("@").lower()


class User(CompiledInsert, AbstractBaseUser, PermissionsMixin):
    """Everyone who touches a ticket: end users (who may never set a password) and agents.

    Login is by email address, stored lower-cased so "Ken@Example.com" and
    "ken@example.com" are one person.
    """

    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
    )
    # osTicket's "primary contact": the customer's own manager, unlike Organization.account_manager
    # (the desk's agent, information only). Read by policy.shares_organisation_ticket.
    organization_manager = models.BooleanField(
        _("organisation manager"),
        default=False,
        help_text=_("Sees and answers every ticket of their organisation on the Help Center."),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    # A code from settings.LANGUAGES; empty follows the browser (portal) or the desk's default.
    # Not a choices field, so shipping a language needs no migration.
    language = models.CharField(_("language"), max_length=12, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=40, blank=True, default="")
    is_staff = models.BooleanField(
        _("administrator"), default=False, help_text=_("May sign in to the configuration admin.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    # Set on request.user (not stored) by django_otp's OTPMiddleware: whether this session gave
    # its second factor. Declared for the type checker only; other User instances lack it.
    is_verified: Callable[[], bool]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["name", "email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]
        # The people lookup's keys (accounts/lookup.py: the name, the rest of the name after its
        # first word, the address) are indexed in byte order ("C") on PostgreSQL only, by migration
        # 0009_user_lookup_index, and not declared here: SQLite has no "C" collation and rebuilds
        # a table from its declared indexes whenever a migration changes it.

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def set_unusable_password(self) -> None:
        # Any value starting with "!" is unusable (django.contrib.auth.hashers). Django draws its
        # 40 random characters one secrets.choice() at a time, and every requester made by mail
        # or the API gets one: a single call to the same generator costs a fortieth (issue 13).
        self.password = UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return (self.name or self.email).split(" ")[0]

    @property
    def agent_or_none(self) -> Agent | None:
        try:
            return self.agent
        except Agent.DoesNotExist:
            return None

    @property
    def is_agent(self) -> bool:
        agent = self.agent_or_none
        return agent is not None and agent.is_active


class Role(models.Model):
    """A named set of permissions, given to an agent per department."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    permissions = models.JSONField(_("permissions"), default=list, blank=True)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def grants(self, perm: str) -> bool:
        return perm in self.permissions


class AssignmentMode(models.TextChoices):
    """How a department or team hands out tickets that nobody has (tessera.automation.assignment)."""

    MANUAL = "manual", _("Manually (agents claim or assign them)")
    ROUND_ROBIN = "round_robin", _("Automatically, in turn (round robin)")
    FEWEST_OPEN = "fewest_open", _("Automatically, to the agent with the fewest open tickets")


class Department(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    manager = models.ForeignKey(
        "Agent",
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_departments",
    )
    email = models.EmailField(
        _("outgoing email"), blank=True, help_text=_("From address for mail about this department's tickets.")
    )
    is_public = models.BooleanField(_("public"), default=True)
    unknown_senders = models.CharField(
        _("mail from other addresses on a ticket"),
        max_length=12,
        choices=[("collaborator", _("Add the sender as a collaborator")), ("refuse", _("Refuse and keep the message"))],
        default="collaborator",
        help_text=_("When someone who is neither the requester nor copied on a ticket answers it by email."),
    )
    assign_members_only = models.BooleanField(
        _("restrict assignment to members"),
        default=False,
        help_text=_(
            "Tickets here can then be assigned only to agents of this department, or of the team the ticket "
            "is assigned to. Leave unticked to allow any agent."
        ),
    )
    sla_plan = models.ForeignKey(
        "sla.SlaPlan",
        verbose_name=_("SLA plan"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("For tickets whose help topic names no plan. Empty: the desk default."),
    )
    assignment_mode = models.CharField(
        _("assign new tickets"),
        max_length=12,
        choices=AssignmentMode.choices,
        default=AssignmentMode.MANUAL,
        help_text=_(
            "Automatic assignment gives each new or transferred ticket nobody has to one of the department's "
            "agents who can answer it, skipping agents who are away, inactive or at their limit."
        ),
    )
    open_ticket_limit = models.PositiveIntegerField(
        _("most open tickets per agent"),
        null=True,
        blank=True,
        validators=[
            MinValueValidator(1, message=_("Give a limit of 1 or more open tickets, or leave it empty for no limit."))
        ],
        help_text=_(
            "Automatic assignment passes over agents who already have this many open tickets. Empty: no limit."
        ),
    )
    signature = models.TextField(
        _("signature"),
        blank=True,
        help_text=_(
            "Signs the department's automatic mail to customers (acknowledgements, resolved and closed notices), "
            "and replies whose agent chooses the department's signature. Plain text or Markdown."
        ),
    )
    auto_close_days = models.PositiveSmallIntegerField(
        _("close resolved tickets after (days)"),
        null=True,
        blank=True,
        default=3,
        validators=[
            MinValueValidator(
                1, message=_("Give 1 day or more, or leave it empty to never close tickets by themselves.")
            )
        ],
        help_text=_(
            "A resolved ticket closes by itself after this many days without a reply from the customer (a reply "
            "reopens it). Empty: never."
        ),
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    lead = models.ForeignKey(
        "Agent", verbose_name=_("lead"), null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams"
    )
    members: models.ManyToManyField[Agent, Any] = models.ManyToManyField(
        "Agent", verbose_name=_("members"), related_name="teams", blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    assignment_mode = models.CharField(
        _("assign the team's tickets"),
        max_length=12,
        choices=AssignmentMode.choices,
        default=AssignmentMode.MANUAL,
        help_text=_(
            "Automatic assignment gives each ticket handed to the team without an agent to one of its members, "
            "skipping members who are away, inactive or at their department's limit."
        ),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Density(models.TextChoices):
    """How tightly an agent's queue tables are drawn: comfortable rows, or compact ones that
    show more tickets on one screen."""

    COMFORTABLE = "comfortable", _("Comfortable")
    COMPACT = "compact", _("Compact")


class Agent(models.Model):
    """The staff side of a user: where they work, with which role, and how they sign."""

    user = models.OneToOneField(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="agent")
    departments = models.ManyToManyField(
        Department, through="Membership", related_name="agents", verbose_name=_("departments")
    )
    signature = models.TextField(_("signature"), blank=True)
    # The vacation switch (osTicket's "vacation mode"): unticked, nobody can assign the agent tickets
    # and automatic assignment passes them over.
    is_available = models.BooleanField(_("available for assignment"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    density = models.CharField(_("queue density"), max_length=12, choices=Density.choices, default=Density.COMFORTABLE)

    # Team.members names this model before it exists, so the stubs' plugin does not add the
    # reverse side; Django does, at run time.
    teams: ManyRelatedManager[Team, models.Model]
    # Filled on first use by tickets.policy: a page asks it many questions about one agent.
    _membership_cache: list[Membership]
    _team_cache: set[int]

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["user__name"]

    def __str__(self) -> str:
        return self.user.display_name

    @property
    def name(self) -> str:
        return self.user.display_name


class Membership(models.Model):
    """An agent's place in one department, and the role they hold there.

    The primary membership's role also applies to tickets the agent reaches
    outside their departments (assigned to them, or referred to them).
    """

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("agent"))
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("department")
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("role"))
    is_primary = models.BooleanField(_("primary department"), default=False)

    class Meta:
        verbose_name = _("department membership")
        verbose_name_plural = _("department memberships")
        constraints = [
            models.UniqueConstraint(fields=["agent", "department"], name="membership_unique"),
            models.UniqueConstraint(
                fields=["agent"], condition=models.Q(is_primary=True), name="membership_one_primary"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} @ {self.department} ({self.role})"


class Throttle(models.Model):
    """How often one account or one client address tried something guardable, and until when it
    is locked out. Rows live in the database (not a per-process cache) so every web worker sees
    the same count and an administrator can lift a lockout for all of them at once."""

    class Scope(models.TextChoices):
        SIGN_IN = "sign-in", _("Sign-in")
        PASSWORD_RESET = "password-reset", _("Password reset")
        STATUS_LOOKUP = "status-lookup", _("Ticket status lookup")

    class Kind(models.TextChoices):
        ACCOUNT = "account", _("Email address")
        ADDRESS = "address", _("Client IP address")

    scope = models.CharField(_("what"), max_length=20, choices=Scope.choices)
    kind = models.CharField(_("counted per"), max_length=10, choices=Kind.choices)
    key = models.CharField(_("email or IP address"), max_length=254)
    hits = models.PositiveIntegerField(_("attempts in this window"), default=0)
    window_started = models.DateTimeField(_("window started"), default=timezone.now)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    class Meta:
        verbose_name = _("lockout")
        verbose_name_plural = _("lockouts")
        ordering = ["-locked_until", "scope", "key"]
        constraints = [models.UniqueConstraint(fields=["scope", "kind", "key"], name="throttle_unique_key")]
        indexes = [models.Index(fields=["locked_until"], name="throttle_locked_until")]

    def __str__(self) -> str:
        return f"{self.get_scope_display()}: {self.key}"

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()


class TwoFactorPolicy(models.Model):
    """Who must use a second factor to enter the workspace and the admin: one row, changed by an
    administrator at run time (tessera.accounts.twofactor reads it)."""

    class Required(models.TextChoices):
        NOBODY = "nobody", _("Nobody (agents may still choose to use it)")
        ADMINS = "admins", _("Administrators")
        AGENTS = "agents", _("All agents and administrators")

    required_for = models.CharField(
        _("two-factor authentication is required for"),
        max_length=10,
        choices=Required.choices,
        default=Required.NOBODY,
        help_text=_(
            "Whoever it applies to and has no authenticator app or passkey yet is sent to set one up "
            "and can reach nothing else in the workspace or the admin until they have."
        ),
    )

    class Meta:
        verbose_name = _("two-factor policy")
        verbose_name_plural = _("two-factor policy")

    def __str__(self) -> str:
        return str(_("Two-factor policy"))


class DirectoryNote(models.Model):
    """What an agent wrote down about an end user or an organisation (exactly one of the two);
    agents only, never shown on the Help Center."""

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="directory_notes", verbose_name=_("user")
    )
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="directory_notes",
        verbose_name=_("organisation"),
    )
    author = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("author"))
    body = models.TextField(_("note"), max_length=4000)
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, organization__isnull=True)
                    | models.Q(user__isnull=True, organization__isnull=False)
                ),
                name="directorynote_about_one",
            )
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="directorynote_user"),
            models.Index(fields=["organization", "-created_at"], name="directorynote_org"),
        ]

    def __str__(self) -> str:
        return self.body[:60]
