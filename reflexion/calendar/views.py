"""Calendar downloads: the client's invite and the operator's private feed."""
from flask import Blueprint

bp = Blueprint("calendar", __name__)
