"""What the email scan tells the apps above it, sent by ``LicenceOrder`` with
``order`` (and, for a reminder, its ``lead_hours``), once per ledger row (its first attempt; a retry or a
taken-over claim sends nothing), from notifications.services.deliver:

- ``licences_expiring``: one of an order's reminders fell due and is still true;
- ``licences_expired``: an order's licences expired.

And around each pass of the sender (``sending_started``, ``sending_finished``, sent by
``OrderEmail``), so the apps above may share their look-ups across the pass's
emails (the API reads each partner's webhook endpoints once per pass).

The API's webhooks subscribe to them (api.receivers).

``seat_alert_planned`` (``alert_id``, sent by ``SeatAlert``) is notifications' own:
a seat alert's episode opened, and notifications.receivers queues its sending once
the transaction commits."""

from django.dispatch import Signal

licences_expiring = Signal()
licences_expired = Signal()
sending_started = Signal()
sending_finished = Signal()
seat_alert_planned = Signal()
