"""Raw text -> packed model inputs, one preprocessor per kind of task.

- `AlbertPreprocessor`: one text or a pair (classification, regression,
  pretraining-style pairs): strings [B] -> int32 [B, T] inputs.
- `AlbertMultipleChoicePreprocessor`: a context and C choices per example
  -> int32 [B, C, T] inputs (for `AlbertMultipleChoice`).
- `AlbertTokenClassificationPreprocessor`: pre-split words -> [B, T] inputs
  plus `word_ids`, the word each token came from (for
  `AlbertTokenClassifier` labels given per word).
- Question answering with character offsets lives in `qa.py`.

All are `tf.Module`s built from TF ops: call them eagerly, in
`tf.data.Dataset.map`, or in a `tf.function` exported to a SavedModel.
"""

import tensorflow as tf

from albert_tf.text.packer import AlbertPacker, assemble
from albert_tf.text.tokenizer import AlbertTokenizer, _check_strings
from albert_tf.text.wordpiece import AlbertWordPieceTokenizer


def _check_tokenizer(tokenizer):
    if not isinstance(tokenizer, (AlbertTokenizer, AlbertWordPieceTokenizer)):
        raise TypeError(
            "tokenizer must be an AlbertTokenizer (SentencePiece) or an AlbertWordPieceTokenizer, "
            f"got {type(tokenizer).__name__}"
        )
    return tokenizer


class AlbertPreprocessor(tf.Module):
    """Strings (one text or a pair) -> `input_word_ids`, `input_mask`, `input_type_ids`.

    Args:
        tokenizer: `AlbertTokenizer` or `AlbertWordPieceTokenizer`.
        seq_length: int T, the packed length (specials included).
        truncation: see `AlbertPacker` ("round_robin", "longest_first",
            "waterfall").
        dynamic_padding: pad to the batch's longest row (at most T).

    Call args:
        texts_a: `tf.string` [B] (or a scalar: then the outputs are [T]).
        texts_b: optional `tf.string` [B], the second segment.

    Returns:
        dict of int32 [B, T] tensors.

    Example:
    >>> pre = AlbertPreprocessor(AlbertTokenizer(), seq_length=16)
    >>> pre(tf.constant(["The movie was great."]))["input_word_ids"][0, :7]
    <tf.Tensor: shape=(7,), dtype=int32, numpy=array([   2,   14, 1308,   23,  374,    9,    3], ...)>
    >>> ds = tf.data.Dataset.from_tensor_slices(["a", "b"]).batch(2).map(pre)
    """

    def __init__(self, tokenizer, seq_length=128, truncation="round_robin", dynamic_padding=False, name=None):
        super().__init__(name=name or "albert_preprocessor")
        self.tokenizer = _check_tokenizer(tokenizer)
        self.seq_length = seq_length
        self.packer = AlbertPacker.for_tokenizer(tokenizer, seq_length, truncation=truncation, dynamic_padding=dynamic_padding)

    def __call__(self, texts_a, texts_b=None):
        texts_a = _check_strings(texts_a, "AlbertPreprocessor")
        scalar = texts_a.shape.rank == 0
        segments = [texts_a] if texts_b is None else [texts_a, _check_strings(texts_b, "AlbertPreprocessor")]
        if len(segments) == 2 and segments[1].shape.rank != texts_a.shape.rank:
            raise ValueError(
                f"texts_a and texts_b must have the same shape, got {texts_a.shape} and {segments[1].shape}"
            )
        if scalar:
            segments = [tf.reshape(s, [1]) for s in segments]
        outputs = self.packer([self.tokenizer.tokenize(s) for s in segments])
        if scalar:
            outputs = {k: v[0] for k, v in outputs.items()}
        return outputs


