"""Licence orders: the customer's Licences overview, Orders tab and Request Licences,
and the partner's Requested Orders with Add Filter, Assign and Cancel."""

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from common.local_time import NO_MOMENT, clock, time_element
from common.pagination import paginate, paginate_keyset, requested_window
from licences import services
from licences.charts import overview_charts
from licences.filters import RequestedOrderFilter
from licences.forms import OrderActionForm, RequestLicencesForm
from licences.models import LicenceOrder, OrderStatus
from licences.permissions import RENEWAL_PAGE, needed_to_renew
from partners.permissions import partner_manager_required
from partners.services import customers_of, partner_managers

# --- Customer side: a customer manager, or a partner manager in manage mode ----------


EXPIRED_BADGE = format_html('<span class="badge badge-expired">{}</span>', "Expired")
VALID_BADGE = format_html('<span class="badge badge-ok">{}</span>', "Valid")
EXPIRED_ROW = format_html(' class="{}"', "row-expired")


def _overview_row_html(order, tz) -> str:
    """One <tr> of the overview's assigned orders. Built here rather than in the
    template, as Requested Orders' rows are: four moments a row through the template's
    date filters were most of the page's server time."""
    expired = order.expired
    return format_html(
        '<tr{}><td>#{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td>'
        "<td>{}</td><td>{}</td><td>{}</td></tr>",
        EXPIRED_ROW if expired else "",
        order.pk,
        order.quantity,
        order.allocated_count,
        NO_MOMENT if expired else order.free_seats,
        time_element(order.assigned_at, tz),
        time_element(order.expires_at, tz),
        EXPIRED_BADGE if expired else VALID_BADGE,
    )


@needed_to_renew
def overview(request):
    """The pool: total, allocated, free and next expiry, in sum and per assigned order;
    valid orders first (soonest expiry first), then the expired ones. The orders, the
    pool and rule 5's check come from one query (services.assigned_orders), the weekly
    chart from one more."""
    customer, now = request.tenant, timezone.now()
    window = requested_window(request)
    orders = services.assigned_orders(customer, now, offset=window.offset, limit=window.limit)
    if orders.all_expired and not request.in_manage_mode:
        return redirect(RENEWAL_PAGE)  # as customer_manager_required does on the other pages
    summary = services.pool_summary(customer, now, pool=orders.pool)
    page = window.page(orders.rows, request.GET)
    context = {
        "summary": summary,
        "page": page,
        "next_expiry": time_element(summary["next_expiry"], customer.tzinfo),
        "order_rows": format_html_join("", "{}", ((_overview_row_html(o, customer.tzinfo),) for o in page)),
        "charts": overview_charts(customer, in_use_now=summary["allocated"], now=now, pool=orders.pool),
        "losing": services.next_loss_of_access(customer, now, pool=orders.pool),
    }
    return render(request, "licences/overview.html", context)


@needed_to_renew
def orders(request):
    orders = LicenceOrder.objects.filter(customer=request.tenant).select_related("requested_by")
    return render(request, "licences/orders.html", {"page": paginate(request, orders.order_by("-requested_at", "-id"))})


@needed_to_renew
def request_licences(request):
    """Orders → Request Licences → number of licences → Save. The customer is the one
    the request runs in (request.tenant), never one named in the form."""
    form = RequestLicencesForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        order = services.request_order(
            request.tenant,
            form.cleaned_data["quantity"],
            acting_user=request.user,
            in_manage_mode=request.in_manage_mode,
        )
        if request.in_manage_mode:
            done = "Assign it from Licences → Orders → Requested Orders once you have left manage mode."
        else:
            done = f"{request.tenant.partner.name} has been told and will assign it."
        messages.success(request, f"Order #{order.pk} for {order.quantity:,} licences requested. {done}")
        return redirect("licences:orders")
    return render(request, "licences/request.html", {"form": form})


# --- Partner side ----------------------------------------------------------------------

STATUS_LABELS = dict(OrderStatus.choices)


ROW_VALUES = (
    "id",
    "quantity",
    "status",
    "requested_at",
    "expires_at",
    "customer__name",
    "customer__time_zone",
    "requested_by__full_name",
    "requested_by__email",
)


