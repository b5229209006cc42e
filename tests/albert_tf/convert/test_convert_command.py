"""`albert-tf convert` end to end, and the errors of corrupt or mismatched sources.

Every failing conversion must name the bad tensor (and expected vs found
shape) and leave no output directory behind.
"""

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

import albert_tf
from albert_tf import resources
from albert_tf.cli import main
from albert_tf.convert import ConversionError, from_huggingface, from_tf1_checkpoint
from tests.helpers.convert import compare, make_batch, make_hf_model, run_albert


@pytest.fixture(scope="module")
def hf_dir(tmp_path_factory):
    """A save_pretrained AlbertForPreTraining directory with a spiece.model beside the weights."""
    directory = tmp_path_factory.mktemp("hf") / "albert"
    hf = make_hf_model("albert_tiny", seed=31)
    hf.save_pretrained(directory)
    shutil.copy(resources.path("albert-30k-clean.model"), directory / "spiece.model")
    return directory


def edited_copy(hf_dir, tmp_path, edit):
    """A copy of `hf_dir` whose tensors went through `edit(dict) -> dict`."""
    from safetensors.numpy import load_file, save_file

    directory = tmp_path / "edited"
    shutil.copytree(hf_dir, directory)
    tensors = edit(load_file(str(directory / "model.safetensors")))
    save_file(tensors, str(directory / "model.safetensors"))
    return directory


def cli_convert(capsys, *args):
    code = main(["convert", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_cli_huggingface_writes_loadable_model_and_spiece(hf_dir, tmp_path, capsys):
    out = tmp_path / "converted"
    code, text = cli_convert(capsys, "--from", "huggingface", hf_dir, "--output-dir", out)
    assert code == 0, text
    assert "AlbertPretrainer" in text
    assert (out / "spiece.model").read_bytes() == resources.path("albert-30k-clean.model").read_bytes()
    loaded = albert_tf.load(out)
    batch = make_batch(loaded.backbone.config.vocab_size, seed=32)
    expected = run_albert(from_huggingface(hf_dir), batch)
    got = run_albert(loaded, batch)
    compare("CLI HF -> load", got, expected, ("mlm_logits", "sop_logits"))
    # A second run refuses to overwrite.
    code, text = cli_convert(capsys, "--from", "huggingface", hf_dir, "--output-dir", out)
    assert code == 2 and "already exists" in text


def test_cli_backbone_task(hf_dir, tmp_path, capsys):
    out = tmp_path / "backbone"
    with pytest.warns(UserWarning, match="dropping head tensors"):
        code, text = cli_convert(capsys, "--from", "huggingface", hf_dir, "--output-dir", out, "--task", "backbone")
    assert code == 0, text
    assert isinstance(albert_tf.load(out), albert_tf.AlbertBackbone)
    assert "dropped head tensors" in text


WRONG_SHAPE = "albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight"


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: {**t, WRONG_SHAPE: t[WRONG_SHAPE][:, :32].copy()},
         f"tensor '{WRONG_SHAPE}': expected shape (64, 64), found (64, 32)"),
        (lambda t: {k: v for k, v in t.items() if k != "albert.pooler.bias"},
         "missing 1 tensor(s) the model needs: ['albert.pooler.bias']"),
        (lambda t: {**t, "albert.pooler.bias": t["albert.pooler.bias"].astype(np.int32)},
         "tensor 'albert.pooler.bias': expected a floating-point dtype, found"),
        (lambda t: {**t, "albert.pooler.bias": np.full_like(t["albert.pooler.bias"], np.nan)},
         "tensor 'albert.pooler.bias' holds NaN"),
        (lambda t: {**t, "bert.extra.weight": np.zeros(3, np.float32)},
         "holds 1 tensor(s) that no albert_tf model holds: ['bert.extra.weight']"),
    ],
    ids=["wrong_shape", "missing", "wrong_dtype", "nan", "unused"],
)
def test_bad_huggingface_sources_fail_before_writing(hf_dir, tmp_path, capsys, edit, message):
    source = edited_copy(hf_dir, tmp_path, edit)
    out = tmp_path / "never"
    code, text = cli_convert(capsys, "--from", "huggingface", source, "--output-dir", out)
    assert code == 1
    assert message in text
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["edited"]  # no staging leftovers
    with pytest.raises(ConversionError) as error:
        from_huggingface(source)
    assert message in str(error.value)


def test_unused_tensors_allowed_with_flag(hf_dir, tmp_path, capsys):
    source = edited_copy(hf_dir, tmp_path, lambda t: {**t, "bert.extra.weight": np.zeros(3, np.float32)})
    with pytest.warns(UserWarning, match="bert.extra.weight"):
        from_huggingface(source, allow_unused=True)
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match="bert.extra.weight"):
        code, text = cli_convert(capsys, "--from", "huggingface", source, "--output-dir", out, "--allow-unused")
    assert code == 0 and out.is_dir() and "UNUSED tensors" in text


