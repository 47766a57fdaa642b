"""What the seat engine tells the apps above it, sent inside the action's transaction
(receivers defer their side effects to the commit), by ``Allocation``:

- ``learners_renewed``: expired learners were renewed (Expired Licences, or Import
  Allocation), with ``customer``, ``outcome`` (learners.seats.AllocationOutcome),
  ``selection`` (one_by_one, select_all or csv) and ``acting_user``; also for a
  renewal early (Expiring Soon) or a carry-over at expiry (``early=True``,
  selection ``carry_over`` for the latter);
- ``seats_exhausted``: giving seats took the customer's last free seat, or left
  learners waiting because none was free, with ``customer``, ``outcome`` and
  ``acting_user``;
- ``seats_changed``: a customer's seats were given or freed (any allocation,
  renewal or new learner's seat, and a leaver's seat going back), with
  ``customer`` and ``now``; notifications reviews its seat alerts.

The API's webhooks subscribe to them (api.receivers), as notifications subscribes to
licences.signals: the layers run one way. The learners app itself records its lapses
again after a renewal of expired learners (learners.receivers)."""

from django.dispatch import Signal

learners_renewed = Signal()
seats_exhausted = Signal()
seats_changed = Signal()
