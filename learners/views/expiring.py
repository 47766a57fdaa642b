"""The Expiring Soon tab: learners whose seat expires within a window (7, 30, 60 or
90 days), renewed early onto a later order before they lose access, manually (One by
One or Select All, then Renew Early) or by CSV (Import Allocation, as on Expired
Licences, with its purpose). And the customer's carry-over setting, shown here."""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from common.local_time import time_element
from common.pagination import paginate_keyset
from common.text import plural
from learners import carry_over, reads, seats
from learners.error_codes import LearnerError
from learners.forms import CarryOverForm, ExpiringSearchForm, RenewEarlySelectionForm
from learners.views.expired import (
    allocation_report,
    confirm_allocation,
    review_allocation,
    selectable_rows,
    upload_allocation,
    upload_limits,
)
from learners.views.imports import RENEW_EARLY_FLOW, render_upload_status, upload_progress_response
from licences.permissions import customer_manager_required


def _expiring_url(search="", days=reads.DEFAULT_WINDOW, mode="") -> str:
    query = {key: value for key, value in (("q", search), ("days", days), ("mode", mode)) if value}
    return reverse("learners:expiring") + f"?{urlencode(query)}"


@customer_manager_required
def expiring(request):
    """Learners losing access within the window, with the moment (in the customer's
    time zone) and the order their seat comes from; searchable, paginated."""
    form = ExpiringSearchForm(request.GET)
    if not form.is_valid() and "days" in form.errors:
        messages.error(request, form.errors["days"][0] + " Showing the next 30 days.")
    search, days = form.search(), form.window()
    mode = "csv" if request.GET.get("mode") == "csv" else "manual"
    now = timezone.now()
    sources = reads.seat_sources(request.tenant, now, valid=getattr(request, "valid_orders", None))
    learners = reads.expiring_learners(search, days, now).only("email", "name")
    page = paginate_keyset(request, learners, reads.LEARNER_ORDER)
    # Free seats in orders that outlast the whole window: where everyone listed could go.
    later_free = sum(o.free_seats for o in sources if o.expires_at > now + timedelta(days=days))
    return render(
        request,
        "learners/expiring.html",
        {
            "form": form,
            "search": search,
            "days": days,
            "windows": reads.EXPIRING_WINDOWS,
            "mode": mode,
            "page": page,
            "rows": _rows(page, request.tenant.time_zone),
            "sources": sources,
            "later_free": later_free,
            "selection_form": RenewEarlySelectionForm(orders=sources, initial={"days": days}),
            # Kept on the customer with the setting (learners.carry_over): no query.
            "carry_over_since": request.tenant.carry_over_since,
            **upload_limits(),
        },
    )


def _rows(page, tz):
    return selectable_rows(
        (
            (
                learner.pk,
                learner.email,
                learner.name or "—",
                time_element(learner.expires_at, tz),
                f"#{learner.seat_order_id}",
            )
            for learner in page
        ),
        cells=3,
    )


@require_POST
@customer_manager_required
def renew_early(request):
    """Renew Early: the ticked learners, or with Select All every learner the list
    shows for the search and window, across all pages (the form sends the filter,
    not ids)."""
    sources = reads.seat_sources(request.tenant)
    form = RenewEarlySelectionForm(request.POST, orders=sources)
    search = request.POST.get("q", "")[:100]
    if not form.is_valid():
        for error in form.non_field_errors() or [e for errors in form.errors.values() for e in errors]:
            messages.error(request, error)
        return redirect(_expiring_url(search))
    data = form.cleaned_data
    try:
        outcome = seats.renew_early(
            request.tenant,
            acting_user=request.user,
            learner_ids=data["learner"],
            select_all=data["select_all"],
            search=data["q"],
            days=data["days"],
            order_id=data["order"],
            in_manage_mode=request.in_manage_mode,
        )
    except LearnerError as error:
        messages.error(request, str(error))
        return redirect(_expiring_url(data["q"], data["days"]))
    _say_how_it_went(request, outcome, selected=None if data["select_all"] else len(data["learner"]))
    return redirect(_expiring_url(data["q"], data["days"]))


def _say_how_it_went(request, outcome, selected):
    if outcome.eligible == 0:
        messages.info(request, "No selected learner's licence expires in this window any more, so nothing changed.")
        return
    text = f"Renewed {plural(outcome.allocated, 'learner')} early: they keep access on a later order."
    if outcome.not_allocated:
        text += (
            f" {outcome.not_allocated:,} not renewed: not enough free licences in later orders. "
            "Request more licences on the Orders tab."
        )
    skipped = (selected or 0) - outcome.eligible
    if selected is not None and skipped > 0:
        text += f" {skipped:,} no longer expired within the window."
    (messages.warning if outcome.not_allocated else messages.success)(request, text)


@require_POST
@customer_manager_required
def carry_over_setting(request):
    """Turn carry-over at expiry on or off (audited)."""
    form = CarryOverForm(request.POST)
    if form.is_valid():
        changed = carry_over.set_carry_over(
            request.tenant, form.cleaned_data["on"], acting_user=request.user, in_manage_mode=request.in_manage_mode
        )
        if not changed:
            messages.info(request, "Carry-over at expiry is unchanged.")
        elif form.cleaned_data["on"]:
            messages.success(
                request,
                "Carry-over is on: when licences expire, their active learners move to free licences in later orders.",
            )
        else:
            messages.success(request, "Carry-over is off: learners lose access when their licences expire.")
    else:
        messages.error(request, "Choose whether to carry learners over at expiry.")
    return redirect(reverse("learners:expiring"))


# --- Import Allocation (Renew Early) -----------------------------------------------------------


@customer_manager_required
def renew_early_import(request):
    return upload_allocation(request, RENEW_EARLY_FLOW)


@customer_manager_required
def renew_early_import_review(request, token):
    return review_allocation(request, token, RENEW_EARLY_FLOW)


@customer_manager_required
def renew_early_import_report(request, token):
    return allocation_report(request, token, RENEW_EARLY_FLOW)


@require_POST
@customer_manager_required
def renew_early_import_renew(request, token):
    return confirm_allocation(request, token, RENEW_EARLY_FLOW)


@customer_manager_required
def renew_early_import_status(request, token):
    return render_upload_status(request, token)


@customer_manager_required
def renew_early_import_progress(request, token):
    return upload_progress_response(request, token)
