"""CSV imports, the steps both share (upload, a big file handed to a worker, its
progress page) and Import Learners; Import Allocation's own steps are in
learners.views.expired."""

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from common.text import plural
from learners import csv_files, imports, tasks
from learners.error_codes import LearnerError
from learners.forms import CsvUploadForm, LearnerColumnsForm
from learners.models import CsvUpload
from licences.permissions import customer_manager_required


@dataclass(frozen=True)
class ImportFlow:
    """Import Allocation on one tab: Expired Licences (renew) or Expiring Soon (Renew
    Early). The steps, forms and templates are shared; the names differ."""

    purpose: str
    tab: str  # the tab's URL name
    tab_label: str
    prefix: str  # of the steps' URL names
    button: str

    def url(self, step: str) -> str:
        return f"learners:{self.prefix}_{step}"

    @property
    def upload_name(self) -> str:
        return f"learners:{self.prefix}"

    @property
    def review_name(self) -> str:
        return self.url("review")

    @property
    def report_name(self) -> str:
        return self.url("report")

    @property
    def renew_name(self) -> str:
        return self.url("renew")

    @property
    def early(self) -> bool:
        return self.purpose == CsvUpload.Purpose.RENEW_EARLY


RENEW_EXPIRED_FLOW = ImportFlow(
    CsvUpload.Purpose.IMPORT_ALLOCATION,
    "learners:expired",
    "Expired Licences",
    "import_allocation",
    "Renew Licences",
)
RENEW_EARLY_FLOW = ImportFlow(
    CsvUpload.Purpose.RENEW_EARLY,
    "learners:expiring",
    "Expiring Soon",
    "renew_early_import",
    "Renew Early",
)


FLOWS = {flow.purpose: flow for flow in (RENEW_EXPIRED_FLOW, RENEW_EARLY_FLOW)}


# --- Shared steps --------------------------------------------------------------------------


def upload_step(request, purpose, template: str, next_step: str, context=None):
    """Step 1 of a CSV import (Import Learners, Import Allocation): the upload form.
    A usable file is stored and the manager sent on to ``next_step`` with its token;
    an unusable one is the form's error."""
    form = CsvUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            upload = imports.store_upload(request.tenant, form.cleaned_data["file"], purpose, acting_user=request.user)
        except csv_files.CsvError as error:
            form.add_error("file", str(error))
        else:
            return redirect(next_step, token=upload.token)
    return render(request, template, {"form": form, **(context or {})})


def upload_or_404(request, token, purpose=None) -> CsvUpload:
    """The signed-in manager's own upload (of ``purpose``), or 404."""
    try:
        return imports.upload_for(token, request.user, purpose)
    except CsvUpload.DoesNotExist:
        raise Http404("No such upload.") from None


def queued_import(request, upload: CsvUpload, options: dict, status_page: str):
    """A big file goes to a worker: queue it and send the manager to its progress
    page (``status_page``). A small one is run in the request: None."""
    if not imports.runs_in_background(upload):
        return None
    try:
        tasks.queue_import(
            request.tenant, upload, options, acting_user=request.user, in_manage_mode=request.in_manage_mode
        )
    except LearnerError as error:
        messages.info(request, str(error))
    return redirect(status_page, token=upload.token)


def render_upload_status(request, token):
    """The page of a background import: a progress bar, then the outcome. Shared by
    Import Learners and Import Allocation (whose views check the manager)."""
    upload = _status_of(request, token)
    flow = FLOWS.get(upload.purpose)
    allocation = flow is not None
    progress = flow.url("progress") if flow else "learners:import_learners_progress"
    return render(
        request,
        "learners/upload_status.html",
        {
            "upload": upload,
            "allocation": allocation,
            "flow": flow,
            "progress_url": reverse(progress, args=[token]),
            **_status(upload),
        },
    )


def upload_progress_response(request, token):
    """What the progress bar polls: small, and read from the database, so any web
    instance can answer."""
    upload = _status_of(request, token)
    status = _status(upload)
    return JsonResponse(
        {
            "state": upload.state,
            "percent": upload.percent,
            "done": upload.progress_done,
            "total": upload.progress_total,
            "finished": status["finished"],
            "message": status["summary"],
        }
    )


def _status_of(request, token) -> CsvUpload:
    upload = CsvUpload.objects.filter(token=token, uploaded_by_id=request.user.pk).defer("content").first()
    if upload is None:
        raise Http404("No such upload.")
    return upload


