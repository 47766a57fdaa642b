from django.db import migrations

# 0003 turned db_index off on Allocation.learner. Django's AlterField then dropped
# every plain index on learner_id, and the partial unique index behind the
# one_current_allocation_per_learner constraint is one of them, although the
# migration state kept the constraint. This puts the index back where it is missing
# (rule 3: a learner holds at most one current, so at most one valid, allocation).
RESTORE = (
    "CREATE UNIQUE INDEX IF NOT EXISTS one_current_allocation_per_learner "
    "ON learners_allocation (learner_id) WHERE ended_at IS NULL"
)


class Migration(migrations.Migration):
    dependencies = [
        ("learners", "0004_allocation_learner_without_db_constraint"),
    ]

    operations = [
        migrations.RunSQL(RESTORE, reverse_sql=migrations.RunSQL.noop),
        # Nothing looks allocations up by order (seat counts per order live on the
        # order), and every index costs on each of a bulk renewal's writes.
        migrations.RemoveIndex(model_name="allocation", name="alloc_order_idx"),
    ]