def _order_row_html(values, *, assign_url, cancel_url) -> str:
    """One <tr> of Requested Orders, from plain values (no model instances).

    Built here, the way Django's admin builds its change list cells, rather than in
    the template: this is the partner dashboard's busiest list, and at some fifteen
    template variables a row the template engine was most of the page's server time.
    format_html escapes every value it is given, names typed by people included."""
    tz = ZoneInfo(values["customer__time_zone"])
    order_id, status = values["id"], values["status"]
    actions = ""
    if status == OrderStatus.REQUESTED:
        # The buttons submit the page's one "order-action" form (CSRF token, filters).
        actions = format_html(
            '<details class="menu"><summary class="btn btn-light btn-sm dots" aria-label="Order actions" '
            'title="Order actions">⋯</summary><div class="menu-items" role="menu">'
            '<button type="submit" form="order-action" formaction="{assign_url}" name="order" '
            'value="{order_id}" role="menuitem">Assign</button>'
            '<button type="submit" form="order-action" formaction="{cancel_url}" name="order" '
            'value="{order_id}" role="menuitem" class="danger" '
            'data-confirm="Cancel this order? It cannot be assigned afterwards.">Cancel</button></div></details>',
            assign_url=assign_url,
            cancel_url=cancel_url,
            order_id=order_id,
        )
    return format_html(
        "<tr><td>#{}</td><td><strong>{}</strong></td>"
        '<td class="num">{}</td>'
        '<td><span class="badge badge-{}">{}</span></td>'
        "<td>{}</td><td>{}</td>"
        "<td>{}</td>"
        '<td class="actions-col">{}</td></tr>',
        order_id,
        values["customer__name"],
        values["quantity"],
        status,
        STATUS_LABELS[status],
        time_element(values["requested_at"], tz),
        values["requested_by__full_name"] or values["requested_by__email"],
        time_element(values["expires_at"], tz),
        actions,
    )


@partner_manager_required
def partner_orders(request):
    """Licences → Orders → Requested Orders: the partner's orders across its customers,
    newest first, filtered by the query string.

    A fixed number of queries whatever the number of rows: one page of orders with
    their customer and requester joined, one to check a customer filter's id, one for
    the requester choices when filtering by requester, and the customer choices only
    when the filter form is shown (Add Filter)."""
    partner = request.user.partner
    filterset = RequestedOrderFilter(
        request.GET,
        services.partner_orders(partner),
        customers=customers_of(partner),
        managers=partner_managers(partner),
    )
    valid = filterset.is_valid()
    show_filters = not valid or request.GET.get("filters") == "open"
    if request.htmx and show_filters:
        return render(request, "licences/_order_filters.html", {"filter": filterset})
    # An invalid filter gets its message rather than an unfiltered list.
    orders = filterset.qs if valid else filterset.queryset.none()
    page = paginate_keyset(request, orders.values(*ROW_VALUES), ("-requested_at", "-id"))
    urls = {"assign_url": reverse("licences:assign_order"), "cancel_url": reverse("licences:cancel_order")}
    rows = format_html_join("", "{}", ((_order_row_html(values, **urls),) for values in page))
    query = filterset.url_without()  # the filters in force, without page or panel
    page.query = QueryDict(query[1:])  # so Next and Previous keep the filters, and only them
    context = {
        "filter": filterset,
        "show_filters": show_filters,
        "filters_closed_url": query,
        "filters_open_url": f"{query}&filters=open" if len(query) > 1 else "?filters=open",
        "page": page,
        "rows": rows,
        "chips": filterset.active_filters(),
        "list_url": reverse("licences:partner_orders"),
        "return_query": query[1:],
    }
    return render(request, "licences/partner_orders.html", context)


def _act_on_order(request, action):
    """Assign or Cancel, then back to the list with its filters. Another partner's
    order, or no order, is a 404; an order no longer requested gets a message."""
    form = OrderActionForm(request.POST)
    if not form.is_valid():
        raise Http404("No such order.")
    try:
        order = action(
            form.cleaned_data["order"],
            acting_user=request.user,
            partner=request.user.partner,
            in_manage_mode=request.in_manage_mode,
        )
    except LicenceOrder.DoesNotExist:
        raise Http404("No such order.") from None
    except services.OrderStateError as error:
        messages.error(request, str(error))
        order = None
    # Only the query string comes from the form, so this never redirects elsewhere.
    query = QueryDict(form.cleaned_data["return_query"]).urlencode()
    return order, reverse("licences:partner_orders") + (f"?{query}" if query else "")


@require_POST
@partner_manager_required
def assign(request):
    order, back = _act_on_order(request, services.assign_order)
    if order is not None:
        customer = order.customer
        expires = clock(order.expires_at, customer.tzinfo)
        messages.success(
            request,
            f"Order #{order.pk} assigned: {order.quantity:,} licences for {customer.name}, valid until "
            f"{expires} ({customer.time_zone}). {customer.name}'s managers will be emailed that they are "
            "ready for allocation.",
        )
    return redirect(back)


@require_POST
@partner_manager_required
def cancel(request):
    order, back = _act_on_order(request, services.cancel_order)
    if order is not None:
        messages.success(request, f"Order #{order.pk} for {order.customer.name} cancelled.")
    return redirect(back)
