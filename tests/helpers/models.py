"""Model inputs for tests."""

import numpy as np


def random_batch(config, batch_size=3, seq_length=9, seed=0):
    """Packed-looking int32 inputs with padding: row i has seq_length - 2*i real tokens."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, config.vocab_size, size=(batch_size, seq_length)).astype("int32")
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row in range(batch_size):
        length = max(3, seq_length - 2 * row)
        mask[row, :length] = 1
        types[row, length // 2 : length] = 1
    ids[:, 0] = 2
    ids = np.where(mask == 1, ids, 0).astype("int32")
    return {"input_word_ids": ids, "input_mask": mask, "input_type_ids": types}
