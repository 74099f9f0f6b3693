"""Fixtures shared by the campaign tests: the simulator, a tenant with its action token, a board,
campaigns on it, and the people: a supervisor with the campaign grant, one without, an administrator.

Import the fixtures into a test module with `from campaign_helpers import *  # noqa: F403`.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from wallboard.boards.models import Board, BoardQueue, Tenant
from wallboard.campaigns.models import Campaign, CampaignGrant
from wallboard.simulator.server import SimulatorServer

ACTION_TOKEN = "demo-action-token"
PASSWORD = "correct horse battery staple 42"

__all__ = [
    "ACTION_TOKEN", "PASSWORD", "admin_user", "campaign_sim_server", "board", "campaign", "other_campaign", "sim", "sim_state",
    "supervisor", "tenant", "viewer",
]


@pytest.fixture(scope="module")
def campaign_sim_server():
    server = SimulatorServer(port=0, agents=30, queues=6, seed=3)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sim(campaign_sim_server, redis_client):
    """The simulator with its campaigns as they start: 101 paused, 102 new, 103 static, 104 disabled."""
    campaign_sim_server.campaigns.reset()
    yield campaign_sim_server
    campaign_sim_server.campaigns.reset()


def sim_state(sim, campaign_id: str = "101") -> dict:
    return sim.campaigns.state()["campaigns"][campaign_id]


@pytest.fixture
def tenant(sim):
    return Tenant.objects.create(
        name="Acme", base_url=sim.base_url, tenant_name="demo", token="demo-token",
        action_token=ACTION_TOKEN, time_zone="America/New_York",
    )


@pytest.fixture
def board(tenant):
    board = Board.objects.create(slug="floor", title="Floor", tenant=tenant)
    BoardQueue.objects.create(board=board, queue_id="201")
    return board


@pytest.fixture
def campaign(board):
    campaign = Campaign.objects.create(tenant=board.tenant, campaign_id="101", name="Renewals callbacks")
    campaign.boards.add(board)
    return campaign


@pytest.fixture
def other_campaign(board):
    campaign = Campaign.objects.create(tenant=board.tenant, campaign_id="103", name="Survey")
    campaign.boards.add(board)
    return campaign


@pytest.fixture
def supervisor(board):
    """Sees the board (a viewer grant) and may control its campaigns (through a group)."""
    user = User.objects.create_user("sam", password=PASSWORD)
    board.viewers.add(user)
    group = Group.objects.create(name="Floor supervisors")
    user.groups.add(group)
    CampaignGrant.objects.get_or_create(board=board)[0].groups.add(group)
    return user


@pytest.fixture
def viewer(board):
    """Sees the board, may not control its campaigns."""
    user = User.objects.create_user("vic", password=PASSWORD)
    board.viewers.add(user)
    return user


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("ada", "ada@example.com", PASSWORD)
