"""Client side of the Celery benchmark (run by celery_bench.sh).

1. warm-up: a few chains (also waits for the worker to come up);
2. latency: CELERY_LATENCY_CHAINS sequential chains, each apply_async().get();
3. throughput: CELERY_THROUGHPUT_CHAINS chains submitted as fast as one client
   can, then every result awaited; chains/s = chains / (last result - first submit).

Prints one summary line and one machine-readable line.
"""

import math
import os
import statistics
import sys
import time

from celery_tasks import CHAIN_LENGTH, app, make_chain

LATENCY_CHAINS = int(os.environ.get("CELERY_LATENCY_CHAINS", "200"))
THROUGHPUT_CHAINS = int(os.environ.get("CELERY_THROUGHPUT_CHAINS", "2000"))
WARMUP_CHAINS = int(os.environ.get("CELERY_WARMUP_CHAINS", "20"))
START_TIMEOUT = float(os.environ.get("CELERY_START_TIMEOUT", "120"))
GET_TIMEOUT = float(os.environ.get("CELERY_GET_TIMEOUT", "60"))


def log(msg):
    print(f"[celery] {msg}", file=sys.stderr, flush=True)


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = math.ceil(p / 100.0 * len(sorted_values)) - 1
    return sorted_values[max(0, min(len(sorted_values) - 1, k))]


def run_chain(start):
    r = make_chain(start).apply_async()
    value = r.get(timeout=GET_TIMEOUT)
    if value != start + CHAIN_LENGTH:
        raise SystemExit(f"chain({start}) returned {value}, expected {start + CHAIN_LENGTH}")
    return r


def main():
    # The first chain waits for the worker; give it the start-up allowance.
    t0 = time.monotonic()
    r = make_chain(0).apply_async()
    value = r.get(timeout=START_TIMEOUT)
    if value != CHAIN_LENGTH:
        raise SystemExit(f"first chain returned {value}, expected {CHAIN_LENGTH}")
    log(f"worker answered in {time.monotonic() - t0:.1f} s")
    for i in range(WARMUP_CHAINS):
        run_chain(i)

    log(f"latency: {LATENCY_CHAINS} sequential chains of {CHAIN_LENGTH} tasks")
    lat_ms = []
    for i in range(LATENCY_CHAINS):
        t = time.perf_counter()
        run_chain(i)
        lat_ms.append((time.perf_counter() - t) * 1000.0)
    lat_ms.sort()
    p50 = percentile(lat_ms, 50)
    p99 = percentile(lat_ms, 99)

    log(f"throughput: {THROUGHPUT_CHAINS} chains submitted at once")
    t = time.perf_counter()
    results = [make_chain(i).apply_async() for i in range(THROUGHPUT_CHAINS)]
    submitted = time.perf_counter() - t
    deadline = time.monotonic() + max(GET_TIMEOUT, THROUGHPUT_CHAINS * 0.2)
    for i, r in enumerate(results):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SystemExit("throughput run timed out")
        value = r.get(timeout=remaining)
        if value != i + CHAIN_LENGTH:
            raise SystemExit(f"chain({i}) returned {value}, expected {i + CHAIN_LENGTH}")
    elapsed = time.perf_counter() - t
    rate = THROUGHPUT_CHAINS / elapsed

    print(f"celery: {rate:.1f} chains/s; single chain p50 {p50:.1f} ms p99 {p99:.1f} ms", flush=True)
    print(
        "celery_report: "
        f"chain_length={CHAIN_LENGTH} throughput_chains={THROUGHPUT_CHAINS} "
        f"throughput_s={elapsed:.3f} submit_s={submitted:.3f} chains_per_s={rate:.2f} "
        f"tasks_per_s={rate * CHAIN_LENGTH:.1f} latency_chains={LATENCY_CHAINS} "
        f"mean_ms={statistics.fmean(lat_ms):.2f} p50_ms={p50:.2f} "
        f"p90_ms={percentile(lat_ms, 90):.2f} p99_ms={p99:.2f} max_ms={lat_ms[-1]:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
