from django.shortcuts import render

from accounts.permissions import customer_manager_required, learner_required
from common.pagination import paginate
from learners.models import Learner


@customer_manager_required
def learner_list(request):
    page = paginate(request, Learner.objects.order_by("email"))
    return render(request, "learners/list.html", {"page": page})


@learner_required
def portal(request):
    return render(request, "learners/portal.html", {})
