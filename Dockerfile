# One image for web, worker and beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --system --create-home --uid 10001 clinic

COPY pyproject.toml README.md ./
COPY clinic ./clinic
COPY treatments ./treatments
COPY bookings ./bookings
RUN pip install --no-cache-dir .

COPY . .
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=build-only-secret-key-not-used-at-run-time-000 \
    DJANGO_ALLOWED_HOSTS=build python manage.py collectstatic --noinput \
    && mkdir -p var && chown -R clinic /app/var

USER clinic
EXPOSE 8000
CMD ["sh", "-c", "gunicorn clinic.wsgi:application --bind 0.0.0.0:${PORT:-8000} --workers ${WEB_CONCURRENCY:-3} --access-logfile -"]
