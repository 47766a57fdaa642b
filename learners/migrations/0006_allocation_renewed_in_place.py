from django.db import migrations

# Renewals update each learner's current allocation in place (learners.services).
# With free room on its page and no index on a changed column, PostgreSQL writes the
# new row version on the same page and no index entry (a HOT update); 60% of each
# page is left free for that: room for the renewed version of every row on it. Existing pages keep their rows until rewritten; the
# setting applies to every page written from now on.
FILLFACTOR = "ALTER TABLE learners_allocation SET (fillfactor = 40)"
RESET = "ALTER TABLE learners_allocation RESET (fillfactor)"


class Migration(migrations.Migration):
    dependencies = [
        ("learners", "0005_restore_one_current_allocation_index"),
    ]

    operations = [
        # An index on expires_at would be written on every renewal and stop the
        # updates above from being HOT; the Expired Licences list reaches current
        # allocations through the learner instead.
        migrations.RemoveIndex(model_name="allocation", name="alloc_current_expiry_idx"),
        migrations.RunSQL(FILLFACTOR, reverse_sql=RESET),
    ]
