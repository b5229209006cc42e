"""`albert-tf demo`: shipped data -> pretraining -> fine-tuning -> export -> serving -> answers.

Stages (each shows progress; a finished stage is reused when rerun):

1. data      check the shipped corpora (or the user's `--corpus` files)
2. pretrain  a tiny ALBERT, n-gram MLM + SOP with LAMB (configs/pretrain_tiny.yaml)
3. finetune  sentiment on the movie review snippets, fixed split
             (configs/finetune_movie_reviews.yaml), starting from stage 2
4. export    a raw-text SavedModel in TF Serving's layout (<base>/<version>/)
5. serve     start the development server (TF Serving's gRPC/REST APIs) on loopback,
             send the sentences through the gRPC client, print the predictions,
             stop the server

Everything lands in `--output-dir` (default `out/`): plots, metrics and a
`summary.json` / `SUMMARY.md`. Ctrl-C stops the server and leaves no process.
"""

import json
import pathlib
import shutil
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
MODEL_NAME = "sentiment"
LABELS = ["negative", "positive"]
QUICK_PRETRAIN_STEPS = 20
QUICK_FINETUNE_EXAMPLES = {"train": 256, "dev": 64, "test": 64}
DEFAULT_TEXTS = [
    "a gorgeous, witty, seductive movie.",
    "the plot is a tired retread and the acting is wooden.",
]


def add_arguments(parser):
    parser.add_argument("--output-dir", default="out", help="where every stage writes (default %(default)s)")
    parser.add_argument("--text", action="append", default=None,
                        help="a sentence to classify through the served model (repeatable)")
    parser.add_argument("--corpus", nargs="+", default=None,
                        help="your own text files for pretraining (one sentence or paragraph a line, "
                             "blank line between documents; .gz allowed)")
    parser.add_argument("--pretrain-steps", type=int, default=None, help="override the pretraining steps")
    parser.add_argument("--finetune-epochs", type=int, default=None, help="override the fine-tuning epochs")
    parser.add_argument("--fresh", action="store_true", help="rerun every stage instead of reusing finished ones")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run in about two minutes: Moby Dick only, a few pretraining steps, "
                             "fine-tuning on a small subset (numbers mean nothing)")
    return parser


def _banner(index, name, detail):
    print(f"\n=== [{index}/5] {name}: {detail}", flush=True)


def stage_data(args):
    from albert_tf import resources

    if args.corpus:
        files = [str(pathlib.Path(p).resolve()) for p in args.corpus]
        missing = [p for p in files if not pathlib.Path(p).is_file()]
        if missing:
            raise SystemExit(f"--corpus: no such file(s): {missing}")
    else:
        resources.verify()
        files = None  # the config's shipped corpus
    return {"corpus": files or "shipped (albert_tf/resources)"}, files


def _up_to_date(output, source):
    """Whether `output` exists and was written after `source` (a stage's input)."""
    return output.exists() and output.stat().st_mtime >= source.stat().st_mtime


def _same_config(saved, config):
    """Whether the config file `saved` holds `config` (one this version cannot read does not)."""
    try:
        return type(config).load(saved) == config
    except (OSError, ValueError):
        return False


def stage_pretrain(args, out, corpus_files):
    from training.config import PretrainingConfig
    from training.loops.pretrain import run_pretraining

    overrides = {"output_dir": str(out / "pretrain")}
    if corpus_files:
        overrides["data.text_files"] = corpus_files
    if args.quick:
        if not corpus_files:
            overrides["data.text_files"] = ["resource:moby_dick.txt.gz"]
            overrides["data.holdout_every"] = 0  # Moby Dick is one document: evaluate on training data
        overrides.update({"train.steps": QUICK_PRETRAIN_STEPS, "train.log_every": 10, "train.checkpoint_every": 10,
                          "train.eval_steps": 5, "schedule.warmup_steps": 2})
    if args.pretrain_steps:
        overrides["train.steps"] = args.pretrain_steps
    config = PretrainingConfig.load(CONFIGS / "pretrain_tiny.yaml", overrides=overrides)
    stage_dir = out / "pretrain"
    # A finished or interrupted run is reused (or resumed) only if it was
    # started with the same config: a new corpus or recipe starts over.
    saved = stage_dir / "config.yaml"
    same = _same_config(saved, config)
    if stage_dir.exists() and (args.fresh or not same):
        if not args.fresh:
            print(f"{saved} differs from this run's config (corpus or recipe): pretraining again")
        shutil.rmtree(stage_dir)
    done = stage_dir / "final_metrics.json"
    if done.exists():
        print(f"reusing {done}")
        return json.loads(done.read_text())
    return run_pretraining(config)


