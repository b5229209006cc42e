"""`AlbertTokenizer`: ALBERT normalization + SentencePiece, all in TF ops."""

import hashlib
import os
import pathlib

import numpy as np
import sentencepiece as spm
import tensorflow as tf
import tensorflow_text as tf_text
from sentencepiece import sentencepiece_model_pb2
from tensorflow.python.trackable import resource
from tensorflow_text.python.ops.sentencepiece_tokenizer import gen_sentencepiece_tokenizer

from albert_tf.text import masking, normalization

SPIECE_UNDERLINE = "\u2581"


def _read_proto(proto):
    if proto is None:
        from albert_tf import resources

        proto = resources.path(resources.SPIECE_MODEL)
    if isinstance(proto, (str, os.PathLike)):
        path = pathlib.Path(proto)
        if not path.is_file():
            raise FileNotFoundError(f"SentencePiece model {str(path)!r} does not exist")
        proto = path.read_bytes()
    if not isinstance(proto, (bytes, bytearray)):
        raise TypeError(
            "proto must be the path or the bytes of a SentencePiece model, "
            f"got {type(proto).__name__}"
        )
    model = sentencepiece_model_pb2.ModelProto()
    try:
        model.ParseFromString(bytes(proto))
    except Exception as error:  # protobuf raises its own DecodeError
        raise ValueError(f"proto is not a serialized SentencePiece model: {error}") from None
    if not model.pieces:
        raise ValueError("proto is not a serialized SentencePiece model: it has no pieces")
    return bytes(proto), model


class _SharedSentencepieceModel(resource.TrackableResource):
    """tensorflow-text's SentencePiece model resource, under a shared name.

    tensorflow-text creates the model as a resource private to the eager
    kernel that made it, so anything that clears TensorFlow's eager kernel
    cache (`tf.random.set_seed`, `keras.utils.set_random_seed`) destroys it
    and every later call fails with "Resource ... SentencepieceOp ... does
    not exist". A shared name (one per model content) keeps the resource
    in the resource manager, where a new kernel finds it again.
    """

    def __init__(self, model):
        super().__init__()
        self._model = model
        self._shared_name = "albert_tf_spm_" + hashlib.sha256(model).hexdigest()[:20]
        _ = self.resource_handle

    def _create_resource(self):
        return gen_sentencepiece_tokenizer.sentencepiece_op(model=self._model, shared_name=self._shared_name)


def digit_comma_pieces(processor, pieces):
    """The original digit-comma re-split of a list of SentencePiece pieces.

    google-research/albert `encode_pieces` (and the Hugging Face slow
    tokenizer) re-encode a piece longer than one character that ends in
    "," after a digit ("▁2010," -> "▁2010", ","), so numbers like
    "1,000" tokenize like BERT's. Pure Python; used to build the lookup
    table of `AlbertTokenizer` and as the reference in tests.

    Args:
        processor: `sentencepiece.SentencePieceProcessor`.
        pieces: list of piece strings from `processor.encode(..., out_type=str)`.

    Returns:
        The new list of pieces.
    """
    out = []
    for piece in pieces:
        if len(piece) > 1 and piece[-1] == "," and piece[-2].isdigit():
            cur = processor.encode(piece[:-1].replace(SPIECE_UNDERLINE, ""), out_type=str)
            if piece[0] != SPIECE_UNDERLINE and cur and cur[0][0] == SPIECE_UNDERLINE:
                if len(cur[0]) == 1:
                    cur = cur[1:]
                else:
                    cur[0] = cur[0][1:]
            cur.append(piece[-1])
            out.extend(cur)
        else:
            out.append(piece)
    return out


