"""gunicorn settings for production (``gunicorn --config gunicorn.conf.py wsgi:app``)."""
import multiprocessing
import os

# Loopback unless told otherwise: the TLS proxy in front is the only way in.
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
# Behind a TLS-terminating proxy: trust its X-Forwarded-* headers only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Access log without query strings (booking pages never carry secrets in URLs, but be safe).
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(L)ss'
errorlog = "-"
# gunicorn >= 25 opens a control socket shared by every instance of the user (~/.gunicorn/gunicorn.ctl);
# a second instance would take over the first one's. We do not use it.
control_socket_disable = True
