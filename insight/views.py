"""The Activity pages and the CSV exports. Each export checks what its page checks
(the same guard) and reads only what its page lists, with the page's own filters."""

from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from common.downloads import csv_download, export_filename
from insight import activity, exports
from insight.filters import ActivityFilter
from learners.forms import LearnerSearchForm
from licences.filters import RequestedOrderFilter
from licences.permissions import customer_manager_required, needed_to_renew
from licences.services import partner_orders
from partners.permissions import partner_manager_required
from partners.services import customers_of, partner_managers

# --- Activity -------------------------------------------------------------------------


def _activity_page(request, filterset, *, partner=None, customer=None, export_url):
    valid = filterset.is_valid()
    events = filterset.qs if valid else filterset.queryset.none()
    # A customer's rows take their actors from the Who list's people (read for the
    # filters anyway); a partner's join theirs (its customers' managers are not listed).
    # A name search has read its customers: they are not joined again either.
    people = filterset.managers if customer is not None else None
    customers = filterset.customers_named
    events = activity.newest_first(events, customer=customer, actors=people is None, customers=customers is None)
    query = filterset.query()
    page = activity.keyset_page(events, request.GET, settings.PAGE_SIZE, query=query)
    page.object_list = activity.entries(
        page.object_list, partner=partner, customer=customer, people=people, customers=customers
    )
    encoded = query.urlencode()
    context = {
        "filter": filterset,
        "page": page,
        "filtered": filterset.in_force(),
        "export_url": f"{export_url}?{encoded}" if encoded else export_url,
        "partner_view": partner is not None,
    }
    return render(request, "insight/activity.html", context)


@partner_manager_required
def partner_activity(request):
    """Activity: what the partner's managers and all its customers' people did."""
    partner = request.user.partner
    filterset = ActivityFilter(request.GET, activity.partner_events(partner), partner=partner)
    return _activity_page(request, filterset, partner=partner, export_url=reverse("insight:partner_activity_export"))


@customer_manager_required
def customer_activity(request):
    """Activity of one customer: its managers', its learners' and its partner's
    managers' events about it (manage mode included)."""
    customer = request.tenant
    filterset = ActivityFilter(request.GET, activity.customer_events(customer), customer=customer)
    return _activity_page(request, filterset, customer=customer, export_url=reverse("insight:activity_export"))


@partner_manager_required
def partner_activity_export(request):
    partner = request.user.partner
    filterset = ActivityFilter(request.GET, activity.partner_events(partner), partner=partner)
    if not filterset.is_valid():
        return redirect(reverse("insight:partner_activity") + f"?{request.GET.urlencode()}")
    events = filterset.qs
    return csv_download(
        export_filename(partner.name, "activity", _today(partner)),
        activity.EXPORT_HEADER,
        lambda: activity.export_rows(events, partner=partner),
    )


@customer_manager_required
def customer_activity_export(request):
    customer = request.tenant
    filterset = ActivityFilter(request.GET, activity.customer_events(customer), customer=customer)
    if not filterset.is_valid():
        return redirect(reverse("insight:activity") + f"?{request.GET.urlencode()}")
    events = filterset.qs
    return csv_download(
        export_filename(customer.name, "activity", _today(customer)),
        activity.EXPORT_HEADER,
        lambda: activity.export_rows(events, customer=customer),
    )


# --- Exports of the customer's pages ------------------------------------------------------


def _today(company):
    """Today on the company's clock (a customer's or a partner's): the file's date."""
    return timezone.now().astimezone(company.tzinfo).date()


def _header(header, customer):
    return [column.format(tz=customer.time_zone) for column in header]


@customer_manager_required
def learners_export(request):
    """Learners → Export CSV: the list as its search and licence filter show it."""
    customer = request.tenant
    search, licence = LearnerSearchForm(request.GET).values()
    return csv_download(
        export_filename(customer.name, "learners", _today(customer)),
        _header(exports.LEARNER_HEADER, customer),
        lambda: exports.learners(customer, search, licence),
        tenant=customer,
        lines=True,
    )


@needed_to_renew
def orders_export(request):
    """Licences → Orders → Export CSV (the Orders tab's own guard)."""
    customer = request.tenant
    return csv_download(
        export_filename(customer.name, "orders", _today(customer)),
        _header(exports.ORDER_HEADER, customer),
        lambda: exports.customer_orders(customer),
    )


@needed_to_renew
def allocation_history_export(request):
    """Licences → Orders → Export allocation history: every seat ever held."""
    customer = request.tenant
    return csv_download(
        export_filename(customer.name, "allocation history", _today(customer)),
        _header(exports.ALLOCATION_HEADER, customer),
        lambda: exports.allocation_history(customer),
        tenant=customer,
    )


# --- The partner's orders ---------------------------------------------------------------


@partner_manager_required
def partner_orders_export(request):
    """Requested Orders → Export CSV, with the list's filters (status included)."""
    partner = request.user.partner
    filterset = RequestedOrderFilter(
        request.GET, partner_orders(partner), customers=customers_of(partner), managers=partner_managers(partner)
    )
    if not filterset.is_valid():
        return redirect(reverse("licences:partner_orders") + f"?{request.GET.urlencode()}")
    filtered = filterset.qs
    return csv_download(
        export_filename(partner.name, "orders", _today(partner)),
        exports.PARTNER_ORDER_HEADER,
        lambda: exports.partner_orders(filtered),
    )