def _check_strings(inputs, name):
    """Converts and validates a string input: rank 0 or 1, dtype string."""
    if isinstance(inputs, (str, bytes)):
        inputs = tf.constant(inputs, dtype=tf.string)
    if isinstance(inputs, (list, tuple)):
        if not all(isinstance(x, (str, bytes)) for x in inputs):
            bad = next(x for x in inputs if not isinstance(x, (str, bytes)))
            raise TypeError(f"{name} expects strings, got an element {bad!r} of type {type(bad).__name__}")
        inputs = tf.constant(list(inputs), dtype=tf.string, shape=[len(inputs)])
    inputs = tf.convert_to_tensor(inputs)
    if inputs.dtype != tf.string:
        raise TypeError(f"{name} expects a tf.string tensor of shape [B], got dtype {inputs.dtype.name}")
    rank = inputs.shape.rank
    if rank is not None and rank > 1:
        raise ValueError(
            f"{name} expects strings of shape [B] (or a scalar), got shape {inputs.shape}; "
            "flatten them first (e.g. tf.reshape(x, [-1]))"
        )
    if rank is None:
        inputs = tf.ensure_shape(inputs, [None])
    return inputs


def _check_utf8(strings, name):
    """Raises on invalid UTF-8: ValueError in eager, an Assert in graphs."""
    # Transcoding leaves valid UTF-8 byte-identical and changes anything else.
    repaired = tf.strings.unicode_transcode(
        strings, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD
    )
    valid = tf.equal(repaired, strings)
    message = f"{name}: input is not valid UTF-8 (decode bytes with the right codec first)"
    if tf.executing_eagerly():
        bad = np.flatnonzero(~valid.numpy().reshape(-1))
        if bad.size:
            raise ValueError(f"{message}; bad rows {bad[:10].tolist()}: {strings.numpy().reshape(-1)[bad[0]]!r:.80}")
        return strings
    check = tf.debugging.Assert(tf.reduce_all(valid), [message])
    with tf.control_dependencies([check]):
        return tf.identity(strings)


def check_ids(ids, vocab_size, name):
    """Token ids as int32 (dense or ragged); out-of-vocabulary ids fail eagerly.

    Raises:
        TypeError: non-integer ids.
        ValueError: (eager) an id outside [0, vocab_size), `name` in the message.

    Example:
    >>> check_ids([[5, 6], [7]], vocab_size=10, name="demo").shape
    TensorShape([2, None])
    """
    if isinstance(ids, (list, tuple)):
        ids = tf.ragged.constant(ids, dtype=tf.int32)
    elif not isinstance(ids, (tf.Tensor, tf.RaggedTensor)):
        ids = tf.convert_to_tensor(ids)
    if not ids.dtype.is_integer:
        raise TypeError(f"{name} expects integer ids, got dtype {ids.dtype.name}")
    ids = tf.cast(ids, tf.int32)
    if tf.executing_eagerly():
        flat = (ids.flat_values if isinstance(ids, tf.RaggedTensor) else ids).numpy()
        if flat.size and (flat.min() < 0 or flat.max() >= vocab_size):
            raise ValueError(f"{name}: ids must be in [0, {vocab_size}), got values in [{flat.min()}, {flat.max()}]")
    return ids


