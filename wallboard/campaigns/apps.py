from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "wallboard.campaigns"
    label = "campaigns"
