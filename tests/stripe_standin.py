"""A stand-in for Stripe's HTTP API on loopback: records what the app sends, answers as Stripe does.

Serves ``POST /v1/checkout/sessions``, ``POST /v1/refunds`` and ``GET /v1/refunds/<id>`` with JSON shaped like Stripe's
(``id``, ``object``, ``url`` …); anything else is a 404 in Stripe's error format. A test can
queue failures (``fail("/v1/refunds", 500)``) that the next requests to that path get. Each
request is kept with its path, headers and form body (``params``: the flat ``key[0][sub]`` pairs
the stripe library sends), and ``nested(request)`` turns a body back into dicts and lists.

Webhooks go the other way: :func:`signed_headers` signs a body exactly as Stripe does
(``Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256(secret, "<t>.<body>")>``).
"""
import hashlib
import hmac
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


#: The test secrets (the stand-in accepts only this key).
SECRET_KEY = "sk_test_reflexion"
SECRET = "whsec_test_reflexion"


def stripe_settings(standin) -> dict:
    """App settings that switch online payment on, with the library pointed at ``standin``."""
    return {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_WEBHOOK_SECRET": SECRET, "STRIPE_API_BASE": standin.url}


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    params: dict = field(default_factory=dict)


class StripeStandIn:
    def __init__(self):
        self.requests: list[Recorded] = []
        self._failures: dict[str, list[int]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        #: The status ``POST /v1/refunds`` answers with (Stripe says ``pending`` for a refund it settles later)
        self.refund_status = "succeeded"
        #: What ``GET /v1/refunds/<id>`` says of a refund now (default: the status it was created with)
        self.refund_now: dict[str, str] = {}
        self._refunds: dict[str, dict] = {}
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                standin._handle(self)

            def do_GET(self):
                standin._handle(self)

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def fail(self, path: str, *statuses: int):
        """The next requests to ``path`` get these statuses (in order), then normal answers again."""
        with self._lock:
            self._failures.setdefault(path, []).extend(statuses)

    def to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    # -- serving ---------------------------------------------------------------------------
    def _handle(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        path = handler.path.split("?", 1)[0]
        record = Recorded(handler.command, path, dict(handler.headers.items()), dict(parse_qsl(body)))
        with self._lock:
            self.requests.append(record)
            failures = self._failures.get(path)
            status = failures.pop(0) if failures else None
            number = next(self._ids)
        if status is not None:
            kind = "invalid_request_error" if status < 500 else "api_error"
            return self._answer(handler, status, {"error": {"type": kind, "message": "stand-in failure"}})
        if handler.headers.get("Authorization", "") != f"Bearer {SECRET_KEY}":
            return self._answer(handler, 401, {"error": {"type": "invalid_request_error", "message": "bad key"}})
        if handler.command == "POST" and path == "/v1/checkout/sessions":
            session_id = f"cs_test_{number:04d}"
            return self._answer(handler, 200, {
                "id": session_id, "object": "checkout.session", "mode": "payment", "status": "open",
                "payment_status": "unpaid", "url": f"https://checkout.stripe.com/c/pay/{session_id}",
                "amount_total": int(record.params.get("line_items[0][price_data][unit_amount]", 0)),
                "currency": record.params.get("line_items[0][price_data][currency]"),
                "client_reference_id": record.params.get("client_reference_id"), "payment_intent": None,
            })
        if handler.command == "POST" and path == "/v1/refunds":
            refund = {
                "id": f"re_test_{number:04d}", "object": "refund", "status": self.refund_status,
                "amount": int(record.params.get("amount", 0)), "currency": "eur",
                "payment_intent": record.params.get("payment_intent"),
                "metadata": {"booking_ref": record.params.get("metadata[booking_ref]")},
            }
            with self._lock:
                self._refunds[refund["id"]] = refund
            return self._answer(handler, 200, refund)
        if handler.command == "GET" and path.startswith("/v1/refunds/"):
            refund_id = path.rsplit("/", 1)[1]
            with self._lock:
                refund = self._refunds.get(refund_id)
            if refund is None:
                return self._answer(handler, 404, {"error": {"type": "invalid_request_error",
                                                             "message": f"No such refund: '{refund_id}'"}})
            return self._answer(handler, 200, {**refund, "status": self.refund_now.get(refund_id, refund["status"])})
        return self._answer(handler, 404, {"error": {"type": "invalid_request_error", "message": "no such route"}})

    @staticmethod
    def _answer(handler, status, payload):
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Request-Id", "req_standin")
        handler.end_headers()
        handler.wfile.write(data)


def nested(params: dict):
    """``{"a[0][b]": "x"}`` -> ``{"a": [{"b": "x"}]}`` (the stripe library's form encoding, reversed)."""
    root: dict = {}
    for key, value in params.items():
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part, following in zip(parts, parts[1:]):
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def lists(node):
        if isinstance(node, dict):
            if node and all(k.isdigit() for k in node):
                return [lists(node[k]) for k in sorted(node, key=int)]
            return {k: lists(v) for k, v in node.items()}
        return node

    return lists(root)


def signed_headers(payload: str, secret: str, timestamp: int) -> dict:
    """The headers of a webhook delivery, signed as Stripe signs them."""
    signature = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={signature}", "Content-Type": "application/json"}
