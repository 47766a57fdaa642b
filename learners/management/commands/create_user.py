from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

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

    @transaction.atomic
    def handle(self, email, role, partner, customer, name, password, **options):
        fields = {"role": role, "full_name": name}
        if role == Role.PARTNER_MANAGER:
            fields["partner"] = _lookup(Partner, partner, "--partner", extra="name")
        elif role in (Role.CUSTOMER_MANAGER, Role.LEARNER):
            fields["customer"] = _lookup(Customer, customer, "--customer", extra="schema_name")
        elif role == Role.OPERATOR:
            fields.update(is_staff=True, is_superuser=True)
        if User.objects.filter(email__iexact=email.strip()).exists():
            raise CommandError(f"A user with the email {email} already exists.")
        user = User.objects.create_user(email, password, **fields)
        if role == Role.LEARNER:
            ensure_learner_for_user(user)
        self.stdout.write(self.style.SUCCESS(f"Created {user.get_role_display().lower()} {user.email} (id {user.pk})."))


def _lookup(model, value, flag, extra):
    if not value:
        raise CommandError(f"{flag} is required for this role.")
    query = model.objects.filter(**{f"{extra}__iexact": value})
    if value.isdigit():
        query = query | model.objects.filter(pk=int(value))
    found = list(query[:2])
    if len(found) != 1:
        raise CommandError(f"No single {model._meta.verbose_name} matches {value!r}.")
    return found[0]
