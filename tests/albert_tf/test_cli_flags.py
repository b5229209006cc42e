"""One spelling per concept across every `albert-tf` command: each old
spelling parses to what its new spelling gives, says so on stderr, and is
hidden from `--help`."""

import argparse
import importlib

import pytest

from albert_tf import cli

OLD_SPELLINGS = ("--out", "--output", "--output-prefix", "--model", "--cased", "--spiece", "--spm-model",
                 "--max-seq-length")


def _parser(command):
    parser = argparse.ArgumentParser(prog=f"albert-tf {command}")
    importlib.import_module(cli.COMMANDS[command][0]).add_arguments(parser)
    return parser


# (command, arguments with old spellings, the same with new spellings, old flags used)
CASES = [
    ("vocab", ["c.txt", "--cased", "--output-prefix", "v/x"], ["c.txt", "--no-lower-case", "--output-prefix", "v/x"],
     ["--cased", "--output-prefix"]),
    ("convert", ["--from", "huggingface", "src", "--out", "d"], ["--from", "huggingface", "src", "--output-dir", "d"],
     ["--out"]),
    ("export", ["--model", "m", "--out", "d", "--spiece", "s.model"],
     ["--model-dir", "m", "--output-dir", "d", "--spiece-model", "s.model"], ["--model", "--out", "--spiece"]),
    ("evaluate", ["--model", "m", "--data", "vitaminc"], ["--model-dir", "m", "--data", "vitaminc"], ["--model"]),
    ("create-pretraining-data", ["--input", "t.txt", "--output-dir", "d", "--spm-model", "s", "--max-seq-length", "64"],
     ["--input", "t.txt", "--output-dir", "d", "--spiece-model", "s", "--seq-length", "64"],
     ["--spm-model", "--max-seq-length"]),
    ("query", ["--model", "sentiment", "hello"], ["--model-name", "sentiment", "hello"], ["--model"]),
]


@pytest.mark.parametrize("command, old, new, flags", CASES, ids=[case[0] for case in CASES])
def test_old_spellings_parse_like_the_new_ones_and_say_so(command, old, new, flags, capsys):
    parser = _parser(command)
    assert parser.parse_args(new) == parser.parse_args(old)
    messages = capsys.readouterr().err
    for flag in flags:
        assert f"{flag} is deprecated; use --" in messages


def test_vocab_output_dir_or_old_output_prefix():
    parser = _parser("vocab")
    new = parser.parse_args(["c.txt", "--output-dir", "vocab"])
    assert (new.output_dir, new.output_prefix, new.do_lower_case) == ("vocab", None, True)
    old = parser.parse_args(["c.txt", "--cased", "--output-prefix", "v/x"])
    assert (old.output_dir, old.output_prefix, old.do_lower_case) == (None, "v/x", False)
    with pytest.raises(SystemExit):
        parser.parse_args(["c.txt", "--output-dir", "vocab", "--output-prefix", "v/x"])


@pytest.mark.parametrize("command", sorted(set(cli.COMMANDS) - {"serve"}))
def test_help_shows_only_the_new_spellings(command):
    text = _parser(command).format_help()
    words = set(text.replace("[", " ").replace("]", " ").replace(",", " ").split())
    assert not words & set(OLD_SPELLINGS)


@pytest.mark.parametrize("command", ["pretrain", "finetune"])
def test_config_commands_take_config_and_repeatable_set(command):
    args = _parser(command).parse_args(["--config", "c.yaml", "--set", "train.verbose=0", "--set", "output_dir=x"])
    assert args.config == "c.yaml" and args.set == ["train.verbose=0", "output_dir=x"]


def test_convert_task_takes_new_and_old_task_names(capsys):
    parser = _parser("convert")
    base = ["--from", "huggingface", "src", "--output-dir", "d"]
    assert parser.parse_args(base).task == "auto"
    assert parser.parse_args(base + ["--task", "span_qa"]).task == "span_qa"
    with pytest.warns(FutureWarning, match="'classifier' is deprecated; use 'classification'"):
        assert parser.parse_args(base + ["--task", "classifier"]).task == "classification"
    with pytest.raises(SystemExit):
        parser.parse_args(base + ["--task", "ner"])
    assert "invalid choice: 'ner' (choose from 'auto', 'backbone'" in capsys.readouterr().err
