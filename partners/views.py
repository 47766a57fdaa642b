from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import partner_manager_required
from common.pagination import paginate
from licences.services import with_pool_figures
from partners import services
from partners.forms import CompanySearchForm


@partner_manager_required
def companies(request):
    """The partner dashboard's Company section: the partner's customers with seat figures."""
    form = CompanySearchForm(request.GET)
    customers = services.customers_of(request.user.partner)
    if form.is_valid() and form.cleaned_data["q"]:
        customers = customers.filter(name__icontains=form.cleaned_data["q"])
    customers = with_pool_figures(customers).order_by("name", "pk")
    page = paginate(request, customers)
    return render(request, "partners/companies.html", {"form": form, "page": page})


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
    return redirect("partners:companies")