class AlbertTokenizer(tf.Module):
    """ALBERT's tokenizer: normalization + SentencePiece + digit-comma rule.

    Everything runs as TensorFlow ops (core ops plus tensorflow-text's
    SentencePiece ops), so it works eagerly, in `tf.data.Dataset.map`, and
    inside `tf.function`s exported in SavedModels for TF Serving. It must
    not run inside XLA-compiled functions (`jit_compile=True`): the
    tensorflow-text ops have no XLA kernels; tokenize in the input
    pipeline or the serving signature instead.

    The ids equal google-research/albert's `FullTokenizer` (and the Hugging
    Face slow tokenizer of transformers 4.x). Hugging Face's tokenizers-
    backed `AlbertTokenizer` (transformers 5.x) skips the digit-comma
    re-split; `split_digit_comma=False` reproduces it.

    Args:
        proto: path or bytes of a SentencePiece model; `None` means the
            original English `30k-clean.model` shipped in
            `albert_tf.resources`.
        do_lower_case: lowercase before SentencePiece (True for the
            released English models).
        keep_accents: keep accents (skip NFKD + combining-mark removal).
        split_digit_comma: apply the original re-split of pieces such as
            "▁2010," into "▁2010", ",".

    Example:
    >>> tokenizer = AlbertTokenizer(resources.path("albert-30k-clean.model"))
    >>> tokenizer.tokenize(tf.constant(["Hello World!"]))
    <tf.RaggedTensor [[10975, 126, 187]]>
    >>> tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id
    (2, 3, 0)
    """

    def __init__(self, proto=None, do_lower_case=True, keep_accents=False, split_digit_comma=True, name=None):
        super().__init__(name=name or "albert_tokenizer")
        self._proto, model = _read_proto(proto)
        self.do_lower_case = bool(do_lower_case)
        self.keep_accents = bool(keep_accents)
        self.split_digit_comma = bool(split_digit_comma)

        pieces = [p.piece for p in model.pieces]
        self._piece_index = {p: i for i, p in enumerate(pieces)}
        self.vocab_size = len(pieces)
        self.pad_id = int(model.trainer_spec.pad_id)
        self.unk_id = int(model.trainer_spec.unk_id)
        self.cls_id = self._special_id("[CLS]")
        self.sep_id = self._special_id("[SEP]")
        self.mask_id = self._special_id("[MASK]")

        self._sp = tf_text.SentencepieceTokenizer(model=self._proto, out_type=tf.int32)
        self._sp._model_resource = _SharedSentencepieceModel(self._proto)
        self._expansion = self._build_expansion(pieces) if self.split_digit_comma else None

    def _special_id(self, piece):
        if piece not in self._piece_index:
            raise ValueError(
                f"The SentencePiece model has no piece {piece!r}; ALBERT needs "
                "<pad> <unk> [CLS] [SEP] [MASK] (train one with `albert-tf vocab`)"
            )
        return self._piece_index[piece]

    def _build_expansion(self, pieces):
        """Lookup table for the digit-comma rule, precomputed per piece.

        The re-split depends only on the piece string, so it is a fixed
        map id -> list of ids; the graph only gathers from it.
        Returns None when the vocabulary has no such piece.
        """
        processor = spm.SentencePieceProcessor(model_proto=self._proto)
        rows = [[i] for i in range(len(pieces))]
        surface = [[0] for _ in range(len(pieces))]
        changed = False
        for i, piece in enumerate(pieces):
            new = digit_comma_pieces(processor, [piece])
            if new != [piece]:
                changed = True
                rows[i] = [self._piece_index.get(p, self.unk_id) for p in new]
                # Bytes each new piece covers, counted back from the end of
                # the original span (for offsets); the leading ▁ is spanned
                # by whatever the first piece absorbs.
                surface[i] = [len(p.replace(SPIECE_UNDERLINE, "").encode("utf-8")) for p in new]
        if not changed:
            return None
        lengths = np.array([len(r) for r in rows], np.int64)
        return {
            "ids": tf.RaggedTensor.from_row_lengths(
                np.concatenate(rows).astype(np.int32), lengths
            ),
            "surface": tf.RaggedTensor.from_row_lengths(
                np.concatenate(surface).astype(np.int32), lengths
            ),
        }

    @property
    def proto(self):
        """The serialized SentencePiece model (bytes)."""
        return self._proto

    def normalize(self, strings):
        """ALBERT normalization in TF ops: `tf.string` [B] -> `tf.string` [B]."""
        strings = _check_strings(strings, "AlbertTokenizer.normalize")
        return normalization.normalize(strings, self.do_lower_case, self.keep_accents)

    def tokenize(self, strings):
        """Raw strings -> ids.

        Args:
            strings: `tf.string` [B] (or a scalar, or a Python list of
                str), valid UTF-8.

        Returns:
            `tf.RaggedTensor` int32 [B, None] of piece ids (no [CLS]/[SEP]);
            an int32 [None] tensor for a scalar input.
        """
        strings = _check_strings(strings, "AlbertTokenizer.tokenize")
        strings = _check_utf8(strings, "AlbertTokenizer.tokenize")
        scalar = strings.shape.rank == 0
        if scalar:
            strings = tf.reshape(strings, [1])
        ids = self._sp.tokenize(normalization.normalize(strings, self.do_lower_case, self.keep_accents))
        ids = self._apply_expansion(ids)
        return ids[0] if scalar else ids

    def _apply_expansion(self, ids, starts=None, ends=None):
        """Applies the digit-comma table to ragged [B, None] ids (and offsets)."""
        if self._expansion is None:
            return ids if starts is None else (ids, starts, ends)
        flat = ids.flat_values
        new = tf.gather(self._expansion["ids"], flat)
        lengths = tf.math.unsorted_segment_sum(
            new.row_lengths(), ids.value_rowids(), num_segments=ids.nrows()
        )
        out = tf.RaggedTensor.from_row_lengths(new.flat_values, lengths)
        if starts is None:
            return out
        # Offsets of the new pieces: each takes its bytes counted back from
        # the end of the old span; the first one keeps the old start (and
        # with it the space a leading ▁ covers).
        surface = tf.gather(self._expansion["surface"], flat)
        values = surface.flat_values
        token = surface.value_rowids()
        splits = surface.row_splits
        inclusive = tf.cumsum(values)
        row_total = tf.gather(inclusive, splits[1:] - 1)
        from_end = tf.gather(row_total, token) - (inclusive - values)
        old_start = tf.gather(tf.cast(starts.flat_values, tf.int32), token)
        old_end = tf.gather(tf.cast(ends.flat_values, tf.int32), token)
        position = tf.range(tf.size(values, out_type=tf.int64)) - tf.gather(splits, token)
        new_start = tf.where(
            position == 0, old_start, tf.maximum(old_end - tf.cast(from_end, tf.int32), old_start)
        )
        is_last = position == tf.gather(surface.row_lengths(), token) - 1
        next_start = tf.concat([new_start[1:], tf.zeros([1], tf.int32)], axis=0)
        new_end = tf.where(is_last, old_end, next_start)
        start_out = tf.RaggedTensor.from_row_lengths(new_start, lengths)
        end_out = tf.RaggedTensor.from_row_lengths(new_end, lengths)
        return out, start_out, end_out

    def tokenize_with_offsets(self, normalized):
        """SentencePiece + digit-comma rule on ALREADY normalized strings.

        Args:
            normalized: `tf.string` [B], the output of `normalize`.

        Returns:
            `(ids, starts, ends)`, ragged int32 [B, None] each; `starts` and
            `ends` are byte offsets into `normalized` (end exclusive).
        """
        ids, starts, ends = self._sp.tokenize_with_offsets(normalized)
        ids, starts, ends = self._apply_expansion(ids, starts, ends)
        return ids, tf.cast(starts, tf.int32), tf.cast(ends, tf.int32)

    def detokenize(self, ids):
        """Ids -> text. Special pieces (<pad>, [CLS], [SEP], [MASK]) decode to nothing.

        Args:
            ids: int ragged or dense [B, T] (or [T]).

        Returns:
            `tf.string` [B] (or a scalar).
        """
        ids = check_ids(ids, self.vocab_size, "AlbertTokenizer.detokenize")
        return self._sp.detokenize(ids)

    def id_to_piece(self, ids):
        """Ids (any shape, ragged or dense) -> pieces as `tf.string`."""
        ids = check_ids(ids, self.vocab_size, "AlbertTokenizer.id_to_piece")
        return self._sp.id_to_string(ids)

    def piece_to_id(self, pieces):
        """Pieces (`tf.string`, any shape) -> int32 ids; unknown pieces give `unk_id`."""
        if isinstance(pieces, (str, bytes, list, tuple)):
            pieces = tf.constant(pieces, dtype=tf.string)
        if isinstance(pieces, tf.Tensor) and pieces.dtype != tf.string:
            raise TypeError(f"piece_to_id expects tf.string pieces, got dtype {pieces.dtype.name}")
        return self._sp.string_to_id(pieces)

    def word_start_table(self):
        """Boolean NumPy [V]: whether each piece begins a whole word (for MLM masking).

        The original `_is_start_piece` rule (`masking.start_piece_table`).
        """
        return masking.start_piece_table(sorted(self._piece_index, key=self._piece_index.get))

    def special_tokens_dict(self):
        """Python ints of the special ids and the vocabulary size (TF Hub style)."""
        return {
            "vocab_size": self.vocab_size,
            "padding_id": self.pad_id,
            "unk_id": self.unk_id,
            "start_of_sequence_id": self.cls_id,
            "end_of_segment_id": self.sep_id,
            "mask_id": self.mask_id,
        }
