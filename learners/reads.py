"""Reading learners and seats: the querysets the pages list, and the questions the
guards ask. Nothing here changes anything; every function runs in the schema the
caller is in (the customer's).

Words (see also learners/models.py): an allocation is *current* until it ends; it is
*valid* while current and ``expires_at > now``. A learner is *expired* when active
and their current allocation has expired (so they hold no valid one)."""

from datetime import timedelta

from django.contrib.postgres.fields import ArrayField
from django.db.models import Case, F, FilteredRelation, Max, Q, QuerySet, TextField, Value, When
from django.utils import timezone

from accounts.models import normalise_email
from common.search import TRIGRAM, HasAllTrigrams, covering_trigrams
from learners.models import Allocation, Learner, LearnerStatus
from licences.models import LicenceOrder
from licences.services import (  # noqa: F401 (EXPIRING_WINDOWS: reads.EXPIRING_WINDOWS)
    EXPIRING_SOON_DAYS,
    EXPIRING_WINDOWS,
    customer_orders,
)

# The lists' order, and their pages' keyset (common.pagination): the email is unique,
# the id makes the order total all the same.
LEARNER_ORDER = ("email", "id")
# The Expired Licences list's order through the lapses: their index's, the same
# order as LEARNER_ORDER (a lapse holds its learner's email).
LAPSE_ORDER = ("lapse_email", "id")


def current_allocation() -> FilteredRelation:
    """The learner's current allocation (at most one: a partial unique index), joined
    through that index; annotate it as ``current``."""
    return FilteredRelation("allocations", condition=Q(allocations__ended_at__isnull=True))


def with_current_allocation(learners: QuerySet) -> QuerySet:
    return learners.annotate(current=current_allocation())


def matching(search: str, *, copies: str = "") -> Q:
    """Learners whose email or name contains ``search``, whatever its case: the email
    is stored lower-cased and the name has a lower-cased copy (``name_folded``), so
    both are compared as stored. Django's icontains would put UPPER() on every row
    (two thirds of a search's time over 100,000 learners) and leave the planner
    without statistics to estimate how many learners match. ``copies``: the relation
    holding copies of both to compare instead (``lapse__``: the lapses')."""
    folded = search.lower()
    found = Q(**{f"{copies}email__contains": folded}) | Q(**{f"{copies}name_folded__contains": folded})
    if len(folded) >= TRIGRAM:
        # Each column's GIN index of its three-letter pieces narrows the rows to those
        # holding every piece of the search; the LIKE above keeps the answer exact (a
        # learner whose email or name contains the search holds all its pieces there).
        # Written apart from the LIKE, the pieces are exactly what the two indexes are
        # asked, so PostgreSQL does not check them again on the rows the indexes give;
        # on rows read some other way it compares the pieces stored with each learner.
        pieces = Value(covering_trigrams(folded), output_field=ArrayField(TextField()))
        found &= Q(HasAllTrigrams(F("email_trigrams"), pieces)) | Q(HasAllTrigrams(F("name_trigrams"), pieces))
    return found


# The Expiring Soon tab's windows (EXPIRING_WINDOWS, from licences.services, where the
# overview picks one too) and the one it shows first.
DEFAULT_WINDOW = EXPIRING_SOON_DAYS


def expiring_within(days: int, now=None) -> Q:
    """Learners (annotated with ``current``) whose seat is valid and expires within
    ``days`` days."""
    now = now or timezone.now()
    return Q(current__expires_at__gt=now, current__expires_at__lte=now + timedelta(days=days))


def learners_with_licence(search: str = "", licence: str = "", now=None) -> QuerySet:
    """Every learner with their current seat's expiry, for the Learners section."""
    now = now or timezone.now()
    learners = with_current_allocation(Learner.objects.all())
    if search:
        learners = learners.filter(matching(search))
    # Filtered before the annotations below refer to ``current``, so that they share
    # the filter's join rather than add one of their own.
    if licence == "valid":
        learners = learners.filter(current__expires_at__gt=now)
    elif licence == "expired":
        learners = learners.filter(current__expires_at__lte=now, status=LearnerStatus.ACTIVE)
    elif licence == "none":
        learners = learners.filter(current__isnull=True, status=LearnerStatus.ACTIVE)
    elif licence == "deactivated":
        learners = learners.filter(status=LearnerStatus.DEACTIVATED)
    elif licence == "expiring":
        learners = learners.filter(expiring_within(DEFAULT_WINDOW, now), status=LearnerStatus.ACTIVE)
    learners = learners.annotate(
        licence_expires_at=F("current__expires_at"),
        licence_state=Case(
            When(status=LearnerStatus.DEACTIVATED, then=Value("deactivated")),
            When(current__expires_at__gt=now, then=Value("valid")),
            When(current__expires_at__lte=now, then=Value("expired")),
            default=Value("none"),
        ),
    )
    return learners.order_by(*LEARNER_ORDER)


def expiring_learners(search: str = "", days: int = DEFAULT_WINDOW, now=None) -> QuerySet:
    """The Expiring Soon list: active learners whose current seat is valid and
    expires within ``days`` days, with that expiry (``expires_at``) and its order
    (``seat_order_id``), sorted by email. Select All renews early exactly this
    queryset, so the list and the renewal can never disagree."""
    now = now or timezone.now()
    learners = (
        with_current_allocation(Learner.objects.filter(status=LearnerStatus.ACTIVE))
        .filter(expiring_within(days, now))
        .annotate(expires_at=F("current__expires_at"), seat_order_id=F("current__order_id"))
    )
    if search:
        learners = learners.filter(matching(search))
    return learners.order_by("email", "pk")


