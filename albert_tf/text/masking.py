"""ALBERT n-gram masking for the masked-LM objective, shared by every data path.

The offline TFRecord writer (`training.data.creation`) and the on-the-fly
tf.data pipeline call the same NumPy functions here, so both produce the
same kind of examples; tf.data reaches them through `tf.numpy_function`
(SentencePiece and masking stay outside XLA, as tf-text ops have no XLA
kernels).

The rule (ALBERT paper section 4.1, google-research/albert
`create_pretraining_data.py`):

- Units are whole SentencePiece words: a piece that starts with U+2581,
  starts with "<" or is a single ASCII punctuation character begins a new
  word (the original `_is_start_piece`); the pieces after it, up to the
  next start piece, belong to it. A word never spans a special token.
  With a WordPiece vocabulary (the Chinese models) a word is a token and
  the "##" pieces after it, so each CJK character is a word of its own
  (`wordpiece_start_table`; BERT's whole-word masking).
- Spans of n words, n in 1..`max_ngram`, with p(n) proportional to 1/n.
- About `masked_lm_prob` of the maskable tokens are predicted, at most
  `max_predictions_per_seq` per sequence.
- Of the predicted tokens 80% become [MASK], 10% a random ordinary piece,
  10% stay unchanged.
- [CLS], [SEP], [MASK], padding and positions with `input_mask == 0` are
  never predicted.

One deliberate difference from the original: it visits span starts in a
random order, draws n at each and drops spans that overlap earlier ones,
which makes long spans rarer than 1/n says. Here n is drawn first and a
start is then chosen uniformly among the places where an n-word span fits
(no overlap, within the remaining budget), so realized span lengths follow
p(n) proportional to 1/n (shorter spans are used only when nothing longer
fits the budget). Randomness comes only from the `numpy.random.Generator`
passed in, never from a global RNG.
"""

import string

import numpy as np

_PUNCTUATION = frozenset(string.punctuation)
SPIECE_UNDERLINE = "\u2581"


def is_start_piece(piece):
    """True when SentencePiece `piece` begins a new whole word (original rule)."""
    return piece.startswith(SPIECE_UNDERLINE) or piece.startswith("<") or piece in _PUNCTUATION


def start_piece_table(pieces):
    """Boolean [V] table: entry i says whether piece i begins a word.

    Args:
        pieces: the vocabulary as a sequence of V piece strings (id order),
            e.g. `[sp.id_to_piece(i) for i in range(sp.get_piece_size())]`.
    """
    return np.array([is_start_piece(p) for p in pieces], dtype=bool)


def wordpiece_start_table(tokens):
    """Boolean [V] table for a WordPiece vocabulary: every token but "##" pieces begins a word.

    BERT's basic tokenization puts each CJK character in a word of its own,
    so in Chinese text a word is one character, or a run of Latin letters
    or digits with its "##" continuations.

    Args:
        tokens: the vocabulary as a sequence of V token strings (id order),
            e.g. `AlbertWordPieceTokenizer().vocabulary`.

    Example:
    >>> wordpiece_start_table(["[PAD]", "中", "al", "##bert"]).tolist()
    [True, True, True, False]
    """
    return np.array([not t.startswith("##") for t in tokens], dtype=bool)


def ngram_probabilities(max_ngram):
    """p(n) for n = 1..max_ngram, proportional to 1/n."""
    if not isinstance(max_ngram, (int, np.integer)) or max_ngram < 1:
        raise ValueError(f"max_ngram must be a positive int, got {max_ngram!r}")
    weights = 1.0 / np.arange(1, max_ngram + 1)
    return weights / weights.sum()


def num_to_predict(num_maskable, masked_lm_prob, max_predictions_per_seq):
    """How many tokens a sequence with `num_maskable` candidates predicts."""
    if num_maskable == 0:
        return 0
    # Round half up (Python's round() rounds half to even, which biases the mean).
    wanted = int(np.floor(num_maskable * masked_lm_prob + 0.5))
    return min(max_predictions_per_seq, max(1, wanted))


def _word_spans(maskable, is_start):
    """Splits maskable positions into whole words: list of (start, end) token spans."""
    spans = []
    start = None
    for i in range(len(maskable)):
        if not maskable[i]:
            if start is not None:
                spans.append((start, i))
                start = None
            continue
        if start is None:
            start = i
        elif is_start[i]:
            spans.append((start, i))
            start = i
    if start is not None:
        spans.append((start, len(maskable)))
    return spans


