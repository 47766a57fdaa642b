"""The Learners section: list, Add Learner, deactivate, and allocate one licence."""

from django.contrib import messages
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from common import local_time
from common.local_time import NO_MOMENT
from common.pagination import paginate_keyset
from learners import reads, roster, seats
from learners.error_codes import LearnerError
from learners.forms import AddLearnerForm, LearnerSearchForm
from learners.models import Learner, LearnerStatus
from licences.permissions import customer_manager_required


@customer_manager_required
def learner_list(request):
    form = LearnerSearchForm(request.GET)
    search, licence = form.values()
    page = paginate_keyset(request, reads.learners_with_licence(search, licence), reads.LEARNER_ORDER)
    return render(
        request,
        "learners/list.html",
        {"page": page, "form": form, "search": search, "rows": _rows(request, page)},
    )


def _rows(request, page):
    """The page's rows, built here in one pass: a template per cell, with two forms
    a row, cost more than the query that found them."""
    tz = request.tenant.tzinfo
    csrf = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request))
    back = "?" + request.GET.urlencode()
    return format_html_join(
        "",
        '<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="actions-col">{}</td></tr>',
        (
            (
                learner.email,
                learner.name or "—",
                _ACTIVE if learner.status == LearnerStatus.ACTIVE else _DEACTIVATED,
                _licence(learner, tz),
                local_time.day(learner.created_at, tz),
                _actions(learner, csrf, back) if learner.status == LearnerStatus.ACTIVE else "",
            )
            for learner in page
        ),
    )


_ACTIVE = mark_safe('<span class="badge badge-ok">Active</span>')  # noqa: S308 (constant markup)
_DEACTIVATED = mark_safe('<span class="badge">Deactivated</span>')  # noqa: S308
_NO_LICENCE = mark_safe('<span class="badge badge-requested">No licence</span>')  # noqa: S308


def _licence(learner, tz):
    state = learner.licence_state
    if state == "deactivated":
        return NO_MOMENT
    if state == "none":
        return _NO_LICENCE
    expires = learner.licence_expires_at.astimezone(tz)
    moment = format_html('<time datetime="{}">{}</time>', expires.isoformat(), local_time.day(expires, tz))
    if state == "valid":
        return format_html("Valid until {}", moment)
    return format_html(
        '<span class="badge badge-expired">Expired</span> <span class="muted small">on {}</span>', moment
    )


def _actions(learner, csrf, back):
    back_field = format_html('<input type="hidden" name="back" value="{}">', back)
    allocate = ""
    if learner.licence_state == "none":
        allocate = format_html(
            '<form method="post" action="{}">{}{}<button type="submit" role="menuitem">Allocate Licence</button></form>',
            reverse("learners:allocate", args=[learner.pk]),
            csrf,
            back_field,
        )
    return format_html(
        '<details class="menu"><summary class="btn btn-light btn-sm dots" aria-label="Actions for {}">⋯</summary>'
        '<div class="menu-items">{}<form method="post" action="{}" data-confirm="Deactivate {}? They lose access now '
        'and their licence becomes free for someone else.">{}{}'
        '<button type="submit" role="menuitem" class="danger">Deactivate</button></form></div></details>',
        learner.email,
        allocate,
        reverse("learners:deactivate", args=[learner.pk]),
        learner.email,
        csrf,
        back_field,
    )


@customer_manager_required
def add_learner(request):
    form = AddLearnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            added = roster.add_learner(
                request.tenant,
                form.cleaned_data["email"],
                form.cleaned_data["name"],
                acting_user=request.user,
                in_manage_mode=request.in_manage_mode,
            )
        except LearnerError as error:
            form.add_error("email", str(error))
        else:
            email = added.learner.email
            if added.got_licence:
                messages.success(request, f"{email} was added and given a licence.")
            else:
                messages.warning(
                    request,
                    f"{email} was added. There is no free licence, so they have no access until "
                    "you allocate one (request more licences on the Licences page).",
                )
            return redirect("learners:list")
    return render(request, "learners/add.html", {"form": form})


@require_POST
@customer_manager_required
def deactivate_learner(request, learner_id):
    try:
        done = roster.deactivate_learner(
            request.tenant, learner_id, acting_user=request.user, in_manage_mode=request.in_manage_mode
        )
    except Learner.DoesNotExist:
        raise Http404("No such learner.") from None
    except LearnerError as error:
        messages.error(request, str(error))
    else:
        freed = " Their licence is free for another learner." if done.freed_seat else ""
        messages.success(request, f"{done.learner.email} was deactivated and has no access any more.{freed}")
    return redirect(_back_to_list(request))


@require_POST
@customer_manager_required
def allocate_licence(request, learner_id):
    if not Learner.objects.filter(pk=learner_id).exists():
        raise Http404("No such learner.")
    outcome = seats.allocate(
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
