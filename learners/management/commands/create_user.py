from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Role, User
from customers.models import Customer
from learners.roster import ensure_learner_for_user
from partners.models import Partner


class Command(BaseCommand):
    help = "Create a user with a role: partner_manager (--partner), customer_manager or learner (--customer), operator."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--partner", help="Partner name or id (partner managers)")
        parser.add_argument("--customer", help="Customer name, schema name or id (customer managers, learners)")
        parser.add_argument("--name", default="", help="Full name")
        parser.add_argument("--password", help="Password; without it the user must reset theirs by email")

    def handle(self, email, role, partner, customer, name, password, **options):
        with transaction.atomic():
            user = self._create(email, role, partner, customer, name, password)
        self.stdout.write(self.style.SUCCESS(f"Created {user.get_role_display().lower()} {user.email} (id {user.pk})."))
        if not password:
            send_password_reset(user)
            self.stdout.write(f"No password given: a link to choose one was emailed to {user.email}.")

    def _create(self, email, role, partner, customer, name, password):
        fields = {"role": role, "full_name": name}
        if role == Role.PARTNER_MANAGER:
            fields["partner"] = _lookup(Partner, partner, "--partner", "name")
        elif role in (Role.CUSTOMER_MANAGER, Role.LEARNER):
            fields["customer"] = _lookup(Customer, customer, "--customer", "name", "schema_name")
        elif role == Role.OPERATOR:
            fields.update(is_staff=True, is_superuser=True)
        if User.objects.filter(email__iexact=email.strip()).exists():
            raise CommandError(f"A user with the email {email} already exists.")
        user = User.objects.create_user(email, password, **fields)
        if role == Role.LEARNER:
            ensure_learner_for_user(user)
        return user


def send_password_reset(user) -> None:
    """The email the sign-in page's password reset sends, with a link to choose a
    password, built from SITE_URL. Sent directly: Django's reset form skips users who
    have no usable password yet, which is every user created without one."""
    site = urlsplit(settings.SITE_URL)
    context = {
        "email": user.email,
        "domain": site.netloc,
        "protocol": site.scheme,
        "site_url": settings.SITE_URL,
        "site_name": site.netloc,
        "user": user,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }
    PasswordResetForm().send_mail(
        "accounts/password_reset_subject.txt",
        "accounts/password_reset_email.txt",
        context,
        None,
        user.email,
    )


def _lookup(model, value, flag, *fields):
    """The one row whose name (or schema name) is ``value``, whatever its case, or
    whose id it is."""
    if not value:
        raise CommandError(f"{flag} is required for this role.")
    query = model.objects.none()
    for field in fields:
        query = query | model.objects.filter(**{f"{field}__iexact": value})
    if value.isdigit():
        query = query | model.objects.filter(pk=int(value))
    found = list(query[:2])
    if len(found) != 1:
        raise CommandError(f"No single {model._meta.verbose_name} matches {value!r}.")
    return found[0]
