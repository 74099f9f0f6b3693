# Agent performance tiles (issue 20): the board's tile settings and thresholds on the new metrics.

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('boards', '0008_contactnow'),
    ]

    operations = [
        migrations.AddField(
            model_name='board',
            name='leaderboard',
            field=models.CharField(choices=[('off', 'Off'), ('accepted', 'By accepted today'), ('aht', 'By average handling time')], default='off', help_text="Top agents of the board's agent groups (all agents when it has none). By average handling time: shortest first, only agents with at least the minimum count accepted today.", max_length=8),
        ),
        migrations.AddField(
            model_name='board',
            name='leaderboard_min_count',
            field=models.PositiveIntegerField(default=5, help_text='So that one short call does not win the leaderboard.', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(1000)], verbose_name='minimum accepted for average handling time'),
        ),
        migrations.AddField(
            model_name='board',
            name='leaderboard_size',
            field=models.PositiveSmallIntegerField(default=5, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(20)], verbose_name='leaderboard size'),
        ),
        migrations.AddField(
            model_name='board',
            name='show_day_totals',
            field=models.BooleanField(default=False, help_text='Queued, accepted, abandoned, average wait and handling time and SLA % since the start of the day.', verbose_name='show day totals per queue'),
        ),
        migrations.AddField(
            model_name='board',
            name='show_occupancy',
            field=models.BooleanField(default=False, help_text="Occupancy % = (handling time + wrap-up time) ÷ (logged-in time − break time) × 100, summed over the group's agents since the start of the day (8x8's day-processing-time, day-wrap-up-time, day-login-time and day-break-time); empty when no time is left after breaks.", verbose_name='show occupancy per agent group'),
        ),
        migrations.AlterField(
            model_name='threshold',
            name='metric',
            field=models.CharField(choices=[('queue_size', 'Waiting'), ('longest_wait_time', 'Longest wait (s)'), ('sla_activity', 'SLA %'), ('day_sla_activity', 'SLA % today'), ('thirty_min_sla_activity', 'SLA % last 30 min'), ('agent_count_wait_transact', 'Agents available'), ('agent_count_busy', 'Agents busy'), ('agent_count_on_break', 'Agents on break'), ('agent_count_work_offline', 'Agents offline'), ('agent_count_post_process', 'Agents in wrap-up'), ('agent_count_logged_out', 'Agents logged out'), ('number_in_offered', 'Offered'), ('number_in_progress', 'In progress'), ('day_queued', 'Queued today'), ('day_accepted', 'Accepted today'), ('day_abandoned', 'Abandoned today'), ('day_avg_wait_time', 'Avg wait today (s)'), ('thirty_min_queued', 'Queued 30 min'), ('thirty_min_accepted', 'Accepted 30 min'), ('thirty_min_abandoned', 'Abandoned 30 min'), ('thirty_min_avg_wait_time', 'Avg wait 30 min (s)'), ('thirty_min_longest_wait_time', 'Longest wait 30 min (s)'), ('occupancy', 'Occupancy % (agent group)'), ('agent_accepted', 'Leaderboard: accepted today'), ('agent_aht', 'Leaderboard: avg handling time (s)'), ('day_avg_duration', 'Day totals: avg handling time (s)')], max_length=40),
        ),
        migrations.AlterField(
            model_name='threshold',
            name='queue_id',
            field=models.CharField(blank=True, help_text='Leave empty for every queue and group on the board. For occupancy: an agent group id, or empty for every group. Leaderboard thresholds are board-wide (empty).', max_length=64),
        ),
    ]
