"""Plain-Python reference of the original SQuAD windowing (BERT / ALBERT `run_squad`).

Written from the algorithm, loop by loop, on Python lists, so that the
TensorFlow windows of `albert_tf.text.AlbertQAPreprocessor` and the labels
of `char_span_to_token_span` can be checked against it:

- windows: from context token 0, each takes up to
  `seq_length - len(question) - 3` tokens, the next starts
  `min(length, doc_stride)` tokens later, and the one reaching the end is
  the last (an empty context still gets one, empty, window: the graph
  always gives each question at least one row);
- `is_max_context`: the original `_check_is_max_context`, float score and
  all;
- labels: the answer's token span (the first and last context token
  overlapping its characters) counts in a window only when both ends lie
  inside it, else (0, 0); positions are offset by `[CLS] question [SEP]`.
"""

import dataclasses


@dataclasses.dataclass
class Window:
    """One packed window: context tokens [start, start + length) of its example.

    Attributes:
        start, length: the window's slice of the context tokens.
        input_word_ids: `[CLS] question [SEP] context slice [SEP]`, unpadded.
        token_start_char, token_end_char: per packed position, the
            character span of a context token, -1 elsewhere.
        token_is_max_context: per packed position, 1 where this window is
            the token's max-context window.
        label: (start, end) packed positions of the answer, (0, 0) when
            the window does not hold it whole or there is none.
    """

    start: int
    length: int
    input_word_ids: list
    token_start_char: list
    token_end_char: list
    token_is_max_context: list
    label: tuple


def doc_spans(num_tokens, max_tokens_for_doc, doc_stride):
    """[(start, length)] of the windows over `num_tokens` context tokens."""
    spans, start = [], 0
    while True:
        length = min(num_tokens - start, max_tokens_for_doc)
        spans.append((start, length))
        if start + length >= num_tokens:
            return spans
        start += min(length, doc_stride)


def is_max_context(spans, span_index, position):
    """Whether window `span_index` gives context token `position` its most context."""
    best_score, best_index = None, None
    for index, (start, length) in enumerate(spans):
        end = start + length - 1
        if position < start or position > end:
            continue
        score = min(position - start, end - position) + 0.01 * length
        if best_score is None or score > best_score:
            best_score, best_index = score, index
    return span_index == best_index


def answer_token_span(token_spans, answer_start, answer_end):
    """(first, last) context token overlapping characters [answer_start, answer_end), or None."""
    if answer_start < 0:
        return None
    hits = [i for i, (start, end) in enumerate(token_spans) if start < answer_end and end > answer_start]
    return (hits[0], hits[-1]) if hits else None


def windows(question_ids, context_ids, token_spans, seq_length, doc_stride, cls_id, sep_id,
            answer_start=-1, answer_end=-1):
    """The windows of one example, with their max-context flags and labels.

    Args:
        question_ids: the question's token ids, already cut to the
            maximum question length.
        context_ids: the context's token ids.
        token_spans: [(start_char, end_char)] of each context token.
        seq_length, doc_stride: the packing settings.
        cls_id, sep_id: the special token ids.
        answer_start, answer_end: the answer's character span; a negative
            start for no answer.

    Returns:
        list of `Window`.
    """
    spans = doc_spans(len(context_ids), seq_length - len(question_ids) - 3, doc_stride)
    answer = answer_token_span(token_spans, answer_start, answer_end)
    offset = len(question_ids) + 2
    prefix = [cls_id] + list(question_ids) + [sep_id]
    out = []
    for index, (start, length) in enumerate(spans):
        positions = range(start, start + length)
        none = [-1] * offset
        label = (0, 0)
        if answer is not None and start <= answer[0] and answer[1] <= start + length - 1:
            label = (answer[0] - start + offset, answer[1] - start + offset)
        out.append(Window(
            start=start,
            length=length,
            input_word_ids=prefix + [context_ids[p] for p in positions] + [sep_id],
            token_start_char=none + [token_spans[p][0] for p in positions] + [-1],
            token_end_char=none + [token_spans[p][1] for p in positions] + [-1],
            token_is_max_context=[0] * offset + [int(is_max_context(spans, index, p)) for p in positions] + [0],
            label=label,
        ))
    return out
