"""Optional dynamic batching of Predict requests (`--enable_batching`).

Requests for the same model version and signature whose inputs have the same
names, dtypes and per-row shapes queue together (numeric inputs are never
padded, so a batch never changes what a row sees). A queue is ready when it
holds `max_batch_size` rows or its oldest request has waited
`batch_timeout_micros`; a full queue answers UNAVAILABLE, as TF Serving's
batch scheduler does. Requests that cannot be split by rows (scalar inputs,
mismatched first dimensions, or more rows than `max_batch_size`) run on
their own.

Grouping by length: raw-text signatures pack a batch to its longest row, so
a short text batched with a long one computes mostly padding. A row's length
here is the UTF-8 size of its string inputs (a stand-in for its packed token
count, known only inside the graph). A ready queue gives a batch built
around its oldest request (the oldest always goes first): the
queued requests closest in length join, as many as keep the batch's padding
fraction at most `MAX_PADDING_FRACTION` (or, if none can, as give the least
padding); the others wait for a batch of their own. Padding is every row's
distance to the batch's longest. `Batcher.stats()` reports its fraction;
each batch is logged at DEBUG level and the totals at INFO level when the
batcher closes (the server stops).

`allowed_batch_sizes` only bounds batches here: TF Serving pads a batch's
rows up to the next entry (copies of a row, whose outputs are dropped),
which changes no answer (tests/serving/test_batching.py checks that) but
computes up to 7 wasted rows per real one at low load with the shipped
8/16/32; the dev server runs each batch at its own size.

Outputs are split back along dimension 0 only, as TF Serving does;
token-level outputs come back at the batch's packed length (the positions
past a request's own length marked by `input_mask` 0, see
albert_tf/export/README.md).
"""

import logging
import threading
import time

import numpy as np

from . import errors
from .servable import _output_names

# Batches may waste at most this share of their computed input bytes on padding.
MAX_PADDING_FRACTION = 0.1

log = logging.getLogger(__name__)


def row_lengths(inputs, rows):
    """UTF-8 bytes of each row's string inputs (int64 [rows]; zeros without strings).

    Example:
    >>> row_lengths({"question": np.array([b"Who?", b"When?"], object),
    ...              "context": np.array([b"Zoe wrote it.", "Zoë".encode()], object)}, 2)
    array([17,  9])
    """
    lengths = np.zeros(rows, np.int64)
    for value in inputs.values():
        value = np.asarray(value)
        if value.dtype.kind in "OSU":
            sizes = np.vectorize(len, otypes=[np.int64])(value)
            lengths += sizes.reshape(rows, -1).sum(axis=1)
    return lengths


class _Task:
    def __init__(self, inputs, rows):
        self.inputs = inputs
        self.rows = rows
        lengths = row_lengths(inputs, rows)
        self.longest = int(lengths.max())
        self.total = int(lengths.sum())
        self.enqueued = time.monotonic()
        self.done = threading.Event()
        self.outputs = None
        self.error = None


