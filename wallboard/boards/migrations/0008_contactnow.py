# Reserved for issue 16 (ContactNow accounts and a queue's TOD policy): filled in by that work.
# The boards migrations run in one line (0006 -> 0007 -> 0008) so that work on several issues
# at once never leaves two leaf migrations.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('boards', '0007_tenant_action_token'),
    ]

    operations = []
