"""Celery peer for the Flowpilot benchmarks: a trivial task chained 10 times.

Broker and result backend are the same local redis; celery_bench.sh passes its
URL in CELERY_BENCH_REDIS_URL (database 0 for the broker, 1 for results).
Everything else is Celery's default except where noted below.
"""

import os

from celery import Celery, chain

REDIS_URL = os.environ.get("CELERY_BENCH_REDIS_URL", "redis://127.0.0.1:6379")

app = Celery(
    "flowpilot_peers",
    broker=f"{REDIS_URL}/0",
    backend=f"{REDIS_URL}/1",
)
app.conf.update(
    # JSON is already the default serializer; spelled out for the reader.
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    # Results live in redis for an hour (the default is a day); only keeps
    # memory bounded across repeated runs.
    result_expires=3600,
    broker_connection_retry_on_startup=True,
)

CHAIN_LENGTH = 10


@app.task(name="flowpilot_peers.add_one")
def add_one(x):
    return x + 1


def make_chain(start=0, length=CHAIN_LENGTH):
    """add_one(start) | add_one() | ... (length tasks); the result is start + length."""
    return chain(add_one.s(start), *[add_one.s() for _ in range(length - 1)])
