from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Role(models.TextChoices):
    PARTNER_MANAGER = "partner_manager", "Partner manager"
    CUSTOMER_MANAGER = "customer_manager", "Customer manager"
    LEARNER = "learner", "Learner"
    OPERATOR = "operator", "Operator"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalise_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True, role=Role.OPERATOR)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, email):
        return self.get(email=normalise_email(email))


def normalise_email(email: str) -> str:
    """Emails are compared trimmed and case-insensitively everywhere in the product."""
    return (email or "").strip().lower()


class User(AbstractBaseUser, PermissionsMixin):
    """Everyone who signs in. The role says which home they land on and which company
    they belong to: a partner manager has a partner, customer managers and learners
    have a customer. Users are deactivated, never deleted (tenant rows refer to them)."""

    email = models.EmailField(unique=True, max_length=254)
    full_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices)
    partner = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="managers"
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    # True while the user has a confirmed TOTP device: read with the user on every
    # request, so the two-factor gate costs no query. Written by accounts.two_factor only.
    two_factor_enabled = models.BooleanField(default=False, editable=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="user_role_matches_company",
                condition=(
                    Q(role=Role.PARTNER_MANAGER, customer__isnull=True)
                    | Q(role__in=[Role.CUSTOMER_MANAGER, Role.LEARNER], customer__isnull=False, partner__isnull=True)
                    | Q(role=Role.OPERATOR, partner__isnull=True, customer__isnull=True)
                ),
            ),
        ]
        indexes = [models.Index(fields=["customer", "role"])]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        self.email = normalise_email(self.email)
        super().save(*args, **kwargs)

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_partner_manager(self) -> bool:
        return self.role == Role.PARTNER_MANAGER and self.partner_id is not None

    @property
    def is_customer_manager(self) -> bool:
        return self.role == Role.CUSTOMER_MANAGER

    @property
    def is_learner(self) -> bool:
        return self.role == Role.LEARNER


class AuditEvent(models.Model):
    """Who did what, when, in which customer: written only through the ``events.py``
    module of each domain (one function per event), inside the action's transaction."""

    class Action(models.TextChoices):
        MANAGE_MODE_ENTERED = "manage_mode.entered", "Manage mode entered"
        MANAGE_MODE_LEFT = "manage_mode.left", "Manage mode left"
        ORDER_REQUESTED = "order.requested", "Order requested"
        ORDER_ASSIGNED = "order.assigned", "Order assigned"
        ORDER_CANCELLED = "order.cancelled", "Order cancelled"
        LICENCES_ALLOCATED = "licences.allocated", "Licences allocated"
        LICENCES_RENEWED = "licences.renewed", "Licences renewed"
        LEARNERS_ADDED = "learners.added", "Learners added"
        LEARNER_DEACTIVATED = "learner.deactivated", "Learner deactivated"
        SIGN_IN_FAILED = "sign_in.failed", "Sign-in failed"
        SIGN_IN_LOCKED_OUT = "sign_in.locked_out", "Sign-in paused after failures"
        PASSWORD_RESET_THROTTLED = "password_reset.throttled", "Password reset requests paused"
        TWO_FACTOR_DEVICE_ADDED = "two_factor.device_added", "Two-factor device added"
        TWO_FACTOR_DEVICE_REMOVED = "two_factor.device_removed", "Two-factor device removed"
        TWO_FACTOR_CODE_FAILED = "two_factor.code_failed", "Two-factor code refused"
        TWO_FACTOR_LOCKED_OUT = "two_factor.locked_out", "Two-factor codes paused after failures"
        TWO_FACTOR_REQUIREMENT_CHANGED = "two_factor.requirement_changed", "Two-factor requirement changed"
        PARTNER_TIME_ZONE_CHANGED = "partner.time_zone_changed", "Partner time zone changed"
        REMINDER_SCHEDULE_CHANGED = "notifications.schedule_changed", "Reminder schedule changed"
        NOTICE_COPIES_CHANGED = "notifications.copies_changed", "Copies of expiry notices changed"
        DIGEST_SUBSCRIPTION_CHANGED = "notifications.digest_changed", "Weekly digest turned on or off"
        SEAT_ALERTS_CHANGED = "notifications.seat_alerts_changed", "Seat alert settings changed"
        # The partner API (api.events).
        CUSTOMER_CREATED = "customer.created", "Customer created"
        API_TOKEN_CREATED = "api_token.created", "API token created"
        API_TOKEN_REVOKED = "api_token.revoked", "API token revoked"
        WEBHOOK_ENDPOINT_ADDED = "webhook_endpoint.added", "Webhook endpoint added"
        WEBHOOK_ENDPOINT_CHANGED = "webhook_endpoint.changed", "Webhook endpoint changed"
        WEBHOOK_ENDPOINT_REMOVED = "webhook_endpoint.removed", "Webhook endpoint removed"
        WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled", "Webhook endpoint disabled"
        WEBHOOK_ENDPOINT_ENABLED = "webhook_endpoint.enabled", "Webhook endpoint enabled"
        WEBHOOK_REDELIVERED = "webhook.redelivered", "Webhook redelivered"
        # Continuity (learners.events): renewing before access ends.
        LICENCES_RENEWED_EARLY = "licences.renewed_early", "Licences renewed early"
        CARRY_OVER_CHANGED = "licences.carry_over_changed", "Carry-over at expiry changed"
        LICENCES_CARRIED_OVER = "licences.carried_over", "Licences carried over at expiry"

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=40, choices=Action.choices)
    partner = models.ForeignKey("partners.Partner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    in_manage_mode = models.BooleanField(default=False)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["action", "-at"]),
            # The partner API's audit list and the partner's Activity page, newest first.
            models.Index(fields=["partner", "-at", "-id"], name="audit_partner_idx"),
            # The Activity pages (insight.activity): one customer's log, and each filtered
            # by kind or by who, newest first in the order the keyset pagination walks.
            models.Index(fields=["customer", "-at", "-id"], name="audit_customer_idx"),
            models.Index(fields=["partner", "action", "-at", "-id"], name="audit_partner_action_idx"),
            models.Index(fields=["customer", "action", "-at", "-id"], name="audit_customer_action_idx"),
            models.Index(fields=["actor", "-at", "-id"], name="audit_actor_idx"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} by {self.actor}"
