# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN DEBUG=0 SECRET_KEY=build-only-not-secret-build-only-not-secret-build-only-xx \
    ALLOWED_HOSTS=build FIELD_ENCRYPTION_KEYS=bXlfYnVpbGRfb25seV9rZXlfMzJfYnl0ZXNfbG9uZyE= \
    python manage.py collectstatic --noinput

RUN useradd --system --home /app wallboard && mkdir -p /app/.run && chown wallboard /app/.run
USER wallboard
EXPOSE 8000
CMD ["uvicorn", "wallboard.asgi:application", "--host", "0.0.0.0", "--port", "8000", \
     "--ws", "wallboard.live.wsprotocol:WebSocketProtocol", "--ws-per-message-deflate", "true", "--ws-max-size", "4096", \
     "--proxy-headers", "--no-access-log"]
