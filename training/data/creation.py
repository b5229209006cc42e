"""Pretraining data creation: text files -> masked-LM + sentence-order TFRecords.

`albert-tf create-pretraining-data` and `create_pretraining_data(...)` turn
text files (one sentence or paragraph a line, a blank line between
documents, `.gz` allowed) into sharded TFRecords with the original
feature names of google-research/albert:

    input_ids, input_mask, segment_ids   int64 [T]
    masked_lm_positions, masked_lm_ids   int64 [P]
    masked_lm_weights                    float [P]
    next_sentence_labels                 int64 [1]   (1 = segments swapped)

Pipeline per input file: documents -> sentences (`split_sentences`) ->
SentencePiece ids (`albert_tf.text.AlbertTokenizer`) -> A/B segment pairs
from the same document, swapped with probability 0.5 (sentence order
prediction; never a random-document fallback: a chunk holding one
sentence is split at a word boundary inside it, or skipped) -> n-gram
masking (`albert_tf.text.masking`) -> one shard per input file.

Randomness: file i uses `numpy.random.default_rng([seed, i])` only, so the
same seed gives byte-identical shards and `num_workers > 1` (one process
per file) writes exactly what a serial run writes. Shards are written to a
temporary name and renamed when complete.

`training.data.pipelines` reads the shards for `model.fit`.

    albert-tf create-pretraining-data --input corpus.txt --output-dir data/corpus --seq-length 128
"""

import argparse
import glob
import gzip
import json
import multiprocessing
import os
import pathlib
import re

import numpy as np

FEATURE_NAMES = (
    "input_ids", "input_mask", "segment_ids", "masked_lm_positions",
    "masked_lm_ids", "masked_lm_weights", "next_sentence_labels",
)
METADATA_FILE = "metadata.json"
RESOURCE_PREFIX = "resource:"

# ---------------------------------------------------------------------------
# Reading and sentence splitting
# ---------------------------------------------------------------------------


def resolve_path(path):
    """Maps `resource:NAME` to the shipped file `albert_tf.resources.path(NAME)`."""
    path = str(path)
    if path.startswith(RESOURCE_PREFIX):
        from albert_tf import resources

        return str(resources.path(path[len(RESOURCE_PREFIX):]))
    return path


def expand_files(patterns):
    """Expands a list of paths / globs / `resource:` names into sorted file paths."""
    if isinstance(patterns, (str, os.PathLike)):
        patterns = [patterns]
    files = []
    for pattern in patterns:
        pattern = resolve_path(pattern)
        matches = sorted(glob.glob(pattern))
        if not matches:
            raise FileNotFoundError(f"No input file matches {pattern!r}")
        files.extend(matches)
    return files


