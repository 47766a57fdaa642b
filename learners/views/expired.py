"""The Expired Licences tab: renew learners manually (One by One or Select All, then
Allocate Licences) or by CSV (Import Allocation: upload, choose the email column,
review, Renew Licences). Every view here is open to an expired customer's managers:
these are the pages they need to renew (``needed_to_renew``)."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.views.decorators.http import require_POST

from common.local_time import time_element
from common.pagination import paginate_keyset
from common.text import plural
from learners import csv_files, imports, reads, seats
from learners.error_codes import LearnerError
from learners.forms import ColumnForm, ExpiredSearchForm, ExpiringSearchForm, ImportAllocationForm, RenewSelectionForm
from learners.models import CsvUpload
from learners.views.imports import (
    RENEW_EXPIRED_FLOW,
    ImportFlow,
    allocation_imported_summary,
    queued_import,
    render_upload_status,
    upload_or_404,
    upload_progress_response,
    upload_step,
)
from licences.permissions import needed_to_renew
from licences.services import customer_orders


def _expired_url(search="", mode="") -> str:
    query = {key: value for key, value in (("q", search), ("mode", mode)) if value}
    return reverse("learners:expired") + (f"?{urlencode(query)}" if query else "")


def upload_limits() -> dict:
    return {"max_mb": settings.CSV_UPLOAD_MAX_BYTES // 1_048_576, "max_rows": settings.CSV_UPLOAD_MAX_ROWS}


@needed_to_renew
def expired(request):
    """Learners whose licence expired, with their last expiry; searchable, paginated."""
    form = ExpiredSearchForm(request.GET)
    search = form.search()
    mode = "csv" if request.GET.get("mode") == "csv" else "manual"
    now = timezone.now()
    orders = customer_orders(request.tenant, now)  # one query for the seat sources and the list
    sources = reads.seat_sources(request.tenant, now, valid=orders.valid)
    listed, keys = reads.expired_list(request.tenant, search, now, orders=orders)
    page = paginate_keyset(request, listed.only("email", "name"), keys)
    return render(
        request,
        "learners/expired.html",
        {
            "form": form,
            "search": search,
            "mode": mode,
            "page": page,
            "rows": _rows(page, request.tenant.time_zone),
            "sources": sources,
            "free_seats": sum(order.free_seats for order in sources),
            "selection_form": RenewSelectionForm(orders=sources),
            **upload_limits(),
        },
    )


_ROW_START = (
    '<tr><td class="check-col"><input type="checkbox" name="learner" value="{0}" id="learner-{0}"'
    ' aria-label="Select {1}" data-learner-box></td>'
    '<td><label for="learner-{0}" class="plain">{1}</label></td>'
)


def selectable_rows(rows, cells: int):
    """Rows of learners to tick (Expired Licences, Expiring Soon), built here in one
    pass, since a template per cell costs more than the query that found them:
    ``rows`` gives (id, email, then ``cells`` more cells) for each learner."""
    template = _ROW_START + "".join(f"<td>{{{n}}}</td>" for n in range(2, 2 + cells)) + "</tr>"
    return format_html_join("", template, rows)


def _rows(page, tz):
    return selectable_rows(
        ((learner.pk, learner.email, learner.name or "—", time_element(learner.last_expiry, tz)) for learner in page),
        cells=2,
    )


@require_POST
@needed_to_renew
def renew_expired(request):
    """Allocate Licences: the ticked learners, or with Select All every learner the
    list shows for the search, across all pages (the form sends the search, not ids)."""
    sources = reads.seat_sources(request.tenant)
    form = RenewSelectionForm(request.POST, orders=sources)
    search = request.POST.get("q", "")[:100]
    if not form.is_valid():
        for error in form.non_field_errors() or [e for errors in form.errors.values() for e in errors]:
            messages.error(request, error)
        return redirect(_expired_url(search))
    data = form.cleaned_data
    outcome = seats.renew_expired(
        request.tenant,
        acting_user=request.user,
        learner_ids=data["learner"],
        select_all=data["select_all"],
        search=data["q"],
        order_id=data["order"],
        in_manage_mode=request.in_manage_mode,
    )
    _say_how_it_went(request, outcome, selected=None if data["select_all"] else len(data["learner"]))
    return redirect(_expired_url(data["q"]))


def _say_how_it_went(request, outcome, selected):
    if outcome.eligible == 0:
        messages.info(request, "No selected learner has an expired licence any more, so nothing was renewed.")
        return
    text = f"Renewed {plural(outcome.allocated, 'learner')}."
    if outcome.not_allocated:
        text += (
            f" {outcome.not_allocated:,} not renewed: not enough free licences. "
            "Request more licences on the Orders tab, then allocate them here."
        )
    skipped = (selected or 0) - outcome.eligible
    if selected is not None and skipped > 0:
        text += f" {skipped:,} no longer had an expired licence."
    (messages.warning if outcome.not_allocated else messages.success)(request, text)


# --- Import Allocation ---------------------------------------------------------------------


def _window(source) -> int | None:
    """The Expiring Soon window the import carries (None on Expired Licences)."""
    form = ExpiringSearchForm(source)
    return form.window() if form.is_valid() else None


def upload_allocation(request, flow: ImportFlow):
    """Import Allocation, step 1: Upload your User CSV File."""
    days = _window(request.GET) if flow.early else None
    upload = upload_step(
        request,
        flow.purpose,
        "learners/import_allocation_upload.html",
        flow.url("review"),
        {**upload_limits(), "flow": flow, "days": days},
    )
    if flow.early and upload.status_code == 302 and days:
        upload["Location"] += f"?days={days}"
    return upload


def _column_form(request, upload, sources, data=None) -> ColumnForm:
    """The column dropdown; with nothing chosen yet, the column that looks like the
    email column is preselected. A forged column is an error, not a guess."""
    data = data if data is not None else (request.GET if "column" in request.GET else None)
    if data is None:
        sample = csv_files.sample_rows(bytes(upload.content), upload.encoding, upload.delimiter)
        data = {"column": str(csv_files.guess_email_column(upload.columns, sample)), **_days_of(request.GET)}
    return ColumnForm(
        data, columns=upload.columns, orders=sources, windows=upload.purpose == CsvUpload.Purpose.RENEW_EARLY
    )


def _days_of(data) -> dict:
    return {"days": data["days"]} if "days" in data else {}


def review_allocation(request, token, flow: ImportFlow):
    """Steps 2 and 3: choose the column containing the Email, and review how many
    users will be renewed and how many will not, and why."""
    upload = upload_or_404(request, token, flow.purpose)
    if upload.state not in imports.REVIEWABLE_STATES:
        return redirect(flow.url("status"), token=token)
    form = _column_form(request, upload, reads.seat_sources(request.tenant))
    preview = None
    if form.is_valid():
        preview = imports.preview_import_allocation(
            request.tenant,
            upload,
            form.cleaned_data["column"],
            order_id=form.cleaned_data["order"],
            days=form.cleaned_data.get("days"),
        )
    return render(
        request,
        "learners/import_allocation_review.html",
        {
            "upload": upload,
            "form": form,
            "flow": flow,
            "preview": preview,
            "delimiter": csv_files.DELIMITER_NAMES[upload.delimiter],
            "background": imports.runs_in_background(upload),
            "report_query": urlencode({k: v for k, v in form.data.items() if k in ("column", "order", "days") and v}),
        },
    )


def allocation_report(request, token, flow: ImportFlow):
    """The rows that will not be renewed, with the reason, as a CSV download."""
    upload = upload_or_404(request, token, flow.purpose)
    if upload.state not in imports.REVIEWABLE_STATES:
        raise Http404("This file has already been imported.")
    form = _column_form(request, upload, reads.seat_sources(request.tenant))
    if not form.is_valid():
        raise Http404("Choose one of the file's columns.")
    report = imports.import_allocation_report(
        request.tenant,
        upload,
        form.cleaned_data["column"],
        order_id=form.cleaned_data["order"],
        days=form.cleaned_data.get("days"),
    )
    response = HttpResponse(report, content_type="text/csv; charset=utf-8")
    name = "not-renewed-early.csv" if flow.early else "not-renewed.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def confirm_allocation(request, token, flow: ImportFlow):
    """Step 4: Renew Licences (Renew Early). Recomputed now; nothing changes unless
    the figures are still the ones the manager reviewed."""
    upload = upload_or_404(request, token, flow.purpose)
    if upload.state not in imports.REVIEWABLE_STATES:
        return redirect(flow.url("status"), token=token)
    form = ImportAllocationForm(
        request.POST, columns=upload.columns, orders=reads.seat_sources(request.tenant), windows=flow.early
    )
    review_url = reverse(flow.url("review"), kwargs={"token": token})
    if not form.is_valid():
        messages.error(request, f"Choose the column containing the Email, review the figures, then {flow.button}.")
        return redirect(review_url + (f"?{urlencode(_days_of(request.GET))}" if flow.early else ""))
    column, order_id = form.cleaned_data["column"], form.cleaned_data["order"]
    days = form.cleaned_data.get("days")
    expected = imports.parse_expected(form.cleaned_data["expected"])
    review_url += "?" + urlencode(
        {"column": column, **({"order": order_id} if order_id else {}), **({"days": days} if days else {})}
    )
    options = {"column": column, "order": order_id, "expected": expected, "days": days}
    queued = queued_import(request, upload, options, flow.url("status"))
    if queued:
        return queued
    try:
        renewed = imports.import_allocation(
            request.tenant,
            upload,
            column,
            acting_user=request.user,
            in_manage_mode=request.in_manage_mode,
            expected=expected,
            order_id=order_id,
            days=days,
        )
    except LearnerError as error:
        messages.warning(request, str(error))
        return redirect(review_url)
    CsvUpload.objects.filter(pk=upload.pk).delete()
    counts = renewed.counts
    (messages.warning if counts.get("not_enough_licences") else messages.success)(
        request, allocation_imported_summary(counts, early=flow.early)
    )
    return redirect(reverse(flow.tab) + (f"?days={days}" if days else ""))


@needed_to_renew
def import_allocation(request):
    return upload_allocation(request, RENEW_EXPIRED_FLOW)


@needed_to_renew
def import_allocation_review(request, token):
    return review_allocation(request, token, RENEW_EXPIRED_FLOW)


@needed_to_renew
def import_allocation_report(request, token):
    return allocation_report(request, token, RENEW_EXPIRED_FLOW)


@require_POST
@needed_to_renew
def import_allocation_renew(request, token):
    return confirm_allocation(request, token, RENEW_EXPIRED_FLOW)


@needed_to_renew
def import_allocation_status(request, token):
    return render_upload_status(request, token)


@needed_to_renew
def import_allocation_progress(request, token):
    return upload_progress_response(request, token)
