"""What licence orders tell the apps above them, sent inside the action's transaction
(receivers defer their side effects with ``on_commit``). Each signal is sent by
``LicenceOrder`` with ``order`` and ``acting_user``.

Licences sit below notifications in the layers (docs/architecture.md): an order
cannot import the emails about it, so notifications subscribes here instead
(notifications.receivers)."""

from django.dispatch import Signal

order_requested = Signal()
order_assigned = Signal()
order_cancelled = Signal()
