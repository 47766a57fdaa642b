from django.db import migrations

from common.search import CREATE_FUNCTION, DROP_FUNCTION


class Migration(migrations.Migration):
    """public.trigrams(text) for the learners' search indexes (common/search.py).
    A shared app's migration: it runs in the public schema only."""

    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunSQL(CREATE_FUNCTION, DROP_FUNCTION)]
