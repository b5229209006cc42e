"""`albert-tf` command line: thin dispatch to the module that owns each command.

This is the one room that sees albert_tf, training and serving; each
command's module is imported only when that command runs, so the library
never depends on training or serving. A command module defines
`add_arguments(parser)` and `run(args) -> int | None`.
"""

import argparse
import importlib
import sys

COMMANDS = {
    "vocab": ("albert_tf.text.vocab", "train a SentencePiece vocabulary with ALBERT's special pieces"),
    "convert": ("albert_tf.convert.command", "convert Hugging Face / keras-hub / TF1 / TF Hub weights"),
    "export": ("albert_tf.export.command", "export a raw-text SavedModel for TF Serving or a TF Hub module"),
    "create-pretraining-data": ("training.data.creation", "text files -> masked LM + SOP TFRecords"),
    "pretrain": ("training.loops.pretrain", "pretrain with MLM + SOP from an experiment config"),
    "finetune": ("training.loops.finetune", "fine-tune a task model from an experiment config"),
    "evaluate": ("training.loops.evaluate", "evaluate a fine-tuned model and write metrics"),
    "serve": ("serving.server.command", "run the development server speaking TF Serving's APIs"),
    "query": ("serving.client.command", "send texts to a TF Serving (or development) server"),
    "demo": ("pipeline.main_job", "the main job: data -> pretrain -> fine-tune -> export -> serve -> query"),
}


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


if __name__ == "__main__":
    sys.exit(main())
