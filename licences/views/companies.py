"""The partner dashboard's Company section: the partner's customers with their seat
figures. It lives with the licence pools it shows (manage mode, entered from its
Actions menu, is the partners app's)."""

from django.shortcuts import render

from common.pagination import paginate
from licences.charts import partner_charts
from licences.services import with_pool_figures
from partners.forms import CompanySearchForm
from partners.permissions import partner_manager_required
from partners.services import customers_of


@partner_manager_required
def companies(request):
    form = CompanySearchForm(request.GET)
    customers = customers_of(request.user.partner)
    if form.is_valid() and form.cleaned_data["q"]:
        customers = customers.filter(name__icontains=form.cleaned_data["q"])
    customers = with_pool_figures(customers).order_by("name", "pk")
    page = paginate(request, customers)
    context = {"form": form, "page": page, "charts": partner_charts(request.user.partner)}
    return render(request, "licences/companies.html", context)