class AlbertMultipleChoicePreprocessor(tf.Module):
    """A context and C choices -> inputs of shape [B, C, T].

    Each choice is packed as the pair `[CLS] context [SEP] choice [SEP]`
    (put a question in front of each choice, or after the context, as the
    data set wants).

    Args:
        tokenizer: `AlbertTokenizer` or `AlbertWordPieceTokenizer`.
        seq_length: int T.
        truncation: default "longest_first" (a long context gives way
            before a short choice).
        dynamic_padding: pad to the longest packed pair of the batch.

    Call args:
        contexts: `tf.string` [B].
        choices: `tf.string` [B, C] (C fixed within a batch).

    Returns:
        dict of int32 [B, C, T] tensors `input_word_ids`, `input_mask`,
        `input_type_ids` (the input layout of `AlbertMultipleChoice`).

    Example:
    >>> pre = AlbertMultipleChoicePreprocessor(AlbertTokenizer(), seq_length=32)
    >>> pre(tf.constant(["The sky is"]), tf.constant([["blue", "green", "loud"]]))["input_word_ids"].shape
    TensorShape([1, 3, 32])
    """

    def __init__(self, tokenizer, seq_length=128, truncation="longest_first", dynamic_padding=False, name=None):
        super().__init__(name=name or "albert_multiple_choice_preprocessor")
        self.tokenizer = _check_tokenizer(tokenizer)
        self.seq_length = seq_length
        self.packer = AlbertPacker.for_tokenizer(tokenizer, seq_length, truncation=truncation, dynamic_padding=dynamic_padding)

    def __call__(self, contexts, choices):
        contexts = _check_strings(contexts, "AlbertMultipleChoicePreprocessor contexts")
        if contexts.shape.rank != 1:
            raise ValueError(f"contexts must be tf.string [B], got shape {contexts.shape}")
        choices = tf.convert_to_tensor(choices)
        if choices.dtype != tf.string or choices.shape.rank != 2:
            raise ValueError(
                f"choices must be tf.string [B, C], got dtype {choices.dtype.name} shape {choices.shape}"
            )
        num_choices = tf.shape(choices)[1]
        batch = tf.shape(contexts)[0]
        tf.debugging.assert_equal(
            tf.shape(choices)[0], batch, message="contexts and choices must have the same batch size B"
        )
        context_ids = self.tokenizer.tokenize(contexts)
        # Tokenize each context once, then repeat it for its C choices.
        context_ids = tf.gather(context_ids, tf.repeat(tf.range(batch), num_choices))
        choice_ids = self.tokenizer.tokenize(tf.reshape(choices, [-1]))
        packed = self.packer([context_ids, choice_ids])
        static_c = choices.shape[1]
        out = {}
        for key, value in packed.items():
            value = tf.reshape(value, [batch, num_choices, tf.shape(value)[-1]])
            value.set_shape([choices.shape[0], static_c, packed[key].shape[-1]])
            out[key] = value
        return out


class AlbertTokenClassificationPreprocessor(tf.Module):
    """Pre-split words -> packed inputs plus the word index of each token.

    Each word is tokenized on its own (so it starts a new SentencePiece
    or WordPiece word, like Hugging Face's `is_split_into_words=True`), the
    pieces are packed as `[CLS] pieces [SEP]`, truncated to T.

    Args:
        tokenizer: `AlbertTokenizer` or `AlbertWordPieceTokenizer`.
        seq_length: int T.
        dynamic_padding: pad to the batch's longest row.

    Call args:
        words: `tf.string` ragged [B, None] (or dense [B, W]).

    Returns:
        dict of int32 [B, T] tensors: the three model inputs and
        `word_ids`, the index of the word each token belongs to (-1 on
        [CLS], [SEP] and padding). Labels given per word are spread to
        tokens with `tf.gather(word_labels, max(word_ids, 0), batch_dims=1)`.

    Example:
    >>> pre = AlbertTokenClassificationPreprocessor(AlbertTokenizer(), seq_length=16)
    >>> out = pre(tf.ragged.constant([["Moby", "Dick"]]))
    >>> [p.decode() for p in pre.tokenizer.id_to_piece(out["input_word_ids"][0, :6]).numpy()]
    ['[CLS]', '▁mob', 'y', '▁dick', '[SEP]', '<pad>']
    >>> out["word_ids"][0, :6].numpy().tolist()
    [-1, 0, 0, 1, -1, -1]
    """

    def __init__(self, tokenizer, seq_length=128, dynamic_padding=False, name=None):
        super().__init__(name=name or "albert_token_classification_preprocessor")
        self.tokenizer = _check_tokenizer(tokenizer)
        self.seq_length = seq_length
        self.packer = AlbertPacker.for_tokenizer(tokenizer, seq_length, dynamic_padding=dynamic_padding)

    def __call__(self, words):
        if not isinstance(words, tf.RaggedTensor):
            words = tf.convert_to_tensor(words)
            if words.dtype == tf.string and words.shape.rank == 2:
                words = tf.RaggedTensor.from_tensor(words)
        if words.dtype != tf.string or words.shape.rank != 2:
            raise ValueError(
                f"words must be tf.string [B, None] (ragged), got dtype {words.dtype.name} shape {words.shape}"
            )
        pieces = self.tokenizer.tokenize(words.flat_values)  # [N words, P]
        ids = words.with_flat_values(pieces).merge_dims(1, 2)  # [B, tokens]
        # Position of each word inside its example, then spread to its pieces.
        word_position = tf.range(words.row_splits[-1]) - tf.gather(words.row_splits, words.value_rowids())
        word_index = ids.with_flat_values(
            tf.cast(tf.gather(word_position, pieces.value_rowids()), tf.int32)
        )
        (trimmed,) = self.packer.trim([ids])
        kept = trimmed.row_lengths()
        word_index = tf.ragged.boolean_mask(
            word_index, tf.ragged.range(word_index.row_lengths()) < kept[:, None]
        )
        dynamic = self.packer.dynamic_padding
        input_ids, type_ids, mask = assemble(
            [trimmed], self.tokenizer.cls_id, self.tokenizer.sep_id, self.tokenizer.pad_id, self.seq_length, dynamic
        )
        word_ids, _, _ = assemble([word_index], -1, -1, -1, self.seq_length, dynamic)
        packed = {"input_word_ids": input_ids, "input_mask": mask, "input_type_ids": type_ids}
        packed["word_ids"] = word_ids
        return packed
