"""The Learners section: list, Add Learner, deactivate, and allocate one licence."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from common.pagination import paginate_keyset
from learners import reads, roster, seats
from learners.error_codes import LearnerError
from learners.forms import AddLearnerForm, LearnerSearchForm
from learners.models import Learner
from licences.permissions import customer_manager_required


@customer_manager_required
def learner_list(request):
    form = LearnerSearchForm(request.GET)
    search, licence = form.values()
    page = paginate_keyset(request, reads.learners_with_licence(search, licence), reads.LEARNER_ORDER)
    return render(request, "learners/list.html", {"page": page, "form": form, "search": search})


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
