"""The learner portal: the training home, for a learner holding a valid licence."""

from django.shortcuts import render

from learners import reads
from learners.permissions import licensed_learner_required


@licensed_learner_required
def portal(request):
    return render(request, "learners/portal.html", {"allocation": reads.current_seat(request.user.email)})
