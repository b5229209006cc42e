"""Question answering throughput on CPU: raw question + context in, answer text out.

Same questions (the shipped Disfl-QA test split, real SQuAD 2.0 contexts,
file order), same model shape (ALBERT-base with random weights, or
`--size tiny`; the answers' values do not change the work), same windows
(max_seq_len 384, doc_stride 128, max_answer_len 30), batch sizes 1 and 16
(questions per call), one process, side by side:

1. albert_tf: `export_saved_model` span QA SavedModel, reloaded with
   `tf.saved_model.load`, `signatures["serving_default"](question=...,
   context=...)`: normalization, SentencePiece, document-stride windows,
   the encoder on every window and the per-question merge, one graph.
2. transformers: the steps of its question-answering pipeline (removed in
   transformers 5, which this repository pins, so written out here):
   `AlbertTokenizer` (fast) from the shipped `albert-30k-clean.model` with
   `return_overflowing_tokens` windows and offset mappings per question,
   `AlbertForQuestionAnswering` (torch, eval, no_grad) on all windows of
   the batch padded to the longest, then the best span of each window
   (outer sum of start and end logits, context tokens, at most
   max_answer_len tokens) and the best window, cut from the context. The
   tokenizer's `stride` is the overlap of two windows where the original
   `doc_stride` is the step between them, so each question gets
   `stride = window length - doc_stride`: both sides make the same
   windows. Timed with 1 and 2 torch threads; the ratio takes the faster.

Prints questions/s, the ratios albert_tf / transformers and the CPU's
vector instruction flags. Run:

    .venv/bin/python bench/bench_qa.py [--size base|tiny] [--quick]
"""

import argparse
import json
import os
import pathlib
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from albert_tf.cli import quiet_tensorflow  # noqa: E402

quiet_tensorflow()

import numpy as np  # noqa: E402

from bench.shapes import (  # noqa: E402
    PRESET_OF_SIZE,
    albert_transformers_tokenizer,
    config_of,
    cpu_flags,
    transformers_config,
)

SEQ_LENGTH, DOC_STRIDE, MAX_ANSWER_LENGTH = 384, 128, 30
def _questions(count):
    """(questions, contexts) of the first `count` Disfl-QA test questions, file order."""
    from training.data import readers

    examples = readers.disfl_qa("test")[:count]
    return [e.question for e in examples], [e.context for e in examples]


def _throughput(answer_batch, questions, contexts, batch_size):
    """questions/s of `answer_batch` over all questions, after a one-batch warm-up."""
    answer_batch(questions[:batch_size], contexts[:batch_size])
    start = time.perf_counter()
    for i in range(0, len(questions), batch_size):
        answers = answer_batch(questions[i:i + batch_size], contexts[i:i + batch_size])
        assert len(answers) == len(questions[i:i + batch_size])
    return len(questions) / (time.perf_counter() - start)


def _albert_tf(config, workdir):
    import tensorflow as tf

    from albert_tf import AlbertBackbone, AlbertSpanQA
    from albert_tf.export import export_saved_model
    from albert_tf.text import AlbertQAPreprocessor, AlbertTokenizer

    model = AlbertSpanQA(AlbertBackbone(config))
    directory = export_saved_model(model, AlbertTokenizer(), pathlib.Path(workdir) / "albert_tf",
                                   seq_length=SEQ_LENGTH, doc_stride=DOC_STRIDE, max_answer_length=MAX_ANSWER_LENGTH)
    serve = tf.saved_model.load(str(directory)).signatures["serving_default"]
    preprocessor = AlbertQAPreprocessor(AlbertTokenizer(), SEQ_LENGTH, doc_stride=DOC_STRIDE)

    def answer_batch(questions, contexts):
        out = serve(question=tf.constant(questions), context=tf.constant(contexts))
        return [text.decode("utf-8") for text in out["answer_text"].numpy()]

    def count_windows(questions, contexts):
        return int(tf.reduce_sum(preprocessor.num_windows(tf.constant(questions), tf.constant(contexts))))

    return answer_batch, count_windows


def _best_window_span(start_logits, end_logits, is_context):
    """(score, start, end) of one window's best span: context tokens, start <= end < start + L."""
    length = len(start_logits)
    position = np.arange(length)
    span = position[None, :] - position[:, None]
    valid = (span >= 0) & (span < MAX_ANSWER_LENGTH) & is_context[:, None] & is_context[None, :]
    scores = np.where(valid, start_logits[:, None] + end_logits[None, :], -np.inf)
    best = int(scores.argmax())
    return scores.flat[best], best // length, best % length


