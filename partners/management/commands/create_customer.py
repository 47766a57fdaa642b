import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from customers.services import create_customer
from partners.models import Partner


class Command(BaseCommand):
    help = "Create a customer company of a partner, with its own schema, migrated."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--partner", required=True, help="Partner name or id")
        parser.add_argument("--time-zone", default=None, help="IANA time zone, e.g. Europe/London")
        parser.add_argument("--schema", default=None, help="Schema name (default: derived from the name)")

    def handle(self, name, partner, time_zone, schema, **options):
        query = Partner.objects.filter(name__iexact=partner)
        if partner.isdigit():
            query = query | Partner.objects.filter(pk=int(partner))
        partner_obj = query.first()
        if partner_obj is None:
            raise CommandError(f"No partner matches {partner!r}.")
        started = time.perf_counter()
        try:
            customer = create_customer(name=name, partner=partner_obj, time_zone=time_zone, schema_name=schema)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Created customer {customer.name} (id {customer.pk}, schema {customer.schema_name}) in {elapsed:.2f}s."
            )
        )
