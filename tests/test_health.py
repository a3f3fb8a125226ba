"""/healthz drives monitoring: 503 whenever something is not ok; the worker judged by its heartbeat."""
import signal
import time

import pytest

from process_helpers import start_worker, wait_until

pytestmark = pytest.mark.worker


@pytest.fixture
def app_config(app_config):
    app_config["WORKER_HEARTBEAT_SECONDS"] = 1.0
    return app_config


def _health(client):
    response = client.get("/healthz")
    return response.status_code, response.get_json()


def test_a_missing_redis_makes_healthz_503(make_app, tmp_path):
    app = make_app(REDIS_URL=f"unix://{tmp_path / 'nothing-here.sock'}")
    started = time.monotonic()
    status, body = _health(app.test_client())
    assert status == 503
    assert body["ok"] is False and body["redis"]["ok"] is False and body["worker"]["ok"] is False
    assert time.monotonic() - started < 2


def test_healthz_follows_the_worker_heartbeat(app, client, redis_server, tmp_path):
    """200 with a beating worker; 503 within three missed beats of a SIGSTOP (with the beat's
    age reported); 200 again after SIGCONT; 503 at once after kill -9."""
    status, body = _health(client)
    assert status == 503 and body["worker"] == {"ok": False, "count": 0, "age_seconds": None,
                                                 "stale_after_seconds": 3.0}
    worker = start_worker(app, redis_server.url, tmp_path / "worker.log", REFLEXION_WORKER_HEARTBEAT=1)
    try:
        wait_until(lambda: _health(client)[0] == 200, 30, 0.1, f"no healthy worker: {worker.output()}")
        status, body = _health(client)
        assert body["ok"] is True and body["worker"]["count"] == 1 and body["worker"]["age_seconds"] <= 1.5

        worker.signal(signal.SIGSTOP)
        stopped = time.monotonic()
        wait_until(lambda: _health(client)[0] == 503, 6, 0.1, "a stopped worker still counts as alive")
        assert time.monotonic() - stopped < 4.5  # stale after 3 s, beats up to 1 s apart
        status, body = _health(client)
        assert body["worker"]["ok"] is False and body["worker"]["age_seconds"] >= 3.0
        assert body["db"]["ok"] and body["redis"]["ok"]

        worker.signal(signal.SIGCONT)
        wait_until(lambda: _health(client)[0] == 200, 5, 0.1, "the worker did not beat again after SIGCONT")

        worker.signal(signal.SIGKILL)
        worker.process.wait(5)
        status, body = _health(client)  # the beat is fresh, but its process is gone
        assert status == 503 and body["worker"]["count"] == 0
    finally:
        worker.stop()
