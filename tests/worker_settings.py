"""Settings for a process a test starts while pytest-xdist workers share one REDIS_URL.

Pub/sub channels are not separated by Redis database, so each worker's channel layer has a
prefix of its own (tests/conftest.py); a web or Celery process the test starts must use the
same one to reach the test's consumers. subprocess_env points DJANGO_SETTINGS_MODULE here.
"""

import os

from wallboard.settings import *  # noqa: F403
from wallboard.settings import CHANNEL_LAYERS

CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = os.environ["WB_TEST_CHANNEL_PREFIX"]
