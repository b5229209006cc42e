"""Fine-tuning benchmark on the movie review snippets (fixed split), side by side.

Three systems, same data (`training.readers.movie_reviews`: the fixed
80/10/10 split by text hash), same test set:

1. albert_tf: `training.loops.finetune.run_finetuning` (AlbertClassifier, AdamW
   with warmup + linear decay, best dev epoch), from `pretrained_dir` or a
   random `albert_tiny` (default: the main job's `out/pretrain/model` when it exists).
2. keras-hub: `keras_hub.models.AlbertTextClassifier` on a random
   `keras_hub.models.AlbertBackbone` of the same shape, fed the same
   token ids (albert_tf's tokenizer: keras-hub's does not lowercase), the
   same optimizer, schedule, batch size and number of epochs.
3. transformers: PyTorch `AlbertForSequenceClassification` of the same
   shape from random weights, fed the same token-id batches, AdamW with the
   same warmup + linear decay, epochs and best-dev-epoch selection.
4. TF-IDF (word 1-2 grams) + logistic regression (scikit-learn).

Prints accuracies, training wall times and their ratio. Run:

    .venv/bin/python bench/bench_finetuning.py [--quick] [--pretrained DIR]
"""

import argparse
import json
import math
import os
import pathlib
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

from training.data import readers  # noqa: E402
from bench.shapes import keras_hub_backbone, transformers_config  # noqa: E402
from training.data.sources import subset  # noqa: E402

# The README main job's pretrained tiny model, used when present.
DEFAULT_PRETRAINED = pathlib.Path(__file__).resolve().parents[1] / "out" / "pretrain" / "model"


def _settings(quick):
    if quick:
        return {"train": 512, "dev": 128, "test": 256, "epochs": 1, "seq_length": 32, "batch_size": 32}
    return {"train": None, "dev": None, "test": None, "epochs": 3, "seq_length": 64, "batch_size": 32}


def tfidf_baseline(train, test):
    """TF-IDF word 1-2 grams + logistic regression; test accuracy."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    features = vectorizer.fit_transform(train.texts_a)
    classifier = LogisticRegression(C=4.0, max_iter=2000).fit(features, train.labels)
    predictions = classifier.predict(vectorizer.transform(test.texts_a))
    return float(np.mean(predictions == np.asarray(test.labels)))


def albert_tf_run(settings, learning_rate, pretrained_dir, workdir):
    from training.loops import finetune

    data = {"name": "movie_reviews", "seq_length": settings["seq_length"],
            "max_examples": {k: settings[k] for k in ("train", "dev", "test") if settings[k]}}
    config = {
        "task": "classification",
        "data": data,
        "model": {"preset": "albert_tiny", "pretrained": pretrained_dir, "dropout": 0.1},
        "optimizer": {"learning_rate": learning_rate},
        "train": {"batch_size": settings["batch_size"], "eval_batch_size": 128,
                  "epochs": settings["epochs"], "early_stopping_patience": 0, "verbose": 0},
        "output_dir": os.path.join(workdir, "albert_tf"),
    }
    start = time.perf_counter()
    out = finetune.run_finetuning(config)
    return {"accuracy": out["metrics"]["test"]["accuracy"], "seconds": time.perf_counter() - start,
            "best_epoch": out["best_epoch"]}


def _shape_of(pretrained_dir):
    """The AlbertConfig albert_tf fine-tunes: the pretrained model's, else albert_tiny."""
    import albert_tf
    from training.config import FinetuningModelConfig
    from training.loops.finetune import build_backbone

    if pretrained_dir is None:
        return albert_tf.AlbertConfig.from_preset("albert_tiny")
    return build_backbone(FinetuningModelConfig(pretrained=pretrained_dir)).config


def keras_hub_run(settings, learning_rate, train, dev, test, config):
    import keras
    import keras_hub

    from albert_tf.saving import load_tokenizer
    from training.tasks import get_task
    from training import optimization

    keras.utils.set_random_seed(0)
    backbone = keras_hub_backbone(config)
    model = keras_hub.models.AlbertTextClassifier(backbone, num_classes=2, preprocessor=None, dropout=0.1)
    task = get_task("classification", load_tokenizer(), settings["seq_length"])
    rename = {"input_word_ids": "token_ids", "input_type_ids": "segment_ids", "input_mask": "padding_mask"}

    def hub_inputs(ds, labels=True):
        def convert(x, y=None):
            x = {rename[k]: v for k, v in x.items()}
            return (x, y) if labels else x

        return ds.map(convert)

    steps = math.ceil(len(train) / settings["batch_size"])
    total = steps * settings["epochs"]
    optimizer = optimization.create_optimizer(
        "adamw", learning_rate, num_train_steps=total, num_warmup_steps=int(0.1 * total), weight_decay=0.01,
    )
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def accuracy(data):
        logits = model.predict(hub_inputs(task.dataset(data, 128, labels=False), labels=False), verbose=0)
        return float(np.mean(np.asarray(logits).argmax(-1) == np.asarray(data.labels)))

    start = time.perf_counter()
    best, best_weights = -1.0, None
    for _ in range(settings["epochs"]):
        model.fit(hub_inputs(task.dataset(train, settings["batch_size"], training=True)), epochs=1, verbose=0)
        score = accuracy(dev)
        if score > best:
            best, best_weights = score, model.get_weights()
    model.set_weights(best_weights)
    return {"accuracy": accuracy(test), "seconds": time.perf_counter() - start}


