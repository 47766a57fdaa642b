"""Demo data that shows every part of the product. Safe to run again: it finds what
it made before instead of making it twice."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Role, User
from customers.models import Customer
from customers.services import create_customer
from learners.models import Learner
from learners.services import ensure_learner_for_user
from partners.models import Partner

DEMO_PASSWORD = "demo-licences-2026"

PARTNERS = {
    "Northwind Security": [("alice@northwind.example", "Alice Archer"), ("bob@northwind.example", "Bob Baker")],
    "Bluefin IT": [("charlie@bluefin.example", "Charlie Chen")],
}
# name, partner, schema, time zone, manager, learner who signs in
CUSTOMERS = [
    (
        "Acme Manufacturing",
        "Northwind Security",
        "acme",
        "Europe/London",
        ("dana@acme.example", "Dana Doyle"),
        ("lena@acme.example", "Lena Lund"),
    ),
    (
        "Globex Retail",
        "Northwind Security",
        "globex",
        "Europe/Berlin",
        ("erin@globex.example", "Erin Evans"),
        ("liam@globex.example", "Liam Lowe"),
    ),
    (
        "Umbrella Health",
        "Northwind Security",
        "umbrella",
        "America/New_York",
        ("grace@umbrella.example", "Grace Green"),
        ("lucy@umbrella.example", "Lucy Lane"),
    ),
    (
        "Initech Finance",
        "Bluefin IT",
        "initech",
        "Europe/Dublin",
        ("frank@initech.example", "Frank Fox"),
        ("leo@initech.example", "Leo Long"),
    ),
]
LEARNERS_PER_CUSTOMER = 24
FIRST_NAMES = ["Ava", "Ben", "Cara", "Dev", "Ella", "Finn", "Gia", "Hugo", "Isla", "Jack", "Kai", "Lola"]
LAST_NAMES = ["Adams", "Brown", "Clarke", "Davies", "Evans", "Foster"]


class Command(BaseCommand):
    help = "Create the demo partners, customers, managers and learners (idempotent) and print the sign-ins."

    def handle(self, **options):
        with transaction.atomic():
            partners = {name: Partner.objects.get_or_create(name=name)[0] for name in PARTNERS}
            for partner_name, managers in PARTNERS.items():
                for email, full_name in managers:
                    _user(email, full_name, Role.PARTNER_MANAGER, partner=partners[partner_name])
        for name, partner_name, schema, tz, manager, learner in CUSTOMERS:
            customer = Customer.objects.filter(schema_name=schema).first() or create_customer(
                name=name, partner=partners[partner_name], time_zone=tz, schema_name=schema
            )
            with transaction.atomic():
                _user(*manager, Role.CUSTOMER_MANAGER, customer=customer)
                learner_user = _user(*learner, Role.LEARNER, customer=customer)
                ensure_learner_for_user(learner_user)
                with customer:
                    _learners(schema)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
        self.stdout.write(demo_sign_ins())


def _user(email, full_name, role, **company):
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, DEMO_PASSWORD, full_name=full_name, role=role, **company)
    return user


def _learners(schema):
    existing = set(Learner.objects.values_list("email", flat=True))
    new = []
    for n in range(1, LEARNERS_PER_CUSTOMER + 1):
        first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[n % len(LAST_NAMES)]
        email = f"{first}.{last}{n}@{schema}.example".lower()
        if email not in existing:
            new.append(Learner(email=email, name=f"{first} {last}"))
    Learner.objects.bulk_create(new)


def demo_sign_ins() -> str:
    lines = [f"Demo sign-ins (password for all: {DEMO_PASSWORD}):"]
    for partner_name, managers in PARTNERS.items():
        for email, _ in managers:
            lines.append(f"  partner manager  {email:<28} {partner_name}")
    for name, _, _, _, manager, learner in CUSTOMERS:
        lines.append(f"  customer manager {manager[0]:<28} {name}")
        lines.append(f"  learner          {learner[0]:<28} {name}")
    return "\n".join(lines)
