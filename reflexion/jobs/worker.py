"""``flask worker``: an RQ worker with scheduler for this app's queues."""
import click
from flask import current_app
from flask.cli import with_appcontext
from rq import Worker

from reflexion.jobs.queue import ALL_QUEUES, get_queue, use_job_app
from reflexion.redis_conn import get_redis


def on_worker_start(app):
    """Catch up on everything overdue and start the periodic jobs."""
    from reflexion.jobs import periodic

    periodic.start(app)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs that are due, then exit.")
@with_appcontext
def worker_command(burst):
    """Run the RQ worker (with scheduler) for the timer, default and mail queues."""
    app = current_app._get_current_object()
    use_job_app(app)
    on_worker_start(app)
    queues = [get_queue(name) for name in ALL_QUEUES]
    Worker(queues, connection=get_redis()).work(with_scheduler=True, burst=burst, logging_level="INFO")
