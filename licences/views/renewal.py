"""The renewal page, where an expired customer's managers land: their licences have
expired, what that means, and how to renew."""

from django.shortcuts import redirect, render

from licences.models import LicenceOrder, OrderStatus
from licences.permissions import needed_to_renew
from licences.services import valid_orders_and_expired


@needed_to_renew
def renewal(request):
    customer = request.tenant
    _, expired = valid_orders_and_expired(customer)
    if not expired:
        return redirect("licences:overview")
    orders = LicenceOrder.objects.filter(customer=customer)
    last = orders.filter(status=OrderStatus.ASSIGNED).order_by("-expires_at").first()
    waiting = orders.filter(status=OrderStatus.REQUESTED).order_by("requested_at")
    return render(request, "licences/renewal.html", {"last_order": last, "waiting": waiting})
