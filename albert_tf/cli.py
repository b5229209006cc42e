"""`albert-tf` command line: thin dispatch to the module that owns each command.

This is the one room that sees albert_tf, training and serving; each
command's module is imported only when that command runs, so the library
never depends on training or serving. A command module defines
`add_arguments(parser)` and `run(args) -> int | None`.
"""

import argparse
import atexit
import ctypes.util
import importlib
import os
import re
import sys
import threading

COMMANDS = {
    "vocab": ("albert_tf.text.vocab", "train a SentencePiece vocabulary with ALBERT's special pieces"),
    "convert": ("albert_tf.convert.command", "convert Hugging Face / keras-hub / TF1 / TF Hub weights"),
    "download": ("albert_tf.download_command", "download a checkpoint into the cache; print its local path and format"),
    "export": ("albert_tf.export.command", "export a raw-text SavedModel for TF Serving or a TF Hub module"),
    "create-pretraining-data": ("training.data.creation", "text files -> masked LM + SOP TFRecords"),
    "pretrain": ("training.loops.pretrain", "pretrain with MLM + SOP from an experiment config"),
    "finetune": ("training.loops.finetune", "fine-tune a task model from an experiment config"),
    "evaluate": ("training.loops.evaluate", "evaluate a fine-tuned model and write metrics"),
    "serve": ("serving.server.command", "run the development server speaking TF Serving's APIs"),
    "predict": ("albert_tf.export.predict", "predict a TSV/CSV/JSONL file of texts with an exported SavedModel"),
    "query": ("serving.client.command", "send texts to a TF Serving (or development) server"),
    "demo": ("pipeline.main_job", "the main job: data -> pretrain -> fine-tune -> export -> serve -> query"),
}


# TensorFlow 2.21 logs through absl before absl is initialised, so its
# start-up lines (oneDNN notes, CUDA probes on CPU-only machines, CPU-feature
# hints) reach stderr whatever TF_CPP_MIN_LOG_LEVEL says; they are filtered
# at the file descriptor, where C++ writes them.
_TF_LOG_LINE = re.compile(
    rb"(WARNING: All log messages before absl::InitializeLog\(\)"
    rb"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w./-]+:\d+\]"
    rb"|To enable the following instructions: .* rebuild TensorFlow)"
)


def quiet_tensorflow():
    """Drops TensorFlow's C++ log lines from this process's stderr.

    A command's user reads its progress and results; TensorFlow's start-up
    logs tell them nothing. Everything else written to stderr (Python
    errors, warnings, progress bars) passes through unchanged and in order.
    A user who sets `TF_CPP_MIN_LOG_LEVEL` keeps every line. Call it once,
    at an entry point, before TensorFlow is imported.
    """
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    stderr = os.dup(2)
    os.dup2(write_end, 2)
    os.close(write_end)

    def forward():
        pending = b""
        while chunk := os.read(read_end, 65536):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            kept = [line + b"\n" for line in lines if not _TF_LOG_LINE.match(line)]
            # A partial line that cannot start a log line (a progress bar) is shown now.
            if pending and pending[:1] not in b"IWFT":
                kept.append(pending)
                pending = b""
            if kept:
                os.write(stderr, b"".join(kept))
        if pending and not _TF_LOG_LINE.match(pending):
            os.write(stderr, pending)

    thread = threading.Thread(target=forward, name="stderr-filter", daemon=True)
    thread.start()

    def restore():
        sys.stderr.flush()
        os.dup2(stderr, 2)  # closes this process's last write end of the pipe
        thread.join(timeout=2)  # a child process may still hold one

    atexit.register(restore)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="albert-tf", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Only the chosen command's module is imported (TensorFlow is slow to import).
    chosen = next((a for a in argv if not a.startswith("-")), None)
    modules = {}
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            modules[name] = importlib.import_module(module_name)
            modules[name].add_arguments(command_parser)
    args = parser.parse_args(argv)
    try:
        return modules[args.command].run(args) or 0
    except KeyboardInterrupt:
        # Commands clean up in their own `finally` blocks; no traceback for Ctrl-C.
        print(f"\nalbert-tf {args.command}: interrupted", file=sys.stderr)
        return 130


def use_tcmalloc():
    """Restarts this process with tcmalloc preloaded, where the system has it.

    glibc's malloc returns TensorFlow's short-lived step buffers to the
    kernel and takes them back, page fault by page fault; on some machines
    that is a third of a training step (issue #18: a tiny pretraining step
    went from 432 to 257 ms with tcmalloc, page faults from 20.5 M to 0.5 M;
    on an AVX-512 machine 141 -> 122 ms, 1.56 M -> 0.40 M). Debian and Ubuntu
    ship it as `libtcmalloc-minimal4`. Does nothing when `LD_PRELOAD` is
    already set (set it empty to keep glibc's malloc), off Linux, or when
    the library is absent. The process keeps its PID and arguments.
    """
    if sys.platform != "linux" or "LD_PRELOAD" in os.environ:
        return
    library = ctypes.util.find_library("tcmalloc_minimal")
    if library is None:
        return
    os.environ["LD_PRELOAD"] = library
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def run_command():
    """The `albert-tf` console script: `main` on `sys.argv`, with tcmalloc
    where the system has it and TensorFlow's C++ logs filtered.

    Bad input (a missing file, a wrong value) ends with its message on one
    line and exit status 2, as argparse reports a bad flag, not a traceback.
    """
    use_tcmalloc()
    quiet_tensorflow()
    try:
        code = main()
    except (OSError, ValueError) as e:
        print(f"albert-tf: error: {type(e).__name__}: {e}", file=sys.stderr)
        code = 2
    sys.exit(code)


if __name__ == "__main__":
    run_command()