def _status(upload: CsvUpload) -> dict:
    State = CsvUpload.State
    finished = upload.state in (State.DONE, State.STALE, State.FAILED)
    result = upload.result or {}
    if upload.state == State.DONE and upload.purpose == CsvUpload.Purpose.IMPORT_LEARNERS:
        summary = learners_imported_summary(
            result.get("added", 0), result.get("allocated", 0), result.get("skipped", {})
        )
    elif upload.state == State.DONE:
        early = upload.purpose == CsvUpload.Purpose.RENEW_EARLY
        summary = allocation_imported_summary(result.get("counts", {}), early=early)
    elif finished:
        summary = result.get("message", "")
    elif upload.state == State.QUEUED:
        summary = "Waiting for a worker to start the import…"
    else:
        summary = f"Reading the file: {upload.progress_done:,} of {upload.progress_total:,} rows…"
    return {"finished": finished, "summary": summary}


def learners_imported_summary(added, allocated, skipped) -> str:
    """'Added 3 learners; 2 got a licence, 1 is waiting for a free licence. Skipped: ...'"""
    parts = [f"Added {plural(added, 'learner')}"]
    if added:
        parts.append(
            f"{allocated:,} got a licence"
            + (f", {added - allocated:,} are waiting for a free licence" if added > allocated else "")
        )
    text = "; ".join(parts) + "."
    if skipped:
        labels = imports.NOT_ADDED_REASONS
        text += (
            " Skipped: "
            + ", ".join(f"{skipped[code]:,} {label.lower()}" for code, label in labels.items() if skipped.get(code))
            + "."
        )
    return text


def allocation_imported_summary(counts: dict, *, early=False) -> str:
    """'Renewed 3 learners. Not renewed: 2 (unknown email: 1; ...).'"""
    renewed = counts.get("renew", 0)
    not_renewed = sum(n for code, n in counts.items() if code != "renew")
    text = f"Renewed {plural(renewed, 'learner')}{' early' if early else ''}."
    if not_renewed:
        labels = imports.NOT_RENEWED_EARLY_REASONS if early else imports.NOT_RENEWED_REASONS
        short = {code: label.split(":")[0].split(" (")[0].lower() for code, label in labels.items()}
        why = "; ".join(f"{short[code]}: {counts[code]:,}" for code in short if counts.get(code))
        text += f" Not renewed: {not_renewed:,} ({why})."
    return text


# --- Import Learners ------------------------------------------------------------------------


@customer_manager_required
def import_learners(request):
    return upload_step(
        request,
        CsvUpload.Purpose.IMPORT_LEARNERS,
        "learners/import_learners_upload.html",
        "learners:import_learners_columns",
    )


@customer_manager_required
def import_learners_columns(request, token):
    """Choose the email (and name) column, then import."""
    upload = upload_or_404(request, token, CsvUpload.Purpose.IMPORT_LEARNERS)
    if upload.state not in imports.REVIEWABLE_STATES:
        return redirect("learners:import_learners_status", token=token)
    data = bytes(upload.content)
    sample = csv_files.sample_rows(data, upload.encoding, upload.delimiter, limit=5)
    initial = {
        "column": csv_files.guess_email_column(upload.columns, sample),
        "name_column": csv_files.guess_name_column(upload.columns),
    }
    form = LearnerColumnsForm(request.POST or None, columns=upload.columns, initial=initial)
    if request.method == "POST" and form.is_valid():
        options = {"column": form.cleaned_data["column"], "name_column": form.cleaned_data["name_column"]}
        queued = queued_import(request, upload, options, "learners:import_learners_status")
        if queued:
            return queued
        try:
            imported = imports.import_learners(
                request.tenant,
                upload,
                options["column"],
                options["name_column"],
                acting_user=request.user,
                in_manage_mode=request.in_manage_mode,
            )
        except LearnerError as error:
            form.add_error(None, str(error))
        else:
            CsvUpload.objects.filter(pk=upload.pk).delete()
            messages.success(request, learners_imported_summary(imported.added, imported.allocated, imported.skipped))
            return redirect("learners:list")
    return render(
        request,
        "learners/import_learners_columns.html",
        {"upload": upload, "form": form, "sample": sample, "delimiter": csv_files.DELIMITER_NAMES[upload.delimiter]},
    )


@customer_manager_required
def import_learners_status(request, token):
    return render_upload_status(request, token)


@customer_manager_required
def import_learners_progress(request, token):
    return upload_progress_response(request, token)