class MaskingConfig:
    """What `mask_tokens` needs to know about the vocabulary and the rule.

    Args:
        start_pieces: boolean [V] table from `start_piece_table`
            (SentencePiece) or `wordpiece_start_table` (WordPiece).
        mask_id: id of [MASK].
        special_ids: ids never predicted (e.g. pad, [CLS], [SEP], [MASK]).
        masked_lm_prob: fraction of maskable tokens to predict (0.15).
        max_predictions_per_seq: P, the cap per sequence (20 at T=512).
        max_ngram: longest span in words (3).
        random_token_range: (low, high) ids that the 10% random
            replacement draws from, high exclusive; defaults to
            (max(special_ids) + 1, V), the ordinary pieces of ALBERT's
            vocabulary (its special pieces come first).

    Example:
    >>> pieces = "<pad> <unk> [CLS] [SEP] [MASK] ▁the ▁cat s ▁sat ▁down".split()
    >>> config = MaskingConfig(start_piece_table(pieces), mask_id=4, special_ids=(0, 2, 3, 4),
    ...                        masked_lm_prob=0.3)
    >>> ids = np.array([2, 5, 6, 7, 8, 9, 3, 0])  # [CLS] the cat s sat down [SEP] <pad>
    >>> masked, positions, labels, spans = mask_tokens(ids, config, np.random.default_rng(0),
    ...                                                input_mask=ids > 0)
    >>> masked, positions, labels
    (array([2, 5, 6, 7, 4, 4, 3, 0]), array([4, 5]), array([8, 9]))
    >>> spans  # (start, end, words): the 2-word span "sat down"
    [(4, 6, 2)]
    """

    def __init__(
        self,
        start_pieces,
        mask_id,
        special_ids,
        masked_lm_prob=0.15,
        max_predictions_per_seq=20,
        max_ngram=3,
        random_token_range=None,
    ):
        self.start_pieces = np.asarray(start_pieces, dtype=bool)
        if self.start_pieces.ndim != 1 or not len(self.start_pieces):
            raise ValueError("start_pieces must be a non-empty boolean [V] table")
        vocab_size = len(self.start_pieces)
        self.mask_id = int(mask_id)
        self.special_ids = np.array(sorted(set(int(i) for i in special_ids)), dtype=np.int64)
        if not 0.0 < masked_lm_prob < 1.0:
            raise ValueError(f"masked_lm_prob must be in (0, 1), got {masked_lm_prob!r}")
        if int(max_predictions_per_seq) < 1:
            raise ValueError(
                f"max_predictions_per_seq must be >= 1, got {max_predictions_per_seq!r}"
            )
        self.masked_lm_prob = float(masked_lm_prob)
        self.max_predictions_per_seq = int(max_predictions_per_seq)
        self.max_ngram = int(max_ngram)
        self.ngram_p = ngram_probabilities(self.max_ngram)
        if random_token_range is None:
            random_token_range = (int(self.special_ids.max()) + 1 if len(self.special_ids) else 0,
                                  vocab_size)
        low, high = (int(v) for v in random_token_range)
        if not 0 <= low < high <= vocab_size:
            raise ValueError(
                f"random_token_range must satisfy 0 <= low < high <= {vocab_size}, "
                f"got {random_token_range!r}"
            )
        self.random_token_range = (low, high)
        self.vocab_size = vocab_size


def choose_spans(token_ids, config, rng, input_mask=None):
    """Picks the whole-word n-gram spans to predict in one sequence.

    Args:
        token_ids: int [T] ids of one packed sequence.
        config: a `MaskingConfig`.
        rng: a `numpy.random.Generator`.
        input_mask: optional int/bool [T], 0 at padding.

    Returns:
        A list of (start, end, n_words) token spans, sorted by start.
    """
    token_ids = np.asarray(token_ids)
    maskable = ~np.isin(token_ids, config.special_ids)
    if input_mask is not None:
        maskable &= np.asarray(input_mask).astype(bool)
    words = _word_spans(maskable, config.start_pieces[np.clip(token_ids, 0, config.vocab_size - 1)])
    budget = num_to_predict(int(maskable.sum()), config.masked_lm_prob,
                            config.max_predictions_per_seq)
    if not words or budget == 0:
        return []
    word_len = np.array([end - start for start, end in words], dtype=np.int64)
    covered = np.zeros(len(words), dtype=np.int64)
    len_cum = np.concatenate([[0], np.cumsum(word_len)])
    # An n-gram is n adjacent words: never across [SEP] or another special token.
    gap = np.array([words[j + 1][0] != words[j][1] for j in range(len(words) - 1)], np.int64)
    gap_cum = np.concatenate([[0], np.cumsum(gap)])
    chosen = []
    used = 0
    ngrams = np.arange(1, config.max_ngram + 1)
    while used < budget:
        n = int(rng.choice(ngrams, p=config.ngram_p))
        picked = None
        for m in range(n, 0, -1):
            if m > len(words):
                continue
            cov_cum = np.concatenate([[0], np.cumsum(covered)])
            free = (cov_cum[m:] - cov_cum[:-m]) == 0
            fits = (len_cum[m:] - len_cum[:-m]) <= budget - used
            # Window j..j+m-1 crosses gaps j..j+m-2.
            fits &= (gap_cum[m - 1:] - gap_cum[:len(gap_cum) - m + 1]) == 0
            starts = np.flatnonzero(free & fits)
            if len(starts):
                picked = (int(rng.choice(starts)), m)
                break
        if picked is None:
            break
        first, m = picked
        covered[first:first + m] = 1
        start, end = words[first][0], words[first + m - 1][1]
        used += end - start
        chosen.append((start, end, m))
    return sorted(chosen)


