"""Manage mode: entering one of the partner's customers from Company → Actions →
Manage Company, and leaving it with Exit."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from partners import services
from partners.permissions import partner_manager_required


@require_POST
@partner_manager_required
def manage_company(request, customer_id):
    customer = get_object_or_404(services.customers_of(request.user.partner), pk=customer_id)
    services.enter_manage_mode(request.session, customer, acting_user=request.user)
    messages.success(request, f"You are now managing {customer.name}.")
    return redirect("licences:overview")


@require_POST
@partner_manager_required
def exit_manage_mode(request):
    customer = request.tenant if request.in_manage_mode else None
    services.exit_manage_mode(request.session, customer, acting_user=request.user)
    if customer is not None:
        messages.info(request, f"You have left {customer.name}.")
    return redirect("licences:companies")
