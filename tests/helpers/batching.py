"""TF Serving's batch merge in plain NumPy, to test signatures under its batcher.

Follows tensorflow_serving/batching (TF Serving 2.21):
- `batching_util.cc` `PadTensor` / `CreatePadding`: with
  `pad_variable_length_inputs: true`, each request's tensor is padded at the
  end of every dimension but the 0th up to the batch's largest size of that
  dimension, with the tensor's own first element (`input.flat<T>()(0)`).
- `batching_session.cc` `MergeInputTensors`: the padded tensors are
  concatenated along dimension 0; when `allowed_batch_sizes` asks for a
  larger batch, the first row of the last request's padded tensor is
  repeated.
- `batching_session.cc` `SplitOutputTensors`: every output must have the
  merged batch size in dimension 0 (else FAILED_PRECONDITION) and is split
  only along it; other dimensions come back at the batch's size.
"""

import bisect

import numpy as np


def pad_like_tf_serving(array, sizes):
    """Pads dims 1.. of `array` at their end up to `sizes[1:]` with `array.flat[0]`."""
    array = np.asarray(array)
    widths = [(0, 0)] + [(0, size - dim) for dim, size in zip(array.shape[1:], sizes[1:])]
    if all(after == 0 for _, after in widths):
        return array
    if array.size == 0:
        raise ValueError("Got empty tensor in batch of non-empty tensors.")
    return np.pad(array, widths, mode="constant", constant_values=array.flat[0])


def merge(requests, allowed_batch_sizes=()):
    """Merges request input dicts as TF Serving's batcher does.

    Returns:
        `(inputs, rows)`: the merged {name: array} (dimension 0: the batch
        size, `allowed_batch_sizes` applied) and each request's row count.
    """
    names = list(requests[0])
    rows = [len(next(iter(request.values()))) for request in requests]
    total = sum(rows)
    padded_total = total
    if allowed_batch_sizes:
        padded_total = allowed_batch_sizes[bisect.bisect_left(allowed_batch_sizes, total)]
    merged = {}
    for name in names:
        arrays = [np.asarray(request[name]) for request in requests]
        sizes = np.max([a.shape for a in arrays], axis=0)
        padded = [pad_like_tf_serving(a, sizes) for a in arrays]
        padded += [padded[-1][:1]] * (padded_total - total)
        merged[name] = np.concatenate(padded, axis=0)
    return merged, rows


def split(outputs, rows, batch_size):
    """Splits merged outputs along dimension 0 only, one dict per request."""
    answers = [{} for _ in rows]
    bounds = np.cumsum([0] + list(rows))
    for name, value in outputs.items():
        value = np.asarray(value)
        if value.ndim == 0 or value.shape[0] != batch_size:
            raise ValueError(
                f"Batched output {name!r} of shape {value.shape} does not have the batch size "
                f"{batch_size} in dimension 0")
        for answer, start, end in zip(answers, bounds[:-1], bounds[1:]):
            answer[name] = value[start:end]
    return answers


def run_batched(signature, requests, allowed_batch_sizes=()):
    """Runs `requests` (input dicts) as one TF Serving batch through `signature`.

    Args:
        signature: a callable taking the inputs as keyword arrays and
            returning {name: tensor} (a loaded SavedModel signature).
        requests: list of {input name: array} with the same names.
        allowed_batch_sizes: TF Serving's batch sizes (empty: no row padding).

    Returns:
        One {output name: np.ndarray} per request, as TF Serving answers it.
    """
    inputs, rows = merge(requests, allowed_batch_sizes)
    outputs = signature(**inputs)
    return split(outputs, rows, len(next(iter(inputs.values()))))
