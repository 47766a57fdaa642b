"""Licence orders: the customer's Licences overview and Orders tab, and the partner's
Requested Orders with Assign and Cancel."""

from django.shortcuts import render

from accounts.permissions import customer_manager_required, partner_manager_required
from common.pagination import paginate
from licences.models import LicenceOrder
from licences.services import pool_summary


@customer_manager_required
def overview(request):
    customer = request.tenant
    orders = LicenceOrder.objects.filter(customer=customer, status="assigned").order_by("-expires_at")
    return render(request, "licences/overview.html", {"summary": pool_summary(customer), "orders": orders[:50]})


@customer_manager_required
def orders(request):
    page = paginate(request, LicenceOrder.objects.filter(customer=request.tenant).select_related("requested_by"))
    return render(request, "licences/orders.html", {"page": page})


@partner_manager_required
def partner_orders(request):
    """The partner's Licences section, Orders tab: Requested Orders."""
    orders = LicenceOrder.objects.filter(customer__partner=request.user.partner).select_related("customer")
    return render(request, "licences/partner_orders.html", {"page": paginate(request, orders)})
