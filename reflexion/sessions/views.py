"""Operator session panel with live countdowns (htmx-polled partial)."""
from flask import Blueprint

bp = Blueprint("sessions", __name__, url_prefix="/operator/sessions")
