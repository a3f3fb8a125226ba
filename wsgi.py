"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi``."""
import os

from reflexion import create_app

os.umask(0o077)  # whatever else this process creates (logs, caches) stays private

app = create_app()
