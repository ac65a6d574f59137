"""SNS delivery: a background thread that POSTs messages and retries failures.

The request path (Publish, Subscribe) and the alarm worker only enqueue; one daemon
thread per process sends. An http/https delivery is a POST of SNS's message JSON (or the
bare message with RawMessageDelivery) with SNS's ``x-amz-sns-*`` headers; a 2xx answer
is success. Anything else is retried per the subscription's or topic's delivery policy
(``healthyRetryPolicy``: numRetries, minDelayTarget, maxDelayTarget, backoffFunction),
by default 3 retries 20 seconds apart, as SNS does; then the message is dropped and
logged. Queued deliveries live in memory: a process that stops loses its queue.

``file`` endpoints (``file:///path/to/log.jsonl``, a Dynastore extension for local use)
get one line of message JSON appended per delivery. Protocols that need other AWS
services (email, sms, sqs, lambda, application, firehose) are logged and not delivered.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import orjson

log = logging.getLogger("dynastore.sns")

DEFAULT_RETRIES = 3
DEFAULT_DELAY = 20.0
TIMEOUT = 15.0
USER_AGENT = "Amazon Simple Notification Service Agent"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = DEFAULT_RETRIES
    min_delay: float = DEFAULT_DELAY
    max_delay: float = DEFAULT_DELAY
    backoff: str = "linear"

    def delay(self, attempt: int) -> float:
        """Seconds before retry number `attempt` (1-based)."""
        if self.retries <= 1 or self.max_delay <= self.min_delay:
            return self.min_delay
        share = (attempt - 1) / (self.retries - 1)
        if self.backoff == "exponential" and self.min_delay > 0:
            return float(self.min_delay * (self.max_delay / self.min_delay) ** share)
        return self.min_delay + (self.max_delay - self.min_delay) * share

    @classmethod
    def of(cls, *policies: str | None) -> RetryPolicy:
        """The first delivery policy (JSON text) that sets an http retry policy."""
        for text in policies:
            if not text:
                continue
            try:
                policy = orjson.loads(text)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(policy, dict):
                continue
            http = policy.get("http", policy)
            found = http.get("defaultHealthyRetryPolicy") or http.get("healthyRetryPolicy")
            if isinstance(found, dict):
                low = float(found.get("minDelayTarget", DEFAULT_DELAY))
                return cls(
                    int(found.get("numRetries", DEFAULT_RETRIES)),
                    low,
                    max(low, float(found.get("maxDelayTarget", low))),
                    str(found.get("backoffFunction", "linear")),
                )
        return cls()


@dataclass(slots=True)
class Job:
    """One message for one endpoint."""

    protocol: str
    endpoint: str
    body: bytes
    headers: dict[str, str]
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    attempt: int = 0


Sender = Callable[[Job], bool]


class Delivery:
    """The delivery thread and its queue of due jobs."""

    def __init__(self, sender: Sender | None = None) -> None:
        self._send = sender or send
        self._queue: list[tuple[float, int, Job]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.delivered = 0
        self.failed = 0

    def start(self) -> None:
        with self._wake:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="sns-delivery", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def submit(self, job: Job, delay: float = 0.0) -> None:
        with self._wake:
            heapq.heappush(self._queue, (time.monotonic() + delay, next(self._order), job))
            self._wake.notify()
        if self._thread is None:
            self.start()

    def pending(self) -> int:
        with self._wake:
            return len(self._queue)

    def _next(self) -> Job | None:
        with self._wake:
            while not self._stopping:
                if self._queue:
                    due = self._queue[0][0] - time.monotonic()
                    if due <= 0:
                        return heapq.heappop(self._queue)[2]
                    self._wake.wait(due)
                else:
                    self._wake.wait()
            return None

    def _run(self) -> None:
        while True:
            job = self._next()
            if job is None:
                return
            try:
                ok = self._send(job)
            except Exception:
                log.exception("delivery to %s failed", job.endpoint)
                ok = False
            if ok:
                self.delivered += 1
                continue
            job.attempt += 1
            if job.attempt > job.policy.retries:
                self.failed += 1
                log.warning("dropping message to %s after %d attempts", job.endpoint, job.attempt)
                continue
            self.submit(job, job.policy.delay(job.attempt))


def send(job: Job) -> bool:
    """Deliver one job now; True on success."""
    if job.protocol in ("http", "https"):
        request = urllib.request.Request(job.endpoint, data=job.body, method="POST")
        for name, value in job.headers.items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                return 200 <= int(answer.status) < 300
        except (urllib.error.URLError, OSError, ValueError) as error:
            log.info("delivery to %s failed: %s", job.endpoint, error)
            return False
    if job.protocol == "file":
        path = Path(unquote(urlparse(job.endpoint).path))
        with path.open("ab") as out:
            out.write(job.body.rstrip(b"\n") + b"\n")
        return True
    log.info("%s delivery to %s is not available here; message dropped", job.protocol, job.endpoint)
    return True


def http_headers(kind: str, message_id: str, topic_arn: str, sub_arn: str | None) -> dict[str, str]:
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": USER_AGENT,
        "x-amz-sns-message-type": kind,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
    }
    if sub_arn is not None:
        headers["x-amz-sns-subscription-arn"] = sub_arn
    return headers


def message_json(fields: Mapping[str, Any]) -> bytes:
    """SNS's message JSON: its keys in SNS's order, absent ones left out."""
    return orjson.dumps({k: v for k, v in fields.items() if v is not None})
