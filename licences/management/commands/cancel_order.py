from licences import services
from licences.management.commands._order_action import OrderActionCommand


class Command(OrderActionCommand):
    help = "Cancel a requested licence order. It cannot be assigned afterwards."
    action = staticmethod(services.cancel_order)
    verb = "cancel"

    def done(self, order):
        return f"Order #{order.pk} for {order.quantity:,} licences for {order.customer.name} cancelled."