def read_documents(path):
    """Yields the documents of a text file as lists of non-empty lines.

    A blank line ends a document; `.gz` files are read transparently.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    document = []
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                document.append(line)
            elif document:
                yield document
                document = []
    if document:
        yield document


def check_documents(documents, path):
    """Raises a ValueError naming the problem if `documents` cannot all give SOP pairs.

    Every file needs at least one document, and every document at least two
    words: segment A and segment B take one word each at the very least. A
    CJK character counts as a word (Chinese is written without spaces;
    WordPiece makes each character a word of its own).
    """
    if not documents:
        raise ValueError(f"{path} holds no text: an empty corpus file")
    for index, document in enumerate(documents):
        words = sum(len(_WORD.findall(line)) for line in document)
        if words < 2:
            raise ValueError(
                f"{path}: document {index + 1} ({' '.join(document)[:60]!r}) has {words} word(s), "
                "too short for a sentence-order pair (A and B need one word each); remove it or "
                "join it to a neighbouring document (documents are separated by blank lines)"
            )
    return documents


# Words whose trailing period does not end a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr prof rev hon gen gov col capt lt sgt sen rep messrs "
    "no vs etc co inc ltd corp dept est fig vol jan feb mar apr jun jul aug sep "
    "sept oct nov dec u.s u.k e.g i.e a.m p.m".split()
)
_BOUNDARY = re.compile(r"[.!?][\"'\u2019\u201d)\]]*\s+")
# Chinese sentence ends (full-width "。", "！", "？", plus closing quotes and
# brackets): a boundary whatever follows, as Chinese puts no space after them.
_CJK_BOUNDARY = re.compile("[\u3002\uff01\uff1f]+[\u201d\u2019\u300d\u300f\uff09]*")
# The CJK Unified Ideographs (and extension A) and compatibility ideographs
# most text uses; BERT's full list is albert_tf.text.wordpiece.CJK_RANGES.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")
_SENTENCE_START = re.compile(r"[\"'\u2018\u201c(\[]*[A-Z0-9]")


def split_sentences(paragraph):
    """Splits a paragraph line into sentences with a simple deterministic rule.

    A sentence ends at ".", "!" or "?" (plus closing quotes or brackets)
    followed by whitespace and a capital letter or digit (optionally after
    an opening quote), unless the period ends a known abbreviation
    ("Mr.", "U.S.", "e.g.") or a single-letter initial ("J. Smith").
    A Chinese sentence ends at "。", "！" or "？" (plus closing quotes or
    brackets), whatever follows.

    Example:
    >>> split_sentences("Mr. Smith went to Washington. He spoke! Then? no.")
    ['Mr. Smith went to Washington.', 'He spoke!', 'Then? no.']
    >>> split_sentences("他说：“今天下雨了。”我们没有出门！明天呢？")
    ['他说：“今天下雨了。”', '我们没有出门！', '明天呢？']
    """
    sentences = []
    start = 0
    for match in _CJK_BOUNDARY.finditer(paragraph):
        sentences.extend(_split_latin_sentences(paragraph[start:match.end()]))
        start = match.end()
    sentences.extend(_split_latin_sentences(paragraph[start:]))
    return sentences


def _split_latin_sentences(paragraph):
    """The ".", "!", "?" rule of `split_sentences` on a paragraph piece."""
    sentences = []
    start = 0
    for match in _BOUNDARY.finditer(paragraph):
        end = match.end()
        if not _SENTENCE_START.match(paragraph, end):
            continue
        if paragraph[match.start()] == ".":
            word = paragraph[start:match.start()].rsplit(None, 1)[-1] if paragraph[start:match.start()].strip() else ""
            word = word.lstrip("\"'(\u201c\u2018[").lower()
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        sentence = paragraph[start:end].strip()
        if sentence:
            sentences.append(sentence)
        start = end
    rest = paragraph[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


# ---------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------


class PretrainingVocab:
    """The tokenizer plus what masking needs: special ids and the start-piece table.

    The kind of tokenizer follows the file (`albert_tf.text.tokenizer_from_assets`):
    a SentencePiece model (English ALBERT) or a WordPiece `vocab.txt`
    (Chinese ALBERT, lowercased as every Chinese release is). Whole-word
    masking uses the tokenizer's `word_start_table()`: a word starts at a
    SentencePiece piece with "▁" (the original `_is_start_piece` rule), or
    at every WordPiece token but the "##" continuations, so a CJK
    character is a word of its own and a Latin word keeps its "##" pieces.

    Args:
        spm_model: path (or `resource:` name) of the SentencePiece model
            (`*.model`) or WordPiece vocabulary (`*.txt`); defaults to the
            shipped ALBERT 30k model.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a file that is neither `*.model` nor `*.txt`.

    Example:
    >>> vocab = PretrainingVocab("resource:bert-chinese-vocab.txt")
    >>> ids = vocab.encode(["ALBERT很好用"])[0]
    >>> [str(p.decode()) for p in vocab.tokenizer.id_to_piece(ids).numpy()], vocab.start_pieces[ids].tolist()
    (['al', '##bert', '很', '好', '用'], [True, False, True, True, True])
    """

    def __init__(self, spm_model=None):
        from albert_tf.text import tokenizer_from_assets

        self.spm_model = resolve_path(spm_model or f"{RESOURCE_PREFIX}albert-30k-clean.model")
        self.tokenizer = tokenizer_from_assets(self.spm_model)
        self.vocab_size = self.tokenizer.vocab_size
        self.start_pieces = self.tokenizer.word_start_table()
        self.pad_id = int(self.tokenizer.pad_id)
        self.cls_id = int(self.tokenizer.cls_id)
        self.sep_id = int(self.tokenizer.sep_id)
        self.mask_id = int(self.tokenizer.mask_id)

    @property
    def special_ids(self):
        return (self.pad_id, self.cls_id, self.sep_id, self.mask_id)

    def masking_config(self, max_predictions_per_seq, masked_lm_prob=0.15, max_ngram=3):
        from albert_tf.text.masking import MaskingConfig

        return MaskingConfig(
            self.start_pieces, mask_id=self.mask_id, special_ids=self.special_ids,
            masked_lm_prob=masked_lm_prob, max_predictions_per_seq=max_predictions_per_seq,
            max_ngram=max_ngram,
        )

    def encode(self, texts, chunk_size=4096):
        """Tokenizes a list of strings into a list of int64 id arrays."""
        import tensorflow as tf

        out = []
        for i in range(0, len(texts), chunk_size):
            ragged = self.tokenizer.tokenize(tf.constant(texts[i:i + chunk_size]))
            values = ragged.flat_values.numpy().astype(np.int64)
            splits = ragged.row_splits.numpy()
            out.extend(values[splits[j]:splits[j + 1]] for j in range(len(splits) - 1))
        return out


# ---------------------------------------------------------------------------
# Instances: segment pairs, packing, masking
# ---------------------------------------------------------------------------


def truncate_pair(tokens_a, tokens_b, max_num_tokens, rng):
    """Trims the longer segment one token at a time, from a random end (original rule)."""
    a_lo, a_hi, b_lo, b_hi = 0, len(tokens_a), 0, len(tokens_b)
    while (a_hi - a_lo) + (b_hi - b_lo) > max_num_tokens:
        trim_a = (a_hi - a_lo) > (b_hi - b_lo)
        front = rng.random() < 0.5
        if trim_a:
            a_lo, a_hi = (a_lo + 1, a_hi) if front else (a_lo, a_hi - 1)
        else:
            b_lo, b_hi = (b_lo + 1, b_hi) if front else (b_lo, b_hi - 1)
    return tokens_a[a_lo:a_hi], tokens_b[b_lo:b_hi]


def _split_single(tokens, start_pieces, rng):
    """Splits one long sentence at a random word boundary (SOP needs two parts)."""
    if len(tokens) < 2:
        return None
    boundaries = np.flatnonzero(start_pieces[tokens[1:]]) + 1
    if not len(boundaries):
        return None
    cut = int(rng.choice(boundaries))
    return tokens[:cut], tokens[cut:]


def create_segment_pairs(document, max_seq_length, rng, start_pieces, short_seq_prob=0.1):
    """Builds SOP segment pairs from one tokenized document.

    Consecutive sentences fill a chunk up to a target length (the maximum,
    or with probability `short_seq_prob` a random shorter one); the chunk
    is cut at a random sentence boundary into A and B, which are swapped
    with probability 0.5 (label 1) and trimmed to `max_seq_length - 3`.

    Args:
        document: list of int arrays, the token ids of each sentence.
        max_seq_length: T, including [CLS] and two [SEP].
        rng: `numpy.random.Generator`.
        start_pieces: boolean [V] start-piece table.

    Returns:
        list of (tokens_a, tokens_b, label) with label 1 = swapped.
    """
    max_num_tokens = max_seq_length - 3
    target = max_num_tokens
    if rng.random() < short_seq_prob:
        target = int(rng.integers(2, max_num_tokens + 1))
    pairs = []
    chunk, length = [], 0
    for i, sentence in enumerate(document):
        if len(sentence):
            chunk.append(sentence)
            length += len(sentence)
        if chunk and (i == len(document) - 1 or length >= target):
            if len(chunk) >= 2:
                a_end = int(rng.integers(1, len(chunk)))
                pair = np.concatenate(chunk[:a_end]), np.concatenate(chunk[a_end:])
            else:
                pair = _split_single(chunk[0], start_pieces, rng)
            if pair is not None:
                tokens_a, tokens_b = pair
                label = int(rng.random() < 0.5)
                if label:
                    tokens_a, tokens_b = tokens_b, tokens_a
                tokens_a, tokens_b = truncate_pair(tokens_a, tokens_b, max_num_tokens, rng)
                if len(tokens_a) and len(tokens_b):
                    pairs.append((tokens_a, tokens_b, label))
            chunk, length = [], 0
            target = max_num_tokens
            if rng.random() < short_seq_prob:
                target = int(rng.integers(2, max_num_tokens + 1))
    return pairs


def pack_pair(tokens_a, tokens_b, max_seq_length, cls_id, sep_id, pad_id):
    """`[CLS] A [SEP] B [SEP]` + padding -> (input_ids, input_mask, segment_ids) int [T]."""
    ids = np.concatenate([[cls_id], tokens_a, [sep_id], tokens_b, [sep_id]]).astype(np.int64)
    if len(ids) > max_seq_length:
        raise ValueError(f"Packed pair has {len(ids)} tokens, more than max_seq_length={max_seq_length}")
    n_a = len(tokens_a) + 2
    pad = max_seq_length - len(ids)
    input_ids = np.concatenate([ids, np.full(pad, pad_id, np.int64)])
    input_mask = np.concatenate([np.ones(len(ids), np.int64), np.zeros(pad, np.int64)])
    segment_ids = np.concatenate(
        [np.zeros(n_a, np.int64), np.ones(len(ids) - n_a, np.int64), np.zeros(pad, np.int64)]
    )
    return input_ids, input_mask, segment_ids


def make_instance(tokens_a, tokens_b, label, vocab, masking, max_seq_length, rng):
    """Packs and masks one pair; returns the feature dict of NumPy arrays."""
    from albert_tf.text.masking import mask_tokens

    input_ids, input_mask, segment_ids = pack_pair(
        tokens_a, tokens_b, max_seq_length, vocab.cls_id, vocab.sep_id, vocab.pad_id
    )
    masked, positions, labels, _ = mask_tokens(input_ids, masking, rng, input_mask)
    max_pred = masking.max_predictions_per_seq
    pad = max_pred - len(positions)
    return {
        "input_ids": masked,
        "input_mask": input_mask,
        "segment_ids": segment_ids,
        "masked_lm_positions": np.concatenate([positions, np.zeros(pad, np.int64)]),
        "masked_lm_ids": np.concatenate([labels, np.zeros(pad, np.int64)]),
        "masked_lm_weights": np.concatenate([np.ones(len(positions)), np.zeros(pad)]).astype(np.float32),
        "next_sentence_labels": np.array([label], np.int64),
    }


def serialize_instance(instance):
    """Serializes a feature dict as a `tf.train.Example` (deterministic bytes)."""
    import tensorflow as tf

    feature = {}
    for name in FEATURE_NAMES:
        values = instance[name]
        if values.dtype.kind == "f":
            feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=values.tolist()))
        else:
            feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=values.tolist()))
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    # Map fields serialize in insertion order unless asked for sorted keys.
    return example.SerializeToString(deterministic=True)


def _write_records(path, records):
    import tensorflow as tf

    from albert_tf.saving import atomic_path

    with atomic_path(path) as tmp, tf.io.TFRecordWriter(tmp) as writer:
        for record in records:
            writer.write(record)


def _shard_name(split, index, total):
    return f"{split}-{index:05d}-of-{total:05d}.tfrecord"


def _process_file(job):
    """Worker: one input file -> its train (and eval) shard. Top level for spawn pickling."""
    (file_index, num_files, path, output_dir, params) = job
    vocab = PretrainingVocab(params["spm_model"])
    masking = vocab.masking_config(
        params["max_predictions_per_seq"], params["masked_lm_prob"], params["max_ngram"]
    )
    rng = np.random.default_rng([params["seed"], file_index])
    documents = list(read_documents(path))
    sentences = [[s for line in doc for s in split_sentences(line)] for doc in documents]
    flat = [s for doc in sentences for s in doc]
    encoded = iter(vocab.encode(flat))
    tokenized = [[next(encoded) for _ in doc] for doc in sentences]
    holdout = params["holdout_every"]
    splits = {"train": [], "eval": []}
    for _ in range(params["dupe_factor"]):
        for doc_index, document in enumerate(tokenized):
            split = "eval" if holdout and doc_index % holdout == holdout - 1 else "train"
            pairs = create_segment_pairs(
                document, params["max_seq_length"], rng, vocab.start_pieces, params["short_seq_prob"]
            )
            splits[split].extend(pairs)
    counts = {}
    for split, pairs in splits.items():
        if split == "eval" and not holdout:
            continue
        order = rng.permutation(len(pairs))
        records = [
            serialize_instance(
                make_instance(*pairs[i], vocab, masking, params["max_seq_length"], rng)
            )
            for i in order
        ]
        _write_records(
            pathlib.Path(output_dir) / _shard_name(split, file_index, num_files), records
        )
        counts[split] = len(records)
    return counts


def create_pretraining_data(
    input_files,
    output_dir,
    spm_model=None,
    max_seq_length=128,
    max_predictions_per_seq=20,
    masked_lm_prob=0.15,
    max_ngram=3,
    short_seq_prob=0.1,
    dupe_factor=1,
    holdout_every=0,
    seed=12345,
    num_workers=1,
):
    """Writes masked-LM + SOP TFRecords, one shard per input file.

    Args:
        input_files: paths, globs or `resource:NAME` (e.g.
            "resource:sotu.txt.gz") of text files.
        output_dir: where `train-00000-of-0000N.tfrecord` (and `eval-...`
            with `holdout_every`) and `metadata.json` go.
        spm_model: SentencePiece model; default the shipped ALBERT 30k one.
        max_seq_length: T.
        max_predictions_per_seq: P.
        masked_lm_prob, max_ngram: the masking rule (0.15, 3).
        short_seq_prob: chance of a shorter target length (0.1).
        dupe_factor: passes over the data, each with fresh pairs and masks.
        holdout_every: if > 0, every k-th document of each file goes to the
            eval shards instead (a document-level held-out set).
        seed: the run's seed; file i uses `default_rng([seed, i])`.
        num_workers: processes (one file each); same bytes as serial.

    Returns:
        The metadata dict (also written to `output_dir/metadata.json`):
        params, shard names and instance counts.

    Example:
    >>> document = "The cat sat on the mat. It was warm there. The dog slept. Then it rained."
    >>> _ = pathlib.Path("corpus.txt").write_text(f"{document}\\n\\n{document}\\n")
    >>> metadata = create_pretraining_data(["corpus.txt"], "pretrain", max_seq_length=16,
    ...                                    max_predictions_per_seq=3, dupe_factor=2)
    >>> metadata["train_shards"], metadata["train_instances"] > 0
    (['train-00000-of-00001.tfrecord'], True)
    >>> sorted(path.name for path in pathlib.Path("pretrain").iterdir())
    ['metadata.json', 'train-00000-of-00001.tfrecord']
    """
    files = expand_files(input_files)
    if max_seq_length < 5:
        raise ValueError(f"max_seq_length must be >= 5, got {max_seq_length}")
    if not 1 <= max_predictions_per_seq <= max_seq_length:
        raise ValueError(
            f"max_predictions_per_seq must be in [1, max_seq_length={max_seq_length}], "
            f"got {max_predictions_per_seq}"
        )
    if dupe_factor < 1 or num_workers < 1 or holdout_every < 0:
        raise ValueError(
            f"dupe_factor and num_workers must be >= 1 and holdout_every >= 0, got "
            f"{dupe_factor}, {num_workers}, {holdout_every}"
        )
    for path in files:  # all input is checked before any shard is written
        check_documents(list(read_documents(path)), path)
    output_dir = pathlib.Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    params = dict(
        spm_model=resolve_path(spm_model or f"{RESOURCE_PREFIX}albert-30k-clean.model"),
        max_seq_length=int(max_seq_length), max_predictions_per_seq=int(max_predictions_per_seq),
        masked_lm_prob=float(masked_lm_prob), max_ngram=int(max_ngram),
        short_seq_prob=float(short_seq_prob), dupe_factor=int(dupe_factor),
        holdout_every=int(holdout_every), seed=int(seed),
    )
    jobs = [(i, len(files), f, str(output_dir), params) for i, f in enumerate(files)]
    if num_workers > 1 and len(files) > 1:
        # spawn: TensorFlow is not fork-safe once initialized.
        with multiprocessing.get_context("spawn").Pool(min(num_workers, len(files))) as pool:
            counts = pool.map(_process_file, jobs)
    else:
        counts = [_process_file(job) for job in jobs]
    metadata = {
        "params": {**params, "input_files": files},
        "train_shards": [_shard_name("train", i, len(files)) for i in range(len(files))],
        "train_instances": sum(c["train"] for c in counts),
    }
    if holdout_every:
        metadata["eval_shards"] = [_shard_name("eval", i, len(files)) for i in range(len(files))]
        metadata["eval_instances"] = sum(c["eval"] for c in counts)
    from albert_tf.saving import atomic_write

    atomic_write(output_dir / METADATA_FILE, json.dumps(metadata, indent=2, sort_keys=True))
    return metadata


def add_arguments(parser):
    # Imported here: shard-writing worker processes import this module and need no albert_tf.
    from albert_tf import cli_flags

    parser.add_argument("--input", nargs="+", required=True,
                        help="text files, globs or resource:NAME (blank line between documents)")
    parser.add_argument("--output-dir", required=True)
    cli_flags.add_flag(parser, "--spiece-model", "--spm-model", default=None,
                       help="SentencePiece model (default: ALBERT 30k)")
    cli_flags.add_flag(parser, "--seq-length", "--max-seq-length", type=int, default=128,
                       help="packed sequence length T (default %(default)s)")
    parser.add_argument("--max-predictions-per-seq", type=int, default=20)
    parser.add_argument("--masked-lm-prob", type=float, default=0.15)
    parser.add_argument("--max-ngram", type=int, default=3)
    parser.add_argument("--short-seq-prob", type=float, default=0.1)
    parser.add_argument("--dupe-factor", type=int, default=1)
    parser.add_argument("--holdout-every", type=int, default=0,
                        help="send every k-th document to eval shards (0: none)")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--num-workers", type=int, default=1)


def run(args):
    metadata = create_pretraining_data(
        args.input, args.output_dir, spm_model=args.spiece_model,
        max_seq_length=args.seq_length, max_predictions_per_seq=args.max_predictions_per_seq,
        masked_lm_prob=args.masked_lm_prob, max_ngram=args.max_ngram,
        short_seq_prob=args.short_seq_prob, dupe_factor=args.dupe_factor,
        holdout_every=args.holdout_every, seed=args.seed, num_workers=args.num_workers,
    )
    print(json.dumps({k: v for k, v in metadata.items() if k != "params"}, indent=2))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    raise SystemExit(run(parser.parse_args()))
