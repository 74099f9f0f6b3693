# The Analytics for Contact Center (v5) source on the tenant (issue 17), written by hand: the
# boards migrations run in one line (0006 -> 0007 -> 0008) so that work on several issues at
# once never leaves two leaf migrations.

import django.core.validators
from django.db import migrations, models

import wallboard.boards.crypto
import wallboard.boards.models


class Migration(migrations.Migration):

    dependencies = [
        ('boards', '0005_tenanthealth_unreadable_secret'),
    ]

    operations = [
        migrations.AddField(
            model_name='tenant',
            name='source',
            field=models.CharField(choices=[('statistics', 'Real Time Statistics API'), ('analytics', 'Analytics for Contact Center API (v5)')], default='statistics', help_text='Analytics refreshes every 5 s instead of 10 and adds agent reason codes and SLA details; it needs an API key and secret from 8x8 Admin Console (docs/admin.md).', max_length=10, verbose_name='statistics source'),
        ),
        migrations.AddField(
            model_name='tenant',
            name='analytics_client_id',
            field=models.CharField(blank=True, default='', help_text='The key (OAuth2 client id) of an Admin Console app that includes Analytics for Contact Center.', max_length=200, validators=[wallboard.boards.models.validate_analytics_client_id], verbose_name='Analytics API key'),
        ),
        migrations.AddField(
            model_name='tenant',
            name='analytics_client_secret',
            field=wallboard.boards.crypto.EncryptedTextField(blank=True, default='', help_text='Stored encrypted; never shown again.', validators=[wallboard.boards.models.validate_analytics_client_secret], verbose_name='Analytics API secret'),
        ),
        migrations.AddField(
            model_name='tenant',
            name='analytics_region',
            field=models.CharField(choices=[('us', 'US'), ('eu', 'EU'), ('au', 'AU'), ('ca', 'CA')], default='us', help_text='Where the Contact Center tenant lives: US, EU, AU (Asia-Pacific) or CA.', max_length=2, verbose_name='Analytics region'),
        ),
        migrations.AddField(
            model_name='tenant',
            name='analytics_tenant_info',
            field=models.CharField(blank=True, default='', help_text='Only for a multi-tenant account: the tenant id 8x8 gave you.', max_length=100, validators=[wallboard.boards.models.validate_analytics_tenant_info], verbose_name='tenant info (X-Tenant-Info)'),
        ),
        migrations.AddField(
            model_name='tenant',
            name='analytics_base_url',
            field=models.CharField(blank=True, default='', help_text='Leave empty for https://api.8x8.com (a loopback simulator may use http).', max_length=200, verbose_name='Analytics base URL'),
        ),
        migrations.AlterField(
            model_name='tenant',
            name='poll_interval',
            field=models.PositiveIntegerField(default=10, help_text='8x8 refreshes its statistics every 10 s (the Analytics API every 5 s: an Analytics tenant left at 10 is set to 5); polling faster gains nothing.', validators=[django.core.validators.MinValueValidator(5), django.core.validators.MaxValueValidator(300)], verbose_name='poll interval (s)'),
        ),
    ]