def renew_early_bound(customer, now, days, latest_expiry):
    """The moment a renewal early's seats must expire after: the latest current seat
    among the learners renewed (``latest_expiry()``, a query over them), or, when no
    order with free seats expires inside the window, the window's end, which takes
    the same orders without reading the learners."""
    until = now + timedelta(days=days)
    if not any(order.expires_at <= until for order in seat_sources(customer, now)):
        return until
    return latest_expiry() or now


def latest_expiry(learners: QuerySet):
    """The latest current-seat expiry among these learners (None when there are none):
    a renewal early takes seats only from orders that expire after it."""
    return learners.order_by().aggregate(latest=Max("current__expires_at"))["latest"]


def expired_learners(search: str = "", now=None, *, through_lapses=False) -> QuerySet:
    """The Expired Licences list: active learners whose current seat has expired,
    with that expiry as ``last_expiry``, sorted by email. Select All renews exactly
    this queryset, so the list and the renewal can never disagree. ``through_lapses``:
    only those the customer's lapses hold, found through them and sorted by their
    copy of the email (``lapse_email``); the same learners once the lapses are
    recorded (``expired_list``)."""
    now = now or timezone.now()
    learners = (
        with_current_allocation(Learner.objects.filter(status=LearnerStatus.ACTIVE))
        .filter(current__expires_at__lte=now)
        .annotate(last_expiry=F("current__expires_at"), current_allocation_id=F("current__id"))
    )
    if through_lapses:
        learners = learners.filter(lapse__isnull=False).annotate(lapse_email=F("lapse__email"))
    if search:
        # Through the lapses, a search compares the lapse's copies, on the row read first.
        learners = learners.filter(matching(search, copies="lapse__" if through_lapses else ""))
    return learners.order_by(*(LAPSE_ORDER if through_lapses else LEARNER_ORDER))


def lapses_recorded(customer, last_expired_at) -> bool:
    """Whether ``customer``'s lapses hold every expired learner: no order of it has
    expired since they were last recorded (learners.lapses). ``last_expired_at``:
    when its last order to expire did (licences.services.customer_orders)."""
    if last_expired_at is None:
        return True
    return customer.lapses_recorded_at is not None and last_expired_at <= customer.lapses_recorded_at


def expired_list(customer, search: str = "", now=None, *, orders=None) -> tuple[QuerySet, tuple[str, ...]]:
    """The Expired Licences list to show, and its sort keys: ``expired_learners``,
    read through the customer's lapses when they are recorded (the few expired
    learners among many valid ones are then read alone), else from the allocations.
    The same learners either way: the lapses hold every expired learner, and each
    one's current seat is still checked. ``orders``: the customer's, read a moment
    ago (licences.services.customer_orders), or read here."""
    now = now or timezone.now()
    orders = orders or customer_orders(customer, now)
    if not lapses_recorded(customer, orders.last_expired_at):
        return expired_learners(search, now), LEARNER_ORDER
    return expired_learners(search, now, through_lapses=True), LAPSE_ORDER


def without_valid_licence(learner_ids, now=None) -> QuerySet:
    """Of these learners, the active ones holding no valid seat (never licensed, or
    expired): the ones a manager's Allocate may give a seat to."""
    now = now or timezone.now()
    return with_current_allocation(Learner.objects.filter(pk__in=learner_ids, status=LearnerStatus.ACTIVE)).filter(
        Q(current__isnull=True) | Q(current__expires_at__lte=now)
    )


def never_licensed(learner_ids) -> QuerySet:
    """Of these learners, the active ones with no current allocation at all: new
    learners, who get a free seat automatically (expired ones never do)."""
    return with_current_allocation(Learner.objects.filter(pk__in=learner_ids, status=LearnerStatus.ACTIVE)).filter(
        current__isnull=True
    )


def holds_valid_licence(email: str, now=None) -> bool:
    """Rule 4, derived from time: an active learner with a current seat that has not
    expired."""
    return Allocation.objects.filter(
        learner__email=normalise_email(email),
        learner__status=LearnerStatus.ACTIVE,
        ended_at__isnull=True,
        expires_at__gt=now or timezone.now(),
    ).exists()


def ever_licensed(email: str) -> bool:
    """Whether this learner has ever held a seat (the expired-licence page words its
    message by it)."""
    return Allocation.objects.filter(learner__email=normalise_email(email)).exists()


def current_seat(email: str) -> Allocation | None:
    """The learner's current allocation, for the portal to show its expiry."""
    return (
        Allocation.objects.filter(learner__email=normalise_email(email), ended_at__isnull=True)
        .only("expires_at")
        .first()
    )


def seat_sources(customer, now=None, order_id=None, expiring_after=None, *, valid=None) -> list[LicenceOrder]:
    """The valid orders with free seats, in the order seats are taken from them:
    the one that expires last first. With ``expiring_after``, only the orders that
    expire after that moment (a renewal early's later orders). ``valid``: the
    customer's valid orders read a moment ago (the guard's ``request.valid_orders``),
    picked from instead of read again."""
    if valid is not None:
        now = now or timezone.now()
        picked = [
            order
            for order in valid
            if order.expires_at > now
            and order.allocated_count < order.quantity
            and (order_id is None or order.pk == order_id)
            and (expiring_after is None or order.expires_at > expiring_after)
        ]
        return sorted(picked, key=lambda order: (order.expires_at, order.pk), reverse=True)
    orders = LicenceOrder.objects.filter(customer=customer).valid(now).filter(allocated_count__lt=F("quantity"))
    if order_id is not None:
        orders = orders.filter(pk=order_id)
    if expiring_after is not None:
        orders = orders.filter(expires_at__gt=expiring_after)
    return list(orders.order_by("-expires_at", "-pk"))


def free_seats(customer, now=None, order_id=None, expiring_after=None) -> int:
    return sum(order.free_seats for order in seat_sources(customer, now, order_id, expiring_after))