def test_corrupt_safetensors_file(hf_dir, tmp_path, capsys):
    source = tmp_path / "corrupt"
    shutil.copytree(hf_dir, source)
    data = (source / "model.safetensors").read_bytes()
    (source / "model.safetensors").write_bytes(data[: len(data) // 2])
    out = tmp_path / "never"
    code, text = cli_convert(capsys, "--from", "huggingface", source, "--output-dir", out)
    assert code == 1 and "model.safetensors" in text
    assert not out.exists()


def _write_tf1(directory, tensors):
    directory.mkdir(parents=True)
    names = sorted(tensors)
    tf.raw_ops.SaveV2(prefix=str(directory / "model.ckpt"), tensor_names=names,
                      shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(tensors[n]) for n in names])
    return directory / "model.ckpt"


def _tf1_tensors(config):
    """Tensors of a GR backbone checkpoint with the right shapes (values irrelevant here)."""
    rng = np.random.default_rng(0)
    e, h, i = config.embedding_size, config.hidden_size, config.intermediate_size
    shapes = {
        "bert/embeddings/word_embeddings": (config.vocab_size, e),
        "bert/embeddings/position_embeddings": (config.max_position_embeddings, e),
        "bert/embeddings/token_type_embeddings": (2, e),
        "bert/embeddings/LayerNorm/gamma": (e,), "bert/embeddings/LayerNorm/beta": (e,),
        "bert/encoder/embedding_hidden_mapping_in/kernel": (e, h),
        "bert/encoder/embedding_hidden_mapping_in/bias": (h,),
        "bert/pooler/dense/kernel": (h, h), "bert/pooler/dense/bias": (h,),
    }
    g = "bert/encoder/transformer/group_0/inner_group_0/"
    for name in ("attention_1/self/query", "attention_1/self/key", "attention_1/self/value",
                 "attention_1/output/dense"):
        shapes[g + name + "/kernel"], shapes[g + name + "/bias"] = (h, h), (h,)
    shapes[g + "ffn_1/intermediate/dense/kernel"], shapes[g + "ffn_1/intermediate/dense/bias"] = (h, i), (i,)
    shapes[g + "ffn_1/intermediate/output/dense/kernel"] = (i, h)
    shapes[g + "ffn_1/intermediate/output/dense/bias"] = (h,)
    for norm in ("LayerNorm", "LayerNorm_1"):
        shapes[g + norm + "/gamma"], shapes[g + norm + "/beta"] = (h,), (h,)
    return {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}


def test_tf1_errors_name_the_tensor(tmp_path, capsys):
    config = albert_tf.PRESETS["albert_tiny"]
    (tmp_path / "albert_config.json").write_text(json.dumps(config.to_dict()))
    good = _tf1_tensors(config)
    assert isinstance(from_tf1_checkpoint(_write_tf1(tmp_path / "good", good), config=config),
                      albert_tf.AlbertBackbone)

    bad = dict(good)
    bad["bert/pooler/dense/kernel"] = np.zeros((64, 65), np.float32)
    prefix = _write_tf1(tmp_path / "shape", bad)
    out = tmp_path / "never"
    code, text = cli_convert(capsys, "--from", "tf1-checkpoint", prefix, "--output-dir", out,
                             "--config", tmp_path / "albert_config.json")
    assert code == 1 and "tensor 'bert/pooler/dense/kernel': expected shape (64, 64), found (64, 65)" in text
    assert not out.exists()

    missing = {k: v for k, v in good.items() if "LayerNorm_1/beta" not in k}
    with pytest.raises(ConversionError, match="inner_group_0/LayerNorm_1/beta"):
        from_tf1_checkpoint(_write_tf1(tmp_path / "missing", missing), config=config)

    # Corrupt data file: the index still parses, reading the values fails.
    prefix = _write_tf1(tmp_path / "corrupt", good)
    data = next((tmp_path / "corrupt").glob("model.ckpt.data-*"))
    data.write_bytes(b"\0" * data.stat().st_size)
    with pytest.raises(ConversionError, match="cannot read tensor 'bert/"):
        from_tf1_checkpoint(prefix, config=config)
    # Unreadable index: not a checkpoint at all.
    (tmp_path / "corrupt" / "model.ckpt.index").write_bytes(b"garbage")
    with pytest.raises(ConversionError, match="cannot read TF1 checkpoint"):
        from_tf1_checkpoint(prefix, config=config)
    with pytest.raises(ConversionError, match="no TF1 checkpoint"):
        from_tf1_checkpoint(tmp_path / "nowhere", config=config)