def transformers_run(settings, learning_rate, train, dev, test, config):
    import torch
    import transformers

    from albert_tf.saving import load_tokenizer
    from training.tasks import get_task

    torch.manual_seed(0)
    model = transformers.AlbertForSequenceClassification(
        transformers_config(config, num_labels=2, classifier_dropout_prob=0.1))
    task = get_task("classification", load_tokenizer(), settings["seq_length"])

    def batches(data, batch_size, training=False):
        for x, y in task.dataset(data, batch_size, training=training):
            yield ({"input_ids": torch.from_numpy(x["input_word_ids"].numpy().astype("int64")),
                    "attention_mask": torch.from_numpy(x["input_mask"].numpy().astype("int64")),
                    "token_type_ids": torch.from_numpy(x["input_type_ids"].numpy().astype("int64"))},
                   torch.from_numpy(y.numpy().astype("int64")))

    steps = math.ceil(len(train) / settings["batch_size"])
    total = steps * settings["epochs"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    schedule = transformers.get_linear_schedule_with_warmup(optimizer, int(0.1 * total), total)

    def accuracy(data):
        model.eval()
        correct = 0
        with torch.no_grad():
            for x, y in batches(data, 128):
                correct += int((model(**x).logits.argmax(-1) == y).sum())
        return correct / len(data)

    start = time.perf_counter()
    best, best_state = -1.0, None
    for _ in range(settings["epochs"]):
        model.train()
        for x, y in batches(train, settings["batch_size"], training=True):
            loss = model(**x, labels=y).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        score = accuracy(dev)
        if score > best:
            best, best_state = score, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return {"accuracy": accuracy(test), "seconds": time.perf_counter() - start}


def run(quick=False, pretrained_dir=None, learning_rate=None):
    """Runs the three systems; returns their accuracies and times.

    Args:
        quick: a few hundred examples, one epoch, seq 32 (a smoke run).
        pretrained_dir: albert_tf model directory to start albert_tf from
            (keras-hub then stays random: there is no shared checkpoint).
        learning_rate: default 1e-3, the main job's rate for the tiny model.

    Returns:
        {"albert_tf": {...}, "keras_hub": {...}, "transformers": {...},
         "tfidf_logreg": {...}, "settings": {...}} plus the report's title, rows, ratios, notes.
    """
    settings = _settings(quick)
    if pretrained_dir is None and DEFAULT_PRETRAINED.is_dir():
        pretrained_dir = str(DEFAULT_PRETRAINED)
    learning_rate = learning_rate or 1e-3
    # The same seeded subsets that run_finetuning's `max_examples` draws.
    train, dev, test = (
        subset(readers.movie_reviews(split), settings[split]) for split in ("train", "dev", "test")
    )
    result = {"settings": dict(settings, learning_rate=learning_rate, pretrained_dir=pretrained_dir,
                               sizes={"train": len(train), "dev": len(dev), "test": len(test)})}
    start = time.perf_counter()
    result["tfidf_logreg"] = {"accuracy": tfidf_baseline(train, test), "seconds": time.perf_counter() - start}
    with tempfile.TemporaryDirectory() as workdir:
        result["albert_tf"] = albert_tf_run(settings, learning_rate, pretrained_dir, workdir)
    shape = _shape_of(pretrained_dir)
    result["keras_hub"] = keras_hub_run(settings, learning_rate, train, dev, test, shape)
    result["transformers"] = transformers_run(settings, learning_rate, train, dev, test, shape)
    ours = result["albert_tf"]
    start_from = f"pretrained ({pretrained_dir})" if pretrained_dir else "random"
    result.update(
        title=f"Fine-tuning on the movie review snippets (fixed split, test n={len(test)})",
        rows=[
            {"system": "albert_tf", "start": start_from, "accuracy": result["albert_tf"]["accuracy"],
             "seconds": result["albert_tf"]["seconds"]},
            {"system": "keras-hub AlbertTextClassifier (same shape)", "start": "random",
             "accuracy": result["keras_hub"]["accuracy"], "seconds": result["keras_hub"]["seconds"]},
            {"system": "transformers AlbertForSequenceClassification (same shape)", "start": "random",
             "accuracy": result["transformers"]["accuracy"], "seconds": result["transformers"]["seconds"]},
            {"system": "TF-IDF + logistic regression", "start": "-",
             "accuracy": result["tfidf_logreg"]["accuracy"], "seconds": result["tfidf_logreg"]["seconds"]},
        ],
        ratios={
            "accuracy, albert_tf / keras-hub": ours["accuracy"] / result["keras_hub"]["accuracy"],
            "accuracy, albert_tf / transformers": ours["accuracy"] / result["transformers"]["accuracy"],
            "accuracy, albert_tf / TF-IDF + LR": ours["accuracy"] / result["tfidf_logreg"]["accuracy"],
            "speed (1 / seconds), albert_tf / keras-hub": result["keras_hub"]["seconds"] / ours["seconds"],
            "speed (1 / seconds), albert_tf / transformers": result["transformers"]["seconds"] / ours["seconds"],
        },
        notes=["Same token ids, batch size, epochs, learning rate schedule and best-dev-epoch rule for "
               "the three networks. albert_tf's time includes writing the best checkpoint, plots and a "
               "final test pass; keras-hub and transformers have no pretrained weights of this tiny "
               "shape, so they start from random weights."],
    )
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pretrained", help="albert_tf model directory to fine-tune from")
    parser.add_argument("--learning-rate", type=float)
    args = parser.parse_args()
    result = run(args.quick, args.pretrained, args.learning_rate)
    print(f"movie review snippets, fixed split, test n={result['settings']['sizes']['test']}")
    for name in ("albert_tf", "keras_hub", "transformers", "tfidf_logreg"):
        print(f"  {name:14s} accuracy {result[name]['accuracy']:.4f}   train+eval {result[name]['seconds']:.1f}s")
    print(json.dumps(result["ratios"], indent=2))


if __name__ == "__main__":
    main()
