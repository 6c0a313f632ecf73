"""A minimal Celery app for the interop tests; the broker comes from $BROKER.

    BROKER=redis://... celery -A celery_app worker --pool=solo -n w1@host
    BROKER=redis://... celery -A celery_app inspect ping
"""
import os

from celery import Celery

app = Celery("celery_app", broker=os.environ["BROKER"])
# rediss://: Celery's broker_use_ssl, as JSON with the ssl module's name
# for ssl_cert_reqs, e.g. {"ssl_cert_reqs": "CERT_REQUIRED", ...}
if os.environ.get("BROKER_USE_SSL"):
    import json
    import ssl

    opts = json.loads(os.environ["BROKER_USE_SSL"])
    opts["ssl_cert_reqs"] = getattr(ssl, opts["ssl_cert_reqs"])
    app.conf.broker_use_ssl = opts


@app.task
def add(x, y):
    return x + y
