"""Shared by assign_order and cancel_order: an operator (or a partner manager) acting on
one order from the shell, through the same service functions as the Assign and Cancel
buttons."""

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User, normalise_email
from licences.models import LicenceOrder
from licences.services import OrderStateError


class OrderActionCommand(BaseCommand):
    action = None  # staticmethod(a licences.services function)
    verb = ""

    def add_arguments(self, parser):
        parser.add_argument("order_id", type=int, help="The order's number (#id in Requested Orders).")
        parser.add_argument(
            "--by",
            required=True,
            metavar="EMAIL",
            help="Who is acting: an operator, or a manager of the customer's partner. Recorded in the audit log.",
        )

    def handle(self, *args, order_id, by, **options):
        order = LicenceOrder.objects.select_related("customer__partner").filter(pk=order_id).first()
        if order is None:
            raise CommandError(f"There is no order #{order_id}.")
        acting_user = User.objects.filter(email=normalise_email(by), is_active=True).first()
        if acting_user is None:
            raise CommandError(f"There is no active user {by!r}.")
        try:
            # The order's own partner: an operator may act for any partner, a partner
            # manager only for theirs (the service refuses anyone else).
            order = self.action(order.pk, acting_user=acting_user, partner=order.customer.partner)
        except (PermissionDenied, LicenceOrder.DoesNotExist):
            raise CommandError(f"{acting_user.email} may not {self.verb} orders of {order.customer.name}.") from None
        except OrderStateError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(self.done(order)))

    def done(self, order) -> str:
        raise NotImplementedError
