from django.core.management.base import BaseCommand, CommandError

from partners.models import Partner


class Command(BaseCommand):
    help = "Create a partner (reseller)."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, name, **options):
        name = name.strip()
        if not name:
            raise CommandError("The partner needs a name.")
        if Partner.objects.filter(name__iexact=name).exists():
            raise CommandError(f"A partner named {name!r} already exists.")
        partner = Partner.objects.create(name=name)
        self.stdout.write(self.style.SUCCESS(f"Created partner {partner.name} (id {partner.pk})."))
