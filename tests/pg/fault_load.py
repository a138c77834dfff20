#!/usr/bin/env python3
"""Steady webhook load for tests/pg/fault_test.sh (standard library only).

Sends POST {url}/hooks/{path} at --rate requests per second until the file --stop-file exists,
each with a unique Idempotency-Key. A request that fails (connection refused or reset, a timeout,
5xx while PostgreSQL restarts, 429) is sent again with the same key, a few times, so that a retry
after a lost answer cannot start a second run. The final outcome of every key goes to --out as
tab-separated lines:

    key  outcome  http_status  run_id  tries

outcome is `accepted` (answered 202, or 200 with the first run's id for a repeated key) or
`failed` (never accepted; such a key may or may not have a run: the server may have recorded it
and lost the answer). A summary goes to stderr.
"""
import argparse
import http.client
import json
import os
import queue
import sys
import threading
import time
import urllib.parse


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True, help="http://127.0.0.1:PORT of an api process")
    p.add_argument("--path", default="fault", help="the webhook path")
    p.add_argument("--rate", type=float, default=40.0, help="new requests per second")
    p.add_argument("--threads", type=int, default=24, help="requests in flight at most")
    p.add_argument("--tries", type=int, default=10, help="attempts per key before giving up")
    p.add_argument("--retry-delay", type=float, default=0.5, help="seconds between attempts")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds per attempt")
    p.add_argument("--stop-file", required=True, help="stop sending new keys once this exists")
    p.add_argument("--out", required=True, help="where the outcome of every key is written")
    p.add_argument("--key-prefix", default="", help="makes the keys unique across test runs")
    return p.parse_args()


class Load:
    def __init__(self, args):
        self.args = args
        target = urllib.parse.urlsplit(args.url)
        self.host = target.hostname
        self.port = target.port
        self.jobs = queue.Queue()
        self.lock = threading.Lock()
        self.results = []  # (key, outcome, status, run_id, tries)
        self.errors = {}  # what failed attempts saw, counted, for the summary
        self.retried = 0
        self.max_latency = 0.0

    def note_error(self, what):
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1

    def attempt(self, key, n):
        """One POST; returns (http status, run_id or None, retry?)."""
        body = json.dumps({"n": n}).encode()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.args.timeout)
        try:
            conn.request("POST", "/hooks/" + self.args.path, body=body,
                         headers={"Content-Type": "application/json", "Idempotency-Key": key,
                                  "Connection": "close"})
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            self.note_error(type(e).__name__)
            return 0, None, True
        finally:
            conn.close()
        if resp.status in (200, 202):
            try:
                run_id = json.loads(data).get("run_id")
            except ValueError:
                run_id = None
            if run_id:
                return resp.status, run_id, False
            self.note_error("%d without run_id" % resp.status)
            return resp.status, None, True
        self.note_error(str(resp.status))
        # 5xx (the store unavailable) and 429 are worth another try; anything else is final.
        return resp.status, None, resp.status >= 500 or resp.status == 429

    def worker(self):
        while True:
            job = self.jobs.get()
            if job is None:
                return
            key, n = job
            started = time.monotonic()
            status, run_id, tries = 0, None, 0
            while tries < self.args.tries:
                tries += 1
                status, run_id, again = self.attempt(key, n)
                if not again:
                    break
                time.sleep(self.args.retry_delay)
            latency = time.monotonic() - started
            with self.lock:
                if tries > 1:
                    self.retried += 1
                self.max_latency = max(self.max_latency, latency)
                outcome = "accepted" if run_id else "failed"
                self.results.append((key, outcome, status, run_id or "-", tries))

    def run(self):
        threads = [threading.Thread(target=self.worker, daemon=True)
                   for _ in range(self.args.threads)]
        for t in threads:
            t.start()
        interval = 1.0 / self.args.rate
        next_at = time.monotonic()
        n = 0
        started = time.monotonic()
        while not os.path.exists(self.args.stop_file):
            n += 1
            self.jobs.put(("%sk%06d" % (self.args.key_prefix, n), n))
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -1.0:
                next_at = time.monotonic()  # fell behind (machine busy): do not burst to catch up
        sent_for = time.monotonic() - started
        # Every key queued so far is sent (and retried) to its end: a queued key counts as sent.
        for _ in threads:
            self.jobs.put(None)
        for t in threads:
            t.join()
        with open(self.args.out, "w") as f:
            for key, outcome, status, run_id, tries in sorted(self.results):
                f.write("%s\t%s\t%d\t%s\t%d\n" % (key, outcome, status, run_id, tries))
        accepted = sum(1 for r in self.results if r[1] == "accepted")
        print("load: %d keys in %.1f s (%.1f/s), %d accepted, %d failed, %d needed a retry, "
              "slowest %.2f s; failed attempts: %s"
              % (len(self.results), sent_for, len(self.results) / max(sent_for, 0.001), accepted,
                 len(self.results) - accepted, self.retried, self.max_latency,
                 ", ".join("%s x%d" % kv for kv in sorted(self.errors.items())) or "none"),
              file=sys.stderr)


def main():
    Load(parse_args()).run()


if __name__ == "__main__":
    main()
