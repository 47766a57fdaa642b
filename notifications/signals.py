"""What the expiry scan tells the apps above it, sent by ``LicenceOrder`` with
``order`` inside the claim's transaction, once per order and notice (the first claim
of its ledger row; a retry or a taken-over claim sends nothing):

- ``licences_expiring``: an order's reminder fell due (``kind``: which reminder);
- ``licences_expired``: an order's licences expired.

The API's webhooks subscribe to them (api.receivers)."""

from django.dispatch import Signal

licences_expiring = Signal()
licences_expired = Signal()