def stage_finetune(args, out, pretrained_dir):
    from training.config import FinetuningConfig
    from training.loops.finetune import run_finetuning

    overrides = {"model.pretrained": str(pretrained_dir), "output_dir": str(out / "finetune"), "overwrite": True}
    if args.quick:
        overrides.update({"data.max_examples": QUICK_FINETUNE_EXAMPLES, "train.epochs": 1})
    if args.finetune_epochs:
        overrides["train.epochs"] = args.finetune_epochs
    config = FinetuningConfig.load(CONFIGS / "finetune_movie_reviews.yaml", overrides=overrides)
    done = out / "finetune" / "metrics.json"
    if not args.fresh and _up_to_date(done, pretrained_dir):
        print(f"reusing {done}")
        return dict(json.loads(done.read_text()), output_dir=str(out / "finetune"))
    return run_finetuning(config)


def stage_export(args, out, model_dir):
    import albert_tf
    from albert_tf.export import export_saved_model
    from albert_tf.text import AlbertTokenizer

    base = out / "export" / MODEL_NAME
    existing = sorted(base.glob("[0-9]*")) if base.exists() else []
    if existing and not args.fresh and _up_to_date(existing[-1], model_dir):
        print(f"reusing {existing[-1]}")
        return existing[-1]
    model = albert_tf.load(model_dir)
    tokenizer = AlbertTokenizer(model_dir / "spiece.model")
    return export_saved_model(model, tokenizer, base, labels=LABELS, seq_length=128, model_name=MODEL_NAME)


def _start_server(base_dir):
    from serving.server.command import free_port

    command = [
        sys.executable, "-m", "serving.server", f"--model_name={MODEL_NAME}",
        f"--model_base_path={base_dir.resolve()}", f"--port={free_port()}",
        "--file_system_poll_wait_seconds=0",
    ]
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)


def _grpc_port(server):
    """Waits for the server's `READY grpc=PORT rest=PORT` line."""
    line = server.stdout.readline()
    if not line.startswith("READY"):
        raise RuntimeError(f"the development server did not start (printed {line!r}); see its log above")
    return int(dict(item.split("=") for item in line.split()[1:])["grpc"])


def _stop_server(server):
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def stage_serve(texts, base_dir):
    from serving.client import AlbertClient

    server = _start_server(base_dir)
    try:
        grpc_port = _grpc_port(server)
        with AlbertClient(f"127.0.0.1:{grpc_port}", MODEL_NAME, timeout=60) as client:
            client.wait_until_available(timeout=120)
            start = time.perf_counter()
            result = client.predict(texts)
            latency = time.perf_counter() - start
        answers = []
        for text, prediction in zip(texts, result.predictions):
            answers.append({"text": text, "label": prediction.label,
                            "probabilities": [round(float(p), 4) for p in prediction.probabilities]})
            print(f"  {prediction.label:>8}  {max(prediction.probabilities):.3f}  {text}")
        return {"grpc_port": grpc_port, "latency_s": round(latency, 4), "answers": answers}
    finally:
        _stop_server(server)


def _write_summary(out, summary):
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    lines = ["# albert-tf main job", ""]
    for stage, info in summary["stages"].items():
        lines.append(f"## {stage} ({info['seconds']:.0f} s)")
        lines.append("```json")
        lines.append(json.dumps(info["result"], indent=2, default=str))
        lines.append("```")
    (out / "SUMMARY.md").write_text("\n".join(lines) + "\n")


def run(args):
    out = pathlib.Path(args.output_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    texts = args.text or DEFAULT_TEXTS
    summary = {"stages": {}}

    def timed(index, name, detail, fn):
        _banner(index, name, detail)
        start = time.perf_counter()
        result = fn()
        summary["stages"][name] = {"seconds": time.perf_counter() - start, "result": result}
        return result

    info, corpus_files = stage_data(args)
    summary["stages"]["data"] = {"seconds": 0.0, "result": info}
    _banner(1, "data", str(info["corpus"]))
    pretrained = timed(2, "pretrain", "tiny ALBERT, n-gram MLM + SOP, LAMB",
                       lambda: stage_pretrain(args, out, corpus_files))
    finetuned = timed(3, "finetune", "movie review snippets, fixed split",
                      lambda: stage_finetune(args, out, pathlib.Path(pretrained["model"])))
    version_dir = timed(4, "export", "raw-text SavedModel for TF Serving",
                        lambda: stage_export(args, out, pathlib.Path(finetuned["output_dir"]) / "model"))
    served = timed(5, "serve", "development server + gRPC client",
                   lambda: stage_serve(texts, pathlib.Path(version_dir).parent))
    _write_summary(out, summary)

    test = finetuned["metrics"].get("test", {})
    print("\n=== done")
    print(f"pretraining: MLM accuracy {pretrained.get('eval_mlm_accuracy', float('nan')):.3f} "
          f"(unigram baseline {pretrained.get('mlm_unigram_baseline', float('nan')):.3f}), "
          f"SOP accuracy {pretrained.get('eval_sop_accuracy', float('nan')):.3f} "
          f"on {pretrained.get('eval_sequences', 0)} held-out pairs (chance 0.5)")
    print(f"fine-tuning: test accuracy {test.get('accuracy', float('nan')):.3f}")
    print(f"served answer latency: {served['latency_s'] * 1000:.0f} ms for {len(texts)} texts")
    print(f"summary: {out / 'SUMMARY.md'}")
    return 0
