"""The Learners section (list, add, deactivate, Import Learners), the learner portal,
and the progress of background CSV imports. Views check and bound the input, call
one service, and render."""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.permissions import customer_manager_required, licensed_learner_required
from common.pagination import paginate
from common.text import plural
from learners import csv_files, services
from learners.forms import AddLearnerForm, CsvUploadForm, LearnerColumnsForm, LearnerSearchForm
from learners.models import Allocation, CsvUpload, Learner


@customer_manager_required
def learner_list(request):
    form = LearnerSearchForm(request.GET)
    search, licence = form.values()
    page = paginate(request, services.learners_with_licence(search, licence))
    return render(request, "learners/list.html", {"page": page, "form": form, "search": search})


@customer_manager_required
def add_learner(request):
    form = AddLearnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            learner = services.add_learner(
                request.tenant,
                form.cleaned_data["email"],
                form.cleaned_data["name"],
                acting_user=request.user,
                in_manage_mode=request.in_manage_mode,
            )
        except services.LearnerError as error:
            form.add_error("email", str(error))
        else:
            if learner.got_licence:
                messages.success(request, f"{learner.email} was added and given a licence.")
            else:
                messages.warning(
                    request,
                    f"{learner.email} was added. There is no free licence, so they have no access until "
                    "you allocate one (request more licences on the Licences page).",
                )
            return redirect("learners:list")
    return render(request, "learners/add.html", {"form": form})


@require_POST
@customer_manager_required
def deactivate_learner(request, learner_id):
    try:
        learner = services.deactivate_learner(
            request.tenant, learner_id, acting_user=request.user, in_manage_mode=request.in_manage_mode
        )
    except Learner.DoesNotExist:
        raise Http404("No such learner.") from None
    except services.LearnerError as error:
        messages.error(request, str(error))
    else:
        freed = " Their licence is free for another learner." if learner.freed_seat else ""
        messages.success(request, f"{learner.email} was deactivated and has no access any more.{freed}")
    return redirect(_back_to_list(request))


@require_POST
@customer_manager_required
def allocate_licence(request, learner_id):
    if not Learner.objects.filter(pk=learner_id).exists():
        raise Http404("No such learner.")
    outcome = services.allocate(
        request.tenant, [learner_id], acting_user=request.user, in_manage_mode=request.in_manage_mode
    )
    if outcome.allocated:
        messages.success(request, "A licence was allocated.")
    elif outcome.eligible:
        messages.warning(request, "There is no free licence to allocate. Request more licences first.")
    else:
        messages.info(request, "This learner already holds a valid licence or is deactivated.")
    return redirect(_back_to_list(request))


def _back_to_list(request) -> str:
    query = request.POST.get("back", "")
    # Only a query string of this page, never another address.
    return reverse("learners:list") + (query if query.startswith("?") and "//" not in query else "")


# --- Import Learners -------------------------------------------------------------------


@customer_manager_required
def import_learners(request):
    return upload_step(request, CsvUpload.Purpose.LEARNERS, "learners/import_upload.html", "learners:import_columns")


def upload_step(request, purpose, template: str, next_step: str, context=None):
    """Step 1 of a CSV import (Import Learners, Import Allocation): the upload form.
    A usable file is stored and the manager sent on to ``next_step`` with its token;
    an unusable one is the form's error."""
    form = CsvUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            upload = services.store_upload(request.tenant, form.cleaned_data["file"], purpose, acting_user=request.user)
        except csv_files.CsvError as error:
            form.add_error("file", str(error))
        else:
            return redirect(next_step, token=upload.token)
    return render(request, template, {"form": form, **(context or {})})


def upload_or_404(request, token, purpose) -> CsvUpload:
    """The signed-in manager's own upload for this step, or 404."""
    try:
        return services.upload_for(token, request.user, purpose)
    except CsvUpload.DoesNotExist:
        raise Http404("No such upload.") from None


