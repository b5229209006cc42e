"""Optional dynamic batching of Predict requests (`--enable_batching`).

Requests for the same model version and signature whose inputs have the same
names, dtypes and per-row shapes queue together; a batch runs when it holds
`max_batch_size` rows or its oldest request has waited `batch_timeout_micros`.
The batch is padded up to the next `allowed_batch_sizes` entry (by repeating
its last row, whose outputs are dropped), run once, and split back by rows.
A full queue answers UNAVAILABLE, as TF Serving's batch scheduler does.
Requests that cannot be split by rows (scalar inputs, mismatched first
dimensions, or more rows than `max_batch_size`) run on their own.
"""

import bisect
import threading
import time

import numpy as np

from . import errors
from .servable import _output_names


class _Task:
    def __init__(self, inputs, rows):
        self.inputs = inputs
        self.rows = rows
        self.enqueued = time.monotonic()
        self.done = threading.Event()
        self.outputs = None
        self.error = None


class Batcher:
    """Batches concurrent Predict calls; `run` has the signature of `LoadedVersion.run`.

    Args:
        params: `config.BatchingParameters`.
    """

    def __init__(self, params):
        self.params = params
        self._cv = threading.Condition()
        self._queues = {}  # key -> (servable, signature name, [tasks])
        self._stop = False
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
                batch, rows = [], 0
                while tasks and rows + tasks[0].rows <= self.params.max_batch_size:
                    rows += tasks[0].rows
                    batch.append(tasks.pop(0))
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

    def _padded_size(self, rows):
        sizes = self.params.allowed_batch_sizes
        if not sizes:
            return rows
        return sizes[bisect.bisect_left(sizes, rows)]

    def _run_batch(self, servable, name, tasks):
        try:
            rows = sum(t.rows for t in tasks)
            padded = self._padded_size(rows)
            inputs = {}
            for key in tasks[0].inputs:
                joined = np.concatenate([np.asarray(t.inputs[key]) for t in tasks], axis=0)
                if padded > rows:
                    joined = np.concatenate([joined, np.repeat(joined[-1:], padded - rows, axis=0)])
                inputs[key] = joined
            outputs = servable.call(name, inputs)
            start = 0
            for task in tasks:
                task.outputs = {
                    k: (v[start:start + task.rows] if np.ndim(v) and np.shape(v)[0] == padded else v)
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
