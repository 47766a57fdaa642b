"""The Expired Licences tab: renew learners manually (one by one or Select All) or by
CSV Import Allocation."""

from django.shortcuts import render

from accounts.permissions import customer_manager_required


@customer_manager_required
def expired(request):
    return render(request, "licences/expired.html", {})
