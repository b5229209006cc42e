"""`AlbertConfig` and the preset table: the one place where shapes live.

Field names follow the original google-research/albert `albert_config.json`
(also used by Hugging Face), so those files load with `AlbertConfig.from_dict`.
"""

import dataclasses
import json

# Activation names accepted in `hidden_act`. ALBERT uses GELU in its tanh
# form; the original code calls that "gelu", Hugging Face "gelu_new".
# "gelu_exact" (erf) exists for converted models that really use it.
ACTIVATIONS = ("gelu_new", "gelu_exact", "relu", "tanh", "swish")
_ACTIVATION_ALIASES = {
    "gelu_tanh": "gelu_new",
    "gelu_pytorch_tanh": "gelu_new",
    "silu": "swish",
}


@dataclasses.dataclass(frozen=True)
class AlbertConfig:
    """Hyper-parameters of an ALBERT encoder.

    Args:
        vocab_size: V, number of SentencePiece ids.
        embedding_size: E, width of the factorized embeddings.
        hidden_size: H, width of the transformer layers.
        num_hidden_layers: L, number of layer applications.
        num_hidden_groups: G, number of distinct parameter groups; layer `l`
            uses group `int(l / L * G)` as in the original code, so G need
            not divide L (5 layers in 2 groups: 0, 0, 0, 1, 1).
        inner_group_num: transformer layers inside each group; each layer
            application runs all of them.
        num_attention_heads: N, heads per attention layer (H % N == 0).
        intermediate_size: I, width of the feed-forward layer.
        hidden_act: one of `ACTIVATIONS`; "gelu_new" is the tanh GELU of
            the original.
        hidden_dropout_prob: dropout after embeddings and sub-layers.
        attention_probs_dropout_prob: dropout on attention probabilities.
        max_position_embeddings: P, longest sequence.
        type_vocab_size: number of segment (type) ids.
        initializer_range: stddev of the truncated-normal initializer.
        layer_norm_eps: LayerNorm epsilon.
        always_project_embeddings: the original skips the E->H projection
            when E == H; Hugging Face and keras-hub always create it. True
            keeps it in that case (converted models that hold one).

    Example:
    >>> config = AlbertConfig.from_preset("albert_base_v2")
    >>> config.hidden_size, config.embedding_size
    (768, 128)
    """

    vocab_size: int = 30000
    embedding_size: int = 128
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_hidden_groups: int = 1
    inner_group_num: int = 1
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu_new"
    hidden_dropout_prob: float = 0.0
    attention_probs_dropout_prob: float = 0.0
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    always_project_embeddings: bool = False

    def __post_init__(self):
        positive = (
            "vocab_size", "embedding_size", "hidden_size", "num_hidden_layers",
            "num_hidden_groups", "inner_group_num", "num_attention_heads",
            "intermediate_size", "max_position_embeddings", "type_vocab_size",
        )
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"AlbertConfig.{name} must be a positive int, got {value!r}")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"hidden_size={self.hidden_size} is not divisible by "
                f"num_attention_heads={self.num_attention_heads}"
            )
        act = _ACTIVATION_ALIASES.get(self.hidden_act, self.hidden_act)
        if act not in ACTIVATIONS:
            raise ValueError(
                f"Unknown hidden_act {self.hidden_act!r}; expected one of {ACTIVATIONS}"
            )
        object.__setattr__(self, "hidden_act", act)
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"AlbertConfig.{name} must be in [0, 1), got {value!r}")
        if self.layer_norm_eps <= 0 or self.initializer_range <= 0:
            raise ValueError("layer_norm_eps and initializer_range must be positive")

    @property
    def head_size(self):
        return self.hidden_size // self.num_attention_heads

    @property
    def has_embedding_projection(self):
        return self.always_project_embeddings or self.embedding_size != self.hidden_size

    def group_of_layer(self, layer_index):
        """The parameter group that layer application `layer_index` uses.

        The original's float expression `int(l / L * G)` (modeling.py,
        transformer_model), kept float on purpose: G need not divide L, and
        where rounding puts a layer one group lower than `l * G // L` (e.g.
        L = G = 22, layer 15 -> group 14) the original's checkpoints were
        trained that way.

        Args:
            layer_index: int l in [0, L).

        Returns:
            int group index in [0, G).

        Example:
        >>> config = AlbertConfig(num_hidden_layers=5, num_hidden_groups=2)
        >>> [config.group_of_layer(l) for l in range(5)], config.used_groups
        ([0, 0, 0, 1, 1], (0, 1))
        """
        return int(layer_index / self.num_hidden_layers * self.num_hidden_groups)

    @property
    def used_groups(self):
        """Sorted group indices some layer uses; the original creates only these.

        All G groups unless G > L or float rounding skips one (see
        `group_of_layer`).
        """
        return tuple(sorted({self.group_of_layer(l) for l in range(self.num_hidden_layers)}))

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """Builds a config from a dict such as a loaded `albert_config.json`.

        Keys that are not fields (e.g. Hugging Face's `model_type`) are
        ignored. The original code's "gelu" is its tanh form, so a dict with
        `"hidden_act": "gelu"` and no Hugging Face marker maps to "gelu_new";
        a Hugging Face config (it has `model_type`) keeps "gelu" as erf.
        """
        fields = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in values.items() if k in fields}
        if kwargs.get("hidden_act") == "gelu":
            kwargs["hidden_act"] = "gelu_exact" if "model_type" in values else "gelu_new"
        return cls(**kwargs)

    @classmethod
    def from_json_file(cls, path):
        with open(path) as f:
            return cls.from_dict(json.load(f))

    @classmethod
    def from_preset(cls, name):
        """Returns the config of preset `name`; see `PRESETS` for the names."""
        if name not in PRESETS:
            raise ValueError(f"Unknown preset {name!r}; known presets: {sorted(PRESETS)}")
        return PRESETS[name]

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