def mask_tokens(token_ids, config, rng, input_mask=None):
    """Applies n-gram masking to one packed sequence.

    Args:
        token_ids: int [T] ids, e.g. `[CLS] A [SEP] B [SEP]` + padding.
        config: a `MaskingConfig`.
        rng: a `numpy.random.Generator` (the only source of randomness).
        input_mask: optional [T], 0 at padding (never predicted).

    Returns:
        (masked_ids [T], positions [K], labels [K], spans) where K <= P is
        the number of predicted tokens, positions ascend, labels are the
        original ids and spans is the `choose_spans` result.
    """
    token_ids = np.asarray(token_ids, dtype=np.int64)
    spans = choose_spans(token_ids, config, rng, input_mask)
    positions = np.array([i for start, end, _ in spans for i in range(start, end)], dtype=np.int64)
    labels = token_ids[positions]
    masked = token_ids.copy()
    low, high = config.random_token_range
    for position in positions:
        if rng.random() < 0.8:
            masked[position] = config.mask_id
        elif rng.random() < 0.5:
            masked[position] = rng.integers(low, high)
        # else: keep the original token (the remaining 10%).
    return masked, positions, labels, spans


def mask_batch(input_ids, input_mask, config, rng):
    """Masks a batch of packed sequences (the dynamic-masking path).

    Args:
        input_ids: int [B, T].
        input_mask: int [B, T], 1 at real tokens.
        config: a `MaskingConfig`.
        rng: a `numpy.random.Generator`.

    Returns:
        masked_ids int32 [B, T], masked_lm_positions int32 [B, P],
        masked_lm_ids int32 [B, P], masked_lm_weights float32 [B, P], with
        P = `config.max_predictions_per_seq`, padded with zeros.
    """
    input_ids = np.asarray(input_ids)
    batch, _ = input_ids.shape
    max_pred = config.max_predictions_per_seq
    masked_ids = np.array(input_ids, dtype=np.int32)
    positions = np.zeros((batch, max_pred), np.int32)
    labels = np.zeros((batch, max_pred), np.int32)
    weights = np.zeros((batch, max_pred), np.float32)
    for b in range(batch):
        ids, pos, lab, _ = mask_tokens(input_ids[b], config, rng, input_mask[b])
        masked_ids[b] = ids
        positions[b, :len(pos)] = pos
        labels[b, :len(pos)] = lab
        weights[b, :len(pos)] = 1.0
    return masked_ids, positions, labels, weights


def tf_mask_batch(config, seed):
    """A tf.data map function applying fresh n-gram masking to each batch.

    The returned function takes a dict holding `input_word_ids` and
    `input_mask` int32 [B, T] plus an int64 scalar `seed` (one per
    element, e.g. zipped from `tf.data.Dataset.random(seed,
    rerandomize_each_iteration=True)`, so every epoch draws new masks while
    a given run stays reproducible) and returns the dict with masked
    `input_word_ids` and `masked_lm_positions`, `masked_lm_ids` int32
    [B, P], `masked_lm_weights` float32 [B, P] added. It runs NumPy through
    `tf.numpy_function`: use it in tf.data, never inside an XLA step.

    Args:
        config: a `MaskingConfig`.
        seed: int mixed into each element's seed.
    """
    import tensorflow as tf

    max_pred = config.max_predictions_per_seq

    def _numpy_mask(ids, mask, element_seed):
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, int(element_seed) & 0xFFFFFFFFFFFF])
        return mask_batch(ids, mask, config, rng)

    def fn(features, element_seed):
        masked, positions, labels, weights = tf.numpy_function(
            _numpy_mask,
            [features["input_word_ids"], features["input_mask"], element_seed],
            [tf.int32, tf.int32, tf.int32, tf.float32],
            stateful=False,
        )
        batch_shape = features["input_word_ids"].shape
        masked.set_shape(batch_shape)
        for tensor in (positions, labels, weights):
            tensor.set_shape([batch_shape[0], max_pred])
        out = dict(features)
        out.update(
            input_word_ids=masked,
            masked_lm_positions=positions,
            masked_lm_ids=labels,
            masked_lm_weights=weights,
        )
        return out

    return fn
