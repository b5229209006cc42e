"""Request counters and latencies in Prometheus text format (monitoring.config).

Metric names follow TF Serving's (`:tensorflow:serving:request_count`, with
`model_name` and `status` labels; `:tensorflow:serving:request_latency` as a
summary in microseconds, labelled by `model_name` and `API`).
"""

import threading


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self._counts = {}
        self._latency = {}

    def record(self, model_name, api, status, seconds):
        with self._lock:
            key = (model_name or "", status)
            self._counts[key] = self._counts.get(key, 0) + 1
            total, count = self._latency.get((model_name or "", api), (0.0, 0))
            self._latency[(model_name or "", api)] = (total + seconds * 1e6, count + 1)

    def exposition(self):
        with self._lock:
            lines = [
                "# HELP :tensorflow:serving:request_count The total number of requests.",
                "# TYPE :tensorflow:serving:request_count counter",
            ]
            for (model, status), count in sorted(self._counts.items()):
                lines.append(f':tensorflow:serving:request_count{{model_name="{model}",status="{status}"}} {count}')
            lines += [
                "# HELP :tensorflow:serving:request_latency Request latency in microseconds.",
                "# TYPE :tensorflow:serving:request_latency summary",
            ]
            for (model, api), (total, count) in sorted(self._latency.items()):
                labels = f'model_name="{model}",API="{api}"'
                lines.append(f":tensorflow:serving:request_latency_sum{{{labels}}} {total:.1f}")
                lines.append(f":tensorflow:serving:request_latency_count{{{labels}}} {count}")
        return "\n".join(lines) + "\n"
