"""The flag spellings every `albert-tf` command shares, and their old names.

One spelling per concept, in every command:

    --output-dir DIR                every output directory
    --model-dir DIR                 a model directory (`albert_tf.saving`)
    --model-name NAME               a served model's name
    --lower-case / --no-lower-case  casing of the text before SentencePiece
    --spiece-model FILE             a SentencePiece model
    --seq-length T                  the packed sequence length
    --config FILE, --set KEY=VALUE  an experiment config and its overrides

An old spelling (`--out`, `--model` for a directory, `--spiece`, `--cased`,
...) keeps working: `add_flag` and `add_old_flag` register it hidden from
`--help`, and using it prints a line on stderr naming the new spelling.
(The serving client, which must not import albert_tf, has its own copy of
that one action.) The TF Serving flags of `albert-tf serve` keep TF
Serving's own spellings.

Example:
>>> parser = argparse.ArgumentParser(prog="albert-tf export")
>>> action = add_flag(parser, "--output-dir", "--out", required=True)
>>> parser.parse_args(["--out", "models/sentiment"]).output_dir
'models/sentiment'
>>> parser.format_usage().strip()
'usage: albert-tf export [-h] --output-dir OUTPUT_DIR'
"""

import argparse
import sys


class _OldFlag(argparse.Action):
    """An old spelling: stores like the new flag and says which one to use."""

    def __init__(self, option_strings, dest, new, nargs=None, const=None, **kwargs):
        super().__init__(option_strings, dest, nargs=nargs, const=const, **kwargs)
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog}: warning: {option_string} is deprecated; use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, self.const if self.nargs == 0 else values)


def add_old_flag(parser, old, new, **kwargs):
    """Adds the hidden, deprecated option `old`; using it prints "use `new`".

    Args:
        parser: an `argparse.ArgumentParser` (or an argument group).
        old: the old option string, e.g. "--cased".
        new: what to use instead, as shown to the user (e.g. "--no-lower-case").
        **kwargs: `add_argument` keywords: `dest`, and `nargs=0` with a
            `const` for a switch, or `type` / `metavar` for a value.

    Returns:
        The `argparse.Action` of `old`.

    Example:
    >>> parser = argparse.ArgumentParser(prog="albert-tf vocab")
    >>> action = add_lower_case(parser, default=True)
    >>> parser.parse_args(["--cased"]).do_lower_case
    False
    """
    kwargs.setdefault("default", argparse.SUPPRESS)
    return parser.add_argument(old, action=_OldFlag, new=new, help=argparse.SUPPRESS, **kwargs)


def add_flag(parser, name, *old_names, required=False, **kwargs):
    """Adds option `name` and its deprecated spellings `old_names` (same destination).

    A required flag with old spellings becomes a required mutually
    exclusive group, so giving either spelling satisfies it and giving both
    is an error.

    Args:
        parser: an `argparse.ArgumentParser`.
        name: the option string, e.g. "--output-dir".
        *old_names: earlier spellings of the same option, e.g. "--out".
        required: whether one of the spellings must be given.
        **kwargs: `add_argument` keywords of the option (`type`, `help`, ...).

    Returns:
        The `argparse.Action` of `name`.

    Example:
    >>> parser = argparse.ArgumentParser(prog="albert-tf evaluate")
    >>> action = add_flag(parser, "--model-dir", "--model", required=True)
    >>> parser.parse_args(["--model-dir", "runs/movies/model"]).model_dir
    'runs/movies/model'
    """
    target = parser.add_mutually_exclusive_group(required=True) if required and old_names else parser
    if required and not old_names:
        kwargs["required"] = True
    action = target.add_argument(name, **kwargs)
    for old in old_names:
        add_old_flag(target, old, name, dest=action.dest, nargs=action.nargs, const=action.const,
                     type=action.type, choices=action.choices, metavar=action.metavar)
    return action


def canonical_choice(canonical):
    """An argparse `type` that maps old spellings of a choice to the current ones.

    Args:
        canonical: a function that returns the current spelling of a name
            (warning for an old one) and raises ValueError for an unknown one.

    Returns:
        A function for `add_argument(type=...)`; an unknown name comes back
        unchanged, so the argument's `choices` reject it and list the choices.

    Example:
    >>> def fruit(name):
    ...     return {"apple": "apple", "pomme": "apple"}[name]
    >>> parser = argparse.ArgumentParser(prog="albert-tf")
    >>> _ = parser.add_argument("--fruit", type=canonical_choice(fruit), choices=["apple"])
    >>> parser.parse_args(["--fruit", "pomme"]).fruit
    'apple'
    """
    def choice(name):
        try:
            return canonical(name)
        except (KeyError, ValueError):
            return name

    return choice


def add_lower_case(parser, default=None, help=None):
    """Adds `--lower-case / --no-lower-case` (dest `do_lower_case`) and the old `--cased`.

    Args:
        parser: an `argparse.ArgumentParser`.
        default: the value when neither is given; None means "what the
            model directory records" for commands that read one.
        help: the help text.

    Returns:
        The `argparse.Action` of `--lower-case`.

    Example:
    >>> parser = argparse.ArgumentParser(prog="albert-tf export")
    >>> action = add_lower_case(parser)
    >>> [parser.parse_args(flags).do_lower_case for flags in ([], ["--lower-case"], ["--no-lower-case"])]
    [None, True, False]
    """
    action = parser.add_argument(
        "--lower-case", dest="do_lower_case", action=argparse.BooleanOptionalAction, default=default,
        help=help or "lowercase (and strip accents from) the text before SentencePiece",
    )
    add_old_flag(parser, "--cased", "--no-lower-case", dest="do_lower_case", nargs=0, const=False)
    return action


def add_config(parser, help="experiment config (.yaml, .yml or .json)"):
    """Adds `--config FILE` (required) and the repeatable `--set KEY=VALUE` override.

    Example:
    >>> parser = argparse.ArgumentParser(prog="albert-tf pretrain")
    >>> add_config(parser)
    >>> args = parser.parse_args(["--config", "c.yaml", "--set", "train.steps=10", "--set", "data.seq_length=64"])
    >>> args.config, args.set
    ('c.yaml', ['train.steps=10', 'data.seq_length=64'])
    """
    parser.add_argument("--config", required=True, help=help)
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override a config key after the file, e.g. --set optimizer.learning_rate=1e-3 or "
             "--set evaluation.splits=[test] (value read as YAML; repeatable)",
    )
