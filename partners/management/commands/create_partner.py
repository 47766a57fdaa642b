from django.core.management.base import BaseCommand, CommandError

from customers.models import known_time_zones
from partners.models import Partner


class Command(BaseCommand):
    help = "Create a partner (reseller)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--time-zone", default=None, help="Where the partner works (its weekly digest: Monday 08:00 there)."
        )

    def handle(self, name, time_zone=None, **options):
        name = name.strip()
        if not name:
            raise CommandError("The partner needs a name.")
        if Partner.objects.filter(name__iexact=name).exists():
            raise CommandError(f"A partner named {name!r} already exists.")
        fields = {}
        if time_zone is not None:
            if time_zone not in known_time_zones():
                raise CommandError(f"{time_zone!r} is not a known time zone.")
            fields["time_zone"] = time_zone
        partner = Partner.objects.create(name=name, **fields)
        self.stdout.write(self.style.SUCCESS(f"Created partner {partner.name} (id {partner.pk})."))
