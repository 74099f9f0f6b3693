"""The 8x8 clients and parsers (no Django models).

- `client.VccClient`: one tenant's connection (agents, queues, schedules, status).
- `client.validate_base_url`: the platform root for an admin-entered URL, https only.
- `parse.parse_*`: bytes (XML or JSON) -> normalised records (`records.py`).
- `errors.VccError` and its subclasses, each with a `kind` and a one-line user message.
"""
