"""A minimal Celery app for the interop tests; the broker comes from $BROKER.

    BROKER=redis://... celery -A celery_app worker --pool=solo -n w1@host
    BROKER=redis://... celery -A celery_app inspect ping
"""
import os

from celery import Celery

app = Celery("celery_app", broker=os.environ["BROKER"])


@app.task
def add(x, y):
    return x + y
