from licences import services
from licences.management.commands._order_action import OrderActionCommand


class Command(OrderActionCommand):
    help = (
        "Assign a requested licence order: its licences become valid for 12 months from now, and the "
        "customer's managers are emailed that they are ready for allocation."
    )
    action = staticmethod(services.assign_order)
    verb = "assign"

    def done(self, order):
        customer = order.customer
        expires = order.expires_at.astimezone(customer.tzinfo)
        return (
            f"Order #{order.pk} assigned: {order.quantity:,} licences for {customer.name}, valid until "
            f"{expires:%Y-%m-%d %H:%M} ({customer.time_zone}). The customer's managers are being emailed."
        )
