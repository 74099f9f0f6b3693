# Reserved for issue 17 (Analytics v5 source on the tenant): filled in by that work.
# The boards migrations run in one line (0006 -> 0007 -> 0008) so that work on several issues
# at once never leaves two leaf migrations.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('boards', '0005_tenanthealth_unreadable_secret'),
    ]

    operations = []
