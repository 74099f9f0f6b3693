"""docker-compose.yml describes production: one image, shared settings, two beats, a proxy in front."""

import ipaddress
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def load():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def web_command() -> str:
    """The web service's argv, joined with spaces (it is in exec form: a list)."""
    command = load()["services"]["web"]["command"]
    assert isinstance(command, list), "web runs in exec form, without a shell"
    return " ".join(command)


def test_it_has_the_production_services():
    services = load()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "ticker", "beat", "proxy"}


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


def test_it_runs_an_asgi_server_a_prefork_worker_and_two_beats():
    services = load()["services"]
    assert web_command().startswith("uvicorn wallboard.asgi:application ")
    # The light websocket protocol the benchmarks measured (docs/performance.md, "Fan-out").
    assert "--ws wallboard.live.wsprotocol:WebSocketProtocol" in web_command()
    assert "--pool" in services["worker"]["command"] and "prefork" in services["worker"]["command"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "wallboard", "beat"]
    # Claims are atomic in Redis (tests/test_two_beats.py): a second beat only removes a single point of failure.
    assert services["beat"]["deploy"]["replicas"] == 2


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
    assert "--ws-max-size 4096" in web_command()
    assert '"--ws-max-size", "4096"' in (Path(__file__).resolve().parent.parent / "Dockerfile").read_text()


def test_it_believes_forwarded_addresses_only_from_the_proxy():
    # With '*' uvicorn takes the client's own X-Forwarded-For: a fresh lockout count per request.
    web = web_command()
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
    # Exec form: uvicorn itself is PID 1. (A `sh -c "exec uvicorn …"` string spread over lines
    # also ended the command at the first line break, dropping every option after it.)
    command = load()["services"]["web"]["command"]
    assert command[0] == "uvicorn" and not any("\n" in part for part in command)
    assert "--proxy-headers" in command and "--no-access-log" in command


def test_it_lets_web_scale_behind_the_proxy():
    # `docker compose up --scale web=3`: a fixed host port could be bound by one container only.
    services = load()["services"]
    web = services["web"]
    assert "ports" not in web and "container_name" not in web
    assert [str(p) for p in web["expose"]] == ["8000"]
    assert "--port 8000" in web_command()
    for name, service in services.items():
        for port in service.get("ports", []):
            assert name == "proxy", f"{name} publishes {port}: only the proxy faces clients"


def test_it_puts_a_maintained_proxy_with_its_config_from_the_repo_in_front():
    proxy = load()["services"]["proxy"]
    assert proxy["image"].split(":")[0] == "caddy"
    assert set(proxy["ports"]) == {"80:80", "443:443"}
    mounts = {v.split(":")[1]: v.split(":")[0] for v in proxy["volumes"] if v.startswith("./")}
    caddyfile = ROOT / mounts["/etc/caddy/Caddyfile"]
    assert caddyfile.is_file()
    assert proxy["depends_on"] == ["web"]
    assert proxy["environment"]["SITE_ADDRESS"] == "${SITE_ADDRESS:-:80}"


def caddy_directives() -> list[list[str]]:
    """The Caddyfile's lines as words, without comments or blank lines."""
    lines = (ROOT / "deploy" / "Caddyfile").read_text().splitlines()
    return [line.split() for line in lines if line.strip() and not line.strip().startswith("#")]


def test_it_proxies_to_every_web_container_websockets_included():
    directives = caddy_directives()
    assert directives[0] == ["{$SITE_ADDRESS}"]
    assert ["reverse_proxy", "{"] in directives
    # Every container behind the name "web", looked up again as containers come and go.
    assert ["dynamic", "a", "{"] in directives
    assert ["name", "web"] in directives and ["port", "8000"] in directives
    assert any(d[0] == "refresh" for d in directives)
    assert ["lb_policy", "least_conn"] in directives
    # Caddy forwards websocket upgrades by itself; nothing in the file may turn that off
    # (a path handled before the proxy, or a header_up dropping Upgrade/Connection).
    words = " ".join(" ".join(d) for d in directives)
    assert "Upgrade" not in words and "Connection" not in words
    assert not any(d[0] in ("handle", "handle_path", "respond", "redir") for d in directives)


def test_it_believes_forwarded_addresses_from_the_proxy_service_address():
    compose = load()
    address = compose["services"]["proxy"]["networks"]["default"]["ipv4_address"]
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet)
    assert compose["x-app"]["environment"]["FORWARDED_ALLOW_IPS"] == f"${{FORWARDED_ALLOW_IPS:-{address}}}"


def test_it_migrates_once_before_web_worker_and_beat_start():
    # Not in the web command: three web containers would migrate at once.
    services = load()["services"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["image"] == services["web"]["image"]
    assert services["migrate"]["environment"] == services["web"]["environment"]
    assert "migrate" not in web_command()
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
