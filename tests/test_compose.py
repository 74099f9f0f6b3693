"""docker-compose.yml describes production: one image, shared settings, exactly one beat."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def load():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_it_has_the_production_services():
    services = load()["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}


def test_it_runs_web_worker_and_beat_from_one_image_with_one_environment():
    services = load()["services"]
    app = [services[name] for name in ("web", "worker", "beat")]
    assert len({s["image"] for s in app}) == 1
    assert all(s["build"] == "." for s in app)
    environments = [s["environment"] for s in app]
    assert environments[0] == environments[1] == environments[2]
    env = environments[0]
    assert env["DEBUG"] == "0"
    assert env["REDIS_URL"].startswith("redis://redis:")
    assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:" in env["DATABASE_URL"]
    for secret in ("SECRET_KEY", "ALLOWED_HOSTS", "FIELD_ENCRYPTION_KEYS"):
        assert ":?" in env[secret], f"{secret} must be required, not defaulted"


def test_it_runs_an_asgi_server_a_prefork_worker_and_one_beat():
    services = load()["services"]
    assert "uvicorn wallboard.asgi:application" in services["web"]["command"]
    # The light websocket protocol the benchmarks measured (docs/performance.md, "Fan-out").
    assert "--ws wallboard.live.wsprotocol:WebSocketProtocol" in services["web"]["command"]
    assert "--pool" in services["worker"]["command"] and "prefork" in services["worker"]["command"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "wallboard", "beat"]
    assert services["beat"]["deploy"]["replicas"] == 1


def test_it_waits_for_healthy_backing_services():
    services = load()["services"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_it_has_a_dockerfile_for_the_image():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements.txt" in dockerfile
    assert "collectstatic" in dockerfile


def test_it_caps_websocket_frames_before_they_reach_the_application():
    # A page only ever sends {"type": "resync"}; the server refuses a 16 MiB frame by itself.
    command = " ".join(load()["services"]["web"]["command"].split())
    assert "--ws-max-size 4096" in command
    assert '"--ws-max-size", "4096"' in (Path(__file__).resolve().parent.parent / "Dockerfile").read_text()


def test_it_believes_forwarded_addresses_only_from_the_proxy():
    # With '*' uvicorn takes the client's own X-Forwarded-For: a fresh lockout count per request.
    web = load()["services"]["web"]["command"]
    assert "--forwarded-allow-ips" not in web
    assert "--forwarded-allow-ips" not in (Path(__file__).resolve().parent.parent / "Dockerfile").read_text()
    assert "FORWARDED_ALLOW_IPS" in load()["x-app"]["environment"]


def test_it_gives_worker_and_beat_the_log_level_everything_else_has():
    # Celery sets the root level from --loglevel: a fixed INFO would override LOG_LEVEL there.
    services = load()["services"]
    assert services["worker"]["environment"]["LOG_LEVEL"] == "${LOG_LEVEL:-INFO}"
    for name in ("worker", "beat"):
        command = services[name]["command"]
        assert command[command.index("--loglevel") + 1] == "${LOG_LEVEL:-INFO}"


def test_it_lets_the_web_server_itself_receive_docker_stops_sigterm():
    # A shell as PID 1 ignores SIGTERM: uvicorn would be killed after the grace period, not stopped.
    assert "&& exec uvicorn wallboard.asgi:application" in " ".join(load()["services"]["web"]["command"].split())
