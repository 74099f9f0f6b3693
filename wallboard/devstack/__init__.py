"""The development stack: `manage.py runstack` (behind `make run`), `setup_demo`, and the
private Redis they start. Production never runs any of it (docker-compose.yml runs the
processes itself); tests and benchmarks use `stack.Stack` and `embedded_redis` directly.
"""