class Batcher:
    """Batches concurrent Predict calls; `run` has the signature of `LoadedVersion.run`.

    Args:
        params: `config.BatchingParameters`.
        max_padding_fraction: the share of a batch's computed input bytes
            that may be padding before requests of other lengths wait for
            a batch of their own.

    Example:
    >>> from serving.server.config import BatchingParameters
    >>> batcher = Batcher(BatchingParameters(max_batch_size=32, batch_timeout_micros=5000))
    >>> batcher.stats()
    {'batches': 0, 'requests': 0, 'rows': 0, 'computed_bytes': 0, 'input_bytes': 0, 'padding_fraction': 0.0}
    >>> batcher.close()
    """

    def __init__(self, params, max_padding_fraction=MAX_PADDING_FRACTION):
        self.params = params
        self.max_padding_fraction = max_padding_fraction
        self._cv = threading.Condition()
        self._queues = {}  # key -> (servable, signature name, [tasks])
        self._stop = False
        self._stats = {"batches": 0, "requests": 0, "rows": 0, "computed_bytes": 0, "input_bytes": 0}
        self._workers = [
            threading.Thread(target=self._work, name=f"batch-{i}", daemon=True)
            for i in range(params.num_batch_threads)
        ]
        for worker in self._workers:
            worker.start()

    def close(self):
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        for worker in self._workers:
            worker.join(timeout=5)
        stats = self.stats()
        log.info("batching summary: %d batches, %d requests, %d rows, padding_fraction=%.4f of computed input bytes",
                 stats["batches"], stats["requests"], stats["rows"], stats["padding_fraction"])

    def stats(self):
        """Totals since start: batches, requests, rows and the padding fraction of string input bytes.

        `padding_fraction` = 1 - input bytes / computed bytes, where a batch
        computes (its row count) x (its longest row); 0 before any
        batch of string inputs.
        """
        with self._cv:
            stats = dict(self._stats)
        computed = stats["computed_bytes"]
        stats["padding_fraction"] = 1.0 - stats["input_bytes"] / computed if computed else 0.0
        return stats

    def run(self, servable, signature_name, inputs, output_filter=()):
        name, signature_def = servable.signature(signature_name)
        servable.check_inputs(signature_def, inputs)
        keep = _output_names(signature_def, output_filter)
        rows = {np.shape(v)[0] if np.ndim(v) else None for v in inputs.values()}
        if len(rows) != 1 or None in rows or rows == {0} or max(rows) > self.params.max_batch_size:
            outputs = servable.call(name, inputs)
            return {k: outputs[k] for k in keep}, name
        task = _Task(inputs, rows.pop())
        key = (id(servable), name, tuple(sorted(
            (k, np.asarray(v).dtype.str, np.shape(v)[1:]) for k, v in inputs.items())))
        with self._cv:
            if self._stop:
                raise errors.unavailable("The batch scheduler is shutting down.")
            _, _, tasks = self._queues.setdefault(key, (servable, name, []))
            queued = sum(t.rows for t in tasks)
            limit = self.params.max_enqueued_batches * self.params.max_batch_size
            if queued + task.rows > limit:
                raise errors.unavailable(
                    "The batch scheduling queue to which this task was submitted is full")
            tasks.append(task)
            self._cv.notify_all()
        task.done.wait()
        if task.error is not None:
            raise task.error
        return {k: task.outputs[k] for k in keep}, name

    # Worker side.

    def _padding_fraction(self, rows, longest, total):
        computed = rows * longest
        return 1.0 - total / computed if computed else 0.0

    def _group(self, tasks):
        """The oldest task and the queued tasks closest to its length, padding kept low.

        Tasks join in order of length distance to the oldest; of these
        prefixes, the batch is the one with most rows whose padding fraction
        is at most `max_padding_fraction`, or else the one with least padding.
        """
        anchor = tasks[0]
        candidates = [anchor] + sorted(tasks[1:], key=lambda t: abs(t.longest - anchor.longest))
        batch, rows, longest, total = [], 0, 0, 0
        best_key, best_size = None, 1
        for task in candidates:
            if rows + task.rows > self.params.max_batch_size:
                continue
            batch.append(task)
            rows, longest, total = rows + task.rows, max(longest, task.longest), total + task.total
            padding = self._padding_fraction(rows, longest, total)
            within = padding <= self.max_padding_fraction
            key = (within, rows if within else -padding, rows)
            if best_key is None or key > best_key:
                best_key, best_size = key, len(batch)
        return batch[:best_size]

    def _take_batch(self):
        """Under the lock: a ready (servable, name, tasks) or the seconds to wait."""
        timeout = self.params.batch_timeout_micros / 1e6
        now = time.monotonic()
        wait = None
        for key, (servable, name, tasks) in list(self._queues.items()):
            if not tasks:
                del self._queues[key]
                continue
            total = sum(t.rows for t in tasks)
            age = now - tasks[0].enqueued
            if total >= self.params.max_batch_size or age >= timeout:
                batch = self._group(tasks)
                chosen = {id(t) for t in batch}
                tasks[:] = [t for t in tasks if id(t) not in chosen]
                return (servable, name, batch), None
            remaining = timeout - age
            wait = remaining if wait is None else min(wait, remaining)
        return None, wait

    def _work(self):
        while True:
            with self._cv:
                while True:
                    if self._stop:
                        return
                    ready, wait = self._take_batch()
                    if ready is not None:
                        break
                    self._cv.wait(timeout=wait)
            self._run_batch(*ready)

    def _record(self, tasks, rows):
        longest = max(t.longest for t in tasks)
        total = sum(t.total for t in tasks)
        with self._cv:
            self._stats["batches"] += 1
            self._stats["requests"] += len(tasks)
            self._stats["rows"] += rows
            self._stats["computed_bytes"] += rows * longest
            self._stats["input_bytes"] += total
        if longest:
            log.debug("batch of %d requests, %d rows, longest row %d bytes: %.1f%% padding",
                      len(tasks), rows, longest, 100.0 * (1.0 - total / (rows * longest)))

    def _run_batch(self, servable, name, tasks):
        try:
            rows = sum(t.rows for t in tasks)
            self._record(tasks, rows)
            inputs = {}
            for key in tasks[0].inputs:
                inputs[key] = np.concatenate([np.asarray(t.inputs[key]) for t in tasks], axis=0)
            outputs = servable.call(name, inputs)
            start = 0
            for task in tasks:
                task.outputs = {
                    k: (v[start:start + task.rows] if np.ndim(v) and np.shape(v)[0] == rows else v)
                    for k, v in outputs.items()
                }
                start += task.rows
        except errors.ServingError as e:
            for task in tasks:
                task.error = e
        except Exception as e:  # noqa: BLE001 - a batch failure must reach every waiting request
            for task in tasks:
                task.error = errors.ServingError(errors.grpc.StatusCode.INTERNAL, f"Batch failed: {e}")
        finally:
            for task in tasks:
                task.done.set()