@customer_manager_required
def import_columns(request, token):
    upload = upload_or_404(request, token, CsvUpload.Purpose.LEARNERS)
    if upload.state not in services.REVIEWABLE_STATES:
        return redirect("learners:upload_status", token=token)
    data = bytes(upload.content)
    sample = csv_files.sample_rows(data, upload.encoding, upload.delimiter, limit=5)
    initial = {
        "column": csv_files.guess_email_column(upload.columns, sample),
        "name_column": csv_files.guess_name_column(upload.columns),
    }
    form = LearnerColumnsForm(request.POST or None, columns=upload.columns, initial=initial)
    if request.method == "POST" and form.is_valid():
        options = {"column": form.cleaned_data["column"], "name_column": form.cleaned_data["name_column"]}
        if services.runs_in_background(upload):
            services.queue_import(
                request.tenant, upload, options, acting_user=request.user, in_manage_mode=request.in_manage_mode
            )
            return redirect("learners:upload_status", token=token)
        try:
            outcome = services.import_learners_from_csv(
                request.tenant,
                upload,
                options["column"],
                options["name_column"],
                acting_user=request.user,
                in_manage_mode=request.in_manage_mode,
            )
        except services.LearnerError as error:
            form.add_error(None, str(error))
        else:
            CsvUpload.objects.filter(pk=upload.pk).delete()
            messages.success(request, import_summary(outcome.added, outcome.allocated, outcome.skipped))
            return redirect("learners:list")
    return render(
        request,
        "learners/import_columns.html",
        {"upload": upload, "form": form, "sample": sample, "delimiter": csv_files.DELIMITER_NAMES[upload.delimiter]},
    )


def import_summary(added, allocated, skipped) -> str:
    parts = [f"Added {plural(added, 'learner')}"]
    if added:
        parts.append(
            f"{allocated:,} got a licence"
            + (f", {added - allocated:,} are waiting for a free licence" if added > allocated else "")
        )
    text = "; ".join(parts) + "."
    if skipped:
        labels = services.NOT_ADDED_REASONS
        text += (
            " Skipped: "
            + ", ".join(f"{skipped[code]:,} {label.lower()}" for code, label in labels.items() if skipped.get(code))
            + "."
        )
    return text


# --- Background imports: progress ------------------------------------------------------


def _own_upload_or_404(request, token) -> CsvUpload:
    upload = CsvUpload.objects.filter(token=token, uploaded_by_id=request.user.pk).defer("content").first()
    if upload is None:
        raise Http404("No such upload.")
    return upload


@customer_manager_required
def upload_status(request, token):
    return render_upload_status(request, token)


@customer_manager_required
def upload_progress(request, token):
    return upload_progress_response(request, token)


def render_upload_status(request, token):
    """The page of a background import: a progress bar, then the outcome. Shared
    by Import Learners and Import Allocation (whose views check the manager)."""
    upload = _own_upload_or_404(request, token)
    allocation = upload.purpose == CsvUpload.Purpose.ALLOCATION
    progress_url = reverse("licences:import_progress" if allocation else "learners:upload_progress", args=[token])
    return render(
        request,
        "learners/upload_status.html",
        {"upload": upload, "allocation": allocation, "progress_url": progress_url, **_status_context(upload)},
    )


def upload_progress_response(request, token):
    """What the progress bar polls: small, and read from the database, so any web
    instance can answer."""
    upload = _own_upload_or_404(request, token)
    context = _status_context(upload)
    return JsonResponse(
        {
            "state": upload.state,
            "percent": upload.percent,
            "done": upload.progress_done,
            "total": upload.progress_total,
            "finished": context["finished"],
            "message": context["summary"],
        }
    )


def _status_context(upload: CsvUpload) -> dict:
    State = CsvUpload.State
    finished = upload.state in (State.DONE, State.STALE, State.FAILED)
    result = upload.result or {}
    if upload.state == State.DONE and upload.purpose == CsvUpload.Purpose.LEARNERS:
        summary = import_summary(result.get("added", 0), result.get("allocated", 0), result.get("skipped", {}))
    elif upload.state == State.DONE:
        summary = renewal_summary(result.get("counts", {}))
    elif finished:
        summary = result.get("message", "")
    elif upload.state == State.QUEUED:
        summary = "Waiting for a worker to start the import…"
    else:
        summary = f"Reading the file: {upload.progress_done:,} of {upload.progress_total:,} rows…"
    return {"finished": finished, "summary": summary}


def renewal_summary(counts: dict) -> str:
    """'Renewed 3 learners. Not renewed: 2 (unknown email: 1; ...).'"""
    renewed = counts.get("renew", 0)
    not_renewed = sum(n for code, n in counts.items() if code != "renew")
    text = f"Renewed {plural(renewed, 'learner')}."
    if not_renewed:
        short = {
            code: label.split(":")[0].split(" (")[0].lower() for code, label in services.NOT_RENEWED_REASONS.items()
        }
        why = "; ".join(f"{short[code]}: {counts[code]:,}" for code in short if counts.get(code))
        text += f" Not renewed: {not_renewed:,} ({why})."
    return text


# --- Learner portal ----------------------------------------------------------------------


@licensed_learner_required
def portal(request):
    allocation = (
        Allocation.objects.filter(learner__email=request.user.email, ended_at__isnull=True).only("expires_at").first()
    )
    return render(request, "learners/portal.html", {"allocation": allocation})