def check_seq_length(seq_length, max_position_embeddings, where):
    """Fails when a packed length `seq_length` exceeds the model's positions.

    Call it where the length is set (a preprocessor, a task, a config, a
    command line), so that a too-long length fails there, naming the
    limit, and not later as a shape error inside the position embeddings.

    Args:
        seq_length: int T, the packed length (specials included).
        max_position_embeddings: int P, the model's position limit
            (`AlbertConfig.max_position_embeddings`).
        where: what set `seq_length` (e.g. "data.seq_length"), named in
            the error.

    Returns:
        `seq_length`.

    Raises:
        ValueError: `seq_length > max_position_embeddings`, or `seq_length`
            is not a positive int.

    Example:
    >>> check_seq_length(384, 512, "data.seq_length")
    384
    >>> check_seq_length(1024, 512, "data.seq_length")
    Traceback (most recent call last):
    ...
    ValueError: data.seq_length: seq_length=1024 exceeds max_position_embeddings=512 of the model; use at most 512
    """
    if isinstance(seq_length, bool) or not isinstance(seq_length, int) or seq_length < 1:
        raise ValueError(f"{where}: seq_length must be a positive int, got {seq_length!r}")
    if seq_length > max_position_embeddings:
        raise ValueError(
            f"{where}: seq_length={seq_length} exceeds max_position_embeddings={max_position_embeddings} "
            f"of the model; use at most {max_position_embeddings}"
        )
    return seq_length


def _published(hidden, layers, heads, intermediate, version):
    # v1 trained with dropout 0.1; v2 turned dropout off.
    dropout = 0.1 if version == 1 else 0.0
    return AlbertConfig(
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=intermediate,
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
    )


_SIZES = {
    "base": (768, 12, 12, 3072),
    "large": (1024, 24, 16, 4096),
    "xlarge": (2048, 24, 16, 8192),
    "xxlarge": (4096, 12, 64, 16384),
}

PRESETS = {
    f"albert_{size}_v{version}": _published(*dims, version)
    for size, dims in _SIZES.items()
    for version in (1, 2)
}
# Tiny shapes for tests and the CPU demo; the real 30k vocabulary fits them.
PRESETS["albert_tiny"] = AlbertConfig(
    embedding_size=32, hidden_size=64, num_hidden_layers=4,
    num_attention_heads=4, intermediate_size=128,
)
PRESETS["albert_tiny_grouped"] = PRESETS["albert_tiny"].replace(
    num_hidden_groups=2, inner_group_num=2
)
PRESETS["albert_tiny_unfactorized"] = PRESETS["albert_tiny"].replace(embedding_size=64)

# Chinese: BERT's 21,128-token WordPiece vocabulary (`AlbertWordPieceTokenizer`).
# Google's `albert_{size}_zh` releases (Dec 2019): the English shapes with
# ReLU ("We use RELU for Chinese version", google-research/albert#154), no
# dropout; xlarge initializes with 0.014, xxlarge has 16 heads and range
# 0.01 (their albert_config.json as republished with the converted weights,
# voidful/albert_chinese_xlarge and bert4torch's albert_chinese_xxlarge).
_ZH_SIZES = {
    "base": dict(),
    "large": dict(),
    "xlarge": dict(initializer_range=0.014),
    "xxlarge": dict(num_attention_heads=16, initializer_range=0.01),
}
PRESETS.update(
    (f"albert_{size}_zh", PRESETS[f"albert_{size}_v2"].replace(vocab_size=21128, hidden_act="relu", **changes))
    for size, changes in _ZH_SIZES.items()
)
# CLUE's albert_chinese_tiny / albert_chinese_small (Hugging Face config.json:
# "gelu", which Hugging Face runs as the exact erf GELU).
_ZH_COMMUNITY = dict(vocab_size=21128, hidden_act="gelu_exact", hidden_dropout_prob=0.0,
                     attention_probs_dropout_prob=0.0, layer_norm_eps=1e-12)
PRESETS["albert_tiny_zh"] = AlbertConfig(
    embedding_size=128, hidden_size=312, num_hidden_layers=4, num_attention_heads=12,
    intermediate_size=1248, **_ZH_COMMUNITY,
)
PRESETS["albert_small_zh"] = AlbertConfig(
    embedding_size=128, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
    intermediate_size=1536, **_ZH_COMMUNITY,
)
