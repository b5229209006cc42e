"""Pretraining throughput: albert_tf's compiled train step vs keras-hub's AlbertMaskedLM.

Same shapes (tiny, and ALBERT-base unless --quick), same batch size,
sequence length and number of masked positions, same optimizer (LAMB from
training.optimization, global-norm clip 1.0), both `jit_compile=True`,
random weights and synthetic ids, one process, side by side:

1. albert_tf: `AlbertPretrainer` compiled by `training.pretrain.compile_pretrainer`
   (weighted MLM loss + SOP loss, both accuracies): the real pretraining step.
2. keras-hub: `keras_hub.models.AlbertMaskedLM` (MLM head only, no sentence
   order head) with sparse cross-entropy on the masked positions.

albert_tf does strictly more work per step (the SOP head and its loss), so
a ratio >= 1 is not flattered. Prints sequences/s and albert_tf / keras-hub.

    .venv/bin/python bench/bench_pretraining.py [--quick]
"""

import argparse
import json
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.shapes import config_of, keras_hub_backbone  # noqa: E402


def _data(batch, seq, pred, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    ids = rng.integers(5, config_of("tiny").vocab_size, (batch, seq)).astype("int32")
    ids[:, 0] = 2
    mask = np.ones_like(ids)
    types = (np.arange(seq) >= seq // 2).astype("int32")[None].repeat(batch, 0)
    positions = np.sort(rng.choice(np.arange(1, seq), (batch, pred)), axis=1).astype("int32")
    labels = rng.integers(5, config_of("tiny").vocab_size, (batch, pred)).astype("int32")
    weights = np.ones((batch, pred), "float32")
    sop = rng.integers(0, 2, (batch,)).astype("int32")
    return ids, mask, types, positions, labels, weights, sop


def _optimizer():
    from training.optimization import create_optimizer

    return create_optimizer("lamb", 1e-4, num_train_steps=10_000)


def _albert_tf(shape, data):
    import tensorflow as tf

    from albert_tf import AlbertBackbone, AlbertPretrainer
    from training.pretrain import compile_pretrainer

    ids, mask, types, positions, labels, weights, sop = data
    model = AlbertPretrainer(AlbertBackbone(config_of(shape)))
    compile_pretrainer(model, _optimizer(), jit_compile=True)
    x = {"input_word_ids": ids, "input_mask": mask, "input_type_ids": types,
         "masked_lm_positions": positions}
    y = {"mlm_logits": labels, "sop_logits": sop}
    w = {"mlm_logits": weights, "sop_logits": tf.ones_like(sop, tf.float32)}
    return model, tf.data.Dataset.from_tensors((x, y, w)).repeat()


def _keras_hub(shape, data):
    import keras
    import keras_hub
    import tensorflow as tf

    ids, mask, types, positions, labels, weights, _ = data
    backbone = keras_hub_backbone(config_of(shape))
    model = keras_hub.models.AlbertMaskedLM(backbone=backbone, preprocessor=None)
    model.compile(
        optimizer=_optimizer(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy()],
        jit_compile=True,
    )
    x = {"token_ids": ids, "padding_mask": mask.astype(bool), "segment_ids": types,
         "mask_positions": positions}
    return model, tf.data.Dataset.from_tensors((x, labels, weights)).repeat()


def _timed(model, ds, batch, steps):
    start = time.perf_counter()
    model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
    return batch * steps / (time.perf_counter() - start)


def run(quick=False):
    """Measures both train steps; returns the bench/run.py report dict."""
    cases = [("tiny", 32, 128, 20)] if quick else [("tiny", 32, 128, 20), ("base", 8, 128, 20)]
    warmup, steps, rounds = (3, 10, 2) if quick else (5, 20, 3)
    rows, ratios = [], {}
    for shape, batch, seq, pred in cases:
        data = _data(batch, seq, pred)
        built = {"albert_tf": _albert_tf(shape, data), "keras_hub": _keras_hub(shape, data)}
        for model, ds in built.values():
            model.fit(ds, steps_per_epoch=warmup, epochs=1, verbose=0)  # compiles
        # Alternate the two in rounds and keep each one's best round: the
        # machine is shared, and a slow moment should not decide the ratio.
        measured = {name: 0.0 for name in built}
        for _ in range(rounds):
            for name, (model, ds) in built.items():
                measured[name] = max(measured[name], _timed(model, ds, batch, steps))
        ratio = measured["albert_tf"] / measured["keras_hub"]
        ratios[f"{shape}: albert_tf / keras-hub"] = round(ratio, 2)
        rows.append({
            "shape": shape, "batch": batch, "seq_length": seq, "masked_positions": pred,
            "albert_tf seq/s": round(measured["albert_tf"], 1),
            "keras-hub seq/s": round(measured["keras_hub"], 1),
            "ratio": round(ratio, 2),
        })
    return {
        "title": "Pretraining train step (sequences/s, XLA, LAMB)",
        "rows": rows,
        "ratios": ratios,
        "notes": [
            "albert_tf runs MLM + SOP heads and losses; keras-hub AlbertMaskedLM runs MLM only.",
            f"Best of {rounds} alternating rounds of {steps} steps each, after {warmup} "
            "warm-up steps (compilation excluded).",
        ],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny shape, few steps")
    result = run(quick=parser.parse_args().quick)
    for row in result["rows"]:
        print(row)
    print(json.dumps(result["ratios"], indent=2))


if __name__ == "__main__":
    main()