def _transformers(config, threads):
    import torch
    import transformers

    tokenizer = albert_transformers_tokenizer()
    model = transformers.AlbertForQuestionAnswering(transformers_config(config)).eval()

    def windows(question, context):
        question_length = len(tokenizer(question, add_special_tokens=False)["input_ids"])
        overlap = max(SEQ_LENGTH - question_length - 3 - DOC_STRIDE, 0)
        return tokenizer(question, context, truncation="only_second", max_length=SEQ_LENGTH, stride=overlap,
                         return_overflowing_tokens=True, return_offsets_mapping=True, return_token_type_ids=True)

    def answer_batch(questions, contexts):
        features = [windows(q, c) for q, c in zip(questions, contexts)]
        rows = [(example, w) for example, f in enumerate(features) for w in range(len(f["input_ids"]))]
        longest = max(len(features[e]["input_ids"][w]) for e, w in rows)

        def padded(name):
            return torch.tensor([features[e][name][w] + [0] * (longest - len(features[e][name][w])) for e, w in rows])

        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            with torch.no_grad():
                out = model(input_ids=padded("input_ids"), attention_mask=padded("attention_mask"),
                            token_type_ids=padded("token_type_ids"))
        finally:
            torch.set_num_threads(previous)
        start_logits, end_logits = out.start_logits.numpy(), out.end_logits.numpy()
        best = [(-np.inf, "")] * len(questions)
        for row, (example, w) in enumerate(rows):
            is_context = np.zeros(longest, bool)
            is_context[[i for i, s in enumerate(features[example].sequence_ids(w)) if s == 1]] = True
            score, start, end = _best_window_span(start_logits[row], end_logits[row], is_context)
            if score > best[example][0]:
                offsets = features[example]["offset_mapping"][w]
                best[example] = (score, contexts[example][offsets[start][0]:offsets[end][1]])
        return [text for _, text in best]

    def count_windows(questions, contexts):
        return sum(len(windows(q, c)["input_ids"]) for q, c in zip(questions, contexts))

    return answer_batch, count_windows


def run(quick=False, size=None):
    """Measures questions/s of each system at batch 1 and 16; returns the report dict.

    Args:
        quick: tiny shapes and few questions (checks the machinery).
        size: "base" or "tiny" (default: tiny when quick, else base).
    """
    import torch

    from bench.run import machine

    size = size or ("tiny" if quick else "base")
    config = config_of(size)
    flags = cpu_flags()
    print(json.dumps(machine()), flush=True)
    print(f"CPU flags: {' '.join(flags) or 'unknown'}", flush=True)
    counts = {1: 8, 16: 32} if quick else {1: 16, 16: 32}
    questions, contexts = _questions(max(counts.values()))
    rows, ratios = [], {}
    with tempfile.TemporaryDirectory() as workdir:
        albert_tf, albert_tf_windows = _albert_tf(config, workdir)
        systems = {"albert_tf SavedModel": albert_tf}
        window_counts = {"albert_tf": albert_tf_windows(questions, contexts)}
        for threads in (1, 2):
            answer_batch, transformers_windows = _transformers(config, threads)
            systems[f"transformers torch, {threads} thread{'s' * (threads > 1)}"] = answer_batch
        window_counts["transformers"] = transformers_windows(questions, contexts)
        for batch_size, count in counts.items():
            row = {"batch size": batch_size, "questions": count}
            for name, answer_batch in systems.items():
                row[name] = _throughput(answer_batch, questions[:count], contexts[:count], batch_size)
                print(f"batch {batch_size:>2} {name:<32} {row[name]:8.2f} questions/s", flush=True)
            best_torch = max(value for name, value in row.items() if name.startswith("transformers"))
            ratios[f"albert_tf / transformers QA (best thread setting), batch {batch_size}"] = (
                row["albert_tf SavedModel"] / best_torch)
            rows.append(row)
    for name, value in ratios.items():
        print(f"{name:<68} {value:6.2f}x")
    import tensorflow as tf

    return {
        "title": f"Question answering throughput on CPU (questions/s, ALBERT-{size} shape, random weights)",
        "rows": rows,
        "ratios": ratios,
        "notes": [
            (f"Disfl-QA test questions in file order, raw question + context in, answer text out; "
             f"max_seq_len {SEQ_LENGTH}, doc_stride {DOC_STRIDE} (the step between windows), "
             f"max_answer_len {MAX_ANSWER_LENGTH}; windows over the {len(questions)} questions: "
             f"albert_tf {window_counts['albert_tf']}, transformers {window_counts['transformers']}."),
            ("transformers 5 removed its question-answering pipeline: its steps (overflowing-token "
             "windows, the model on every window, best span per window, best window) are written out "
             "in bench/bench_qa.py."),
            (f"Threads: TensorFlow default (intra-op {tf.config.threading.get_intra_op_parallelism_threads()} "
             f"= all cores), torch 1 and 2 (the ratio takes the faster); {os.cpu_count()} CPUs visible; "
             f"CPU flags: {' '.join(flags) or 'unknown'}; torch {torch.__version__}."),
        ],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(PRESET_OF_SIZE), default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", default=None, help="also write the result dict here")
    args = parser.parse_args()
    result = run(quick=args.quick, size=args.size)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
