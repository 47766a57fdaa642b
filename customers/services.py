from django.db import transaction
from django.utils.text import slugify

from customers.models import Customer, Domain


def schema_name_for(name: str) -> str:
    """A valid, unused PostgreSQL schema name derived from the company name."""
    base = ("c_" + slugify(name).replace("-", "_"))[:50].rstrip("_") or "c_customer"
    candidate, n = base, 1
    while Customer.objects.filter(schema_name=candidate).exists():
        n += 1
        candidate = f"{base}_{n}"
    return candidate


@transaction.atomic
def create_customer(*, name, partner, time_zone=None, schema_name=None) -> Customer:
    """Create a customer company and its schema, in one transaction. The schema is a
    copy of the template schema (Customer.create_schema), migrated only when there is
    no current template."""
    customer = Customer(name=name, partner=partner, schema_name=schema_name or schema_name_for(name))
    if time_zone:
        customer.time_zone = time_zone
    customer.full_clean(exclude=["schema_name"] if schema_name is None else None)
    customer.save(verbosity=0)
    Domain.objects.create(domain=f"{customer.schema_name}.tenants.invalid", tenant=customer, is_primary=True)
    return customer
