"""Handles resolve to local checkpoint directories, through caches that never
hold anything half-written. No test touches the network: URLs are served on
127.0.0.1, hub caches are filled by the test, and hub libraries run offline.
"""

import hashlib
import io
import os
import pathlib
import tarfile
import zipfile

import pytest

from albert_tf import handles
from tests.helpers.hub import (
    fill_huggingface_cache,
    fill_kagglehub_cache,
    serve_directory,
    write_google_tarball,
)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    for name in ("ALBERT_TF_OFFLINE", "HF_HUB_OFFLINE", "ALBERT_TF_CACHE", "TFHUB_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def _cached_files(cache):
    """Every file under `cache`: what a later call could find and trust."""
    return sorted(str(p.relative_to(cache)) for p in pathlib.Path(cache).rglob("*") if p.is_file())


def test_default_cache_dir_follows_xdg_then_albert_tf_cache(monkeypatch, tmp_path):
    assert handles.default_cache_dir() == tmp_path / "xdg" / "albert_tf"
    monkeypatch.setenv("ALBERT_TF_CACHE", str(tmp_path / "mine"))
    assert handles.default_cache_dir() == tmp_path / "mine"


def test_release_tarball_is_downloaded_once_and_then_read_offline(monkeypatch, tmp_path):
    write_google_tarball(tmp_path / "site" / "albert_tiny.tar.gz")
    cache = tmp_path / "cache"
    with serve_directory(tmp_path / "site") as site:
        url = site.url("albert_tiny.tar.gz")
        local = handles.resolve(url, cache_dir=cache)
        assert local.name == "albert_tiny" and local.parent.parent == cache / "downloads"
        assert handles.detect_format(local) == "tf1_checkpoint"
        assert (local / "model.ckpt-best.data-00000-of-00001").read_bytes() == b"\0" * 4096
        # The default cache comes from the environment.
        monkeypatch.setenv("ALBERT_TF_CACHE", str(cache))
        monkeypatch.setenv("ALBERT_TF_OFFLINE", "1")
        assert handles.resolve(url) == local
        assert site.requests == ["/albert_tiny.tar.gz"]
    assert not any(p.name.startswith(".") for p in (cache / "downloads").iterdir())


@pytest.mark.parametrize("failure", ["truncated", "wrong_sha256", "http_404", "http_500", "not_an_archive"])
def test_failed_download_raises_and_caches_nothing(tmp_path, failure):
    tarball = write_google_tarball(tmp_path / "site" / "albert_tiny.tar.gz")
    if failure == "not_an_archive":
        tarball.write_bytes(b"<html>a login page</html>")
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    options = {"truncated": dict(truncate={tarball.name: 100}), "http_404": dict(fail={tarball.name: 404}),
               "http_500": dict(fail={tarball.name: 500})}
    with serve_directory(tarball.parent, **options.get(failure, {})) as site:
        url = site.url(tarball.name)
        sha256 = "0" * 64 if failure == "wrong_sha256" else None
        error = ValueError if failure == "not_an_archive" else handles.DownloadError
        with pytest.raises(error) as raised:
            handles.resolve(url, cache_dir=cache, sha256=sha256)
    message = str(raised.value)
    assert url in message
    expected_words = {"truncated": f"got 100 bytes, the server announced {tarball.stat().st_size}",
                      "wrong_sha256": f"expected {'0' * 64}, got {digest}",
                      "http_404": "HTTP 404",
                      "http_500": "HTTP 500",
                      "not_an_archive": "neither a tar nor a zip archive"}[failure]
    assert expected_words in message
    assert _cached_files(cache) == []
    if failure != "not_an_archive":
        # A later call, on a sound connection, downloads afresh.
        with serve_directory(tarball.parent) as site:
            assert handles.detect_format(handles.resolve(site.url(tarball.name), cache_dir=cache, sha256=digest)) \
                == "tf1_checkpoint"


def test_offline_with_an_empty_cache_names_the_handle_cache_and_ways_out(monkeypatch, tmp_path):
    monkeypatch.setenv("ALBERT_TF_OFFLINE", "1")
    url = "https://storage.googleapis.com/albert_models/albert_base_v2.tar.gz"
    with pytest.raises(handles.OfflineError) as raised:
        handles.resolve(url, cache_dir=tmp_path / "cache")
    message = str(raised.value)
    for words in (url, str(tmp_path / "cache" / "downloads" / "albert_base_v2-"), "ALBERT_TF_OFFLINE",
                  "local directory or archive", "load_weights=False"):
        assert words in message
    assert not (tmp_path / "cache").exists()


def test_tfhub_handle_uses_tensorflow_hub_cache_key(monkeypatch, tmp_path):
    handle = "https://tfhub.dev/tensorflow/albert_en_base/3"
    module = tmp_path / "tfhub_modules" / hashlib.sha1(handle.encode()).hexdigest()
    (module / "variables").mkdir(parents=True)
    (module / "saved_model.pb").write_bytes(b"")
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub_modules"))
    monkeypatch.setenv("ALBERT_TF_OFFLINE", "1")
    assert handles.resolve(handle) == module
    assert handles.detect_format(module) == "tfhub_saved_model"
    # Not in tensorflow_hub's cache: ours, under the same key.
    other = "https://www.kaggle.com/models/tensorflow/albert/TensorFlow2/en-base/3"
    with pytest.raises(handles.OfflineError, match=hashlib.sha1(other.encode()).hexdigest()):
        handles.resolve(other, cache_dir=tmp_path / "cache")


def test_huggingface_handle_resolves_through_its_cache_offline(monkeypatch, tmp_path):
    import huggingface_hub

    from tests.helpers.convert import make_hf_model

    make_hf_model("albert_tiny", "AlbertModel").save_pretrained(tmp_path / "pretrained")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    snapshot = fill_huggingface_cache(tmp_path / "hf", "albert/albert-tiny", tmp_path / "pretrained")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    local = handles.resolve("hf://albert/albert-tiny")
    assert local == snapshot and handles.detect_format(local) == "huggingface"
    with pytest.raises(handles.OfflineError) as raised:
        handles.resolve("hf://albert/albert-tiny@v2")
    assert "hf://albert/albert-tiny@v2" in str(raised.value) and str(tmp_path / "hf") in str(raised.value)


def test_kaggle_handle_resolves_through_kagglehub_cache_offline(monkeypatch, tmp_path):
    preset = tmp_path / "preset"
    preset.mkdir()
    for name in ("config.json", "metadata.json", "model.weights.h5", "tokenizer.json"):
        (preset / name).write_bytes(b"{}")
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kaggle"))
    model_dir = fill_kagglehub_cache(tmp_path / "kaggle", "keras/albert/keras/albert_tiny/2", preset)
    monkeypatch.setenv("ALBERT_TF_OFFLINE", "1")
    local = handles.resolve("kaggle://keras/albert/keras/albert_tiny/2")
    assert local == model_dir and handles.detect_format(local) == "keras_hub_preset"
    with pytest.raises(handles.OfflineError, match="needs its version"):
        handles.resolve("kaggle://keras/albert/keras/albert_tiny")
    with pytest.raises(handles.OfflineError, match="kaggle://keras/albert/keras/albert_tiny/3"):
        handles.resolve("kaggle://keras/albert/keras/albert_tiny/3")


def test_local_archives_are_extracted_once_and_checked(tmp_path):
    tarball = write_google_tarball(tmp_path / "albert_tiny.tar.gz")
    cache = tmp_path / "cache"
    local = handles.resolve(tarball, cache_dir=cache)
    assert handles.detect_format(local) == "tf1_checkpoint"
    assert handles.resolve(str(tarball), cache_dir=cache) == local
    zipped = tmp_path / "hf.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("model.safetensors", "")
    assert handles.detect_format(handles.resolve(zipped, cache_dir=cache)) == "huggingface"
    with pytest.raises(handles.DownloadError, match="expected " + "f" * 64):
        handles.resolve(tarball, cache_dir=tmp_path / "other", sha256="f" * 64)
    assert not (tmp_path / "other").exists()


def test_truncated_local_archive_fails_and_caches_nothing(tmp_path):
    tarball = write_google_tarball(tmp_path / "albert_tiny.tar.gz")
    tarball.write_bytes(tarball.read_bytes()[:-200])
    with pytest.raises(ValueError, match=r"cannot extract .*albert_tiny\.tar\.gz"):
        handles.resolve(tarball, cache_dir=tmp_path / "cache")
    assert _cached_files(tmp_path / "cache") == []


@pytest.mark.parametrize("kind", ["tar", "zip", "tar_symlink"])
def test_archive_members_outside_the_root_are_refused(tmp_path, kind):
    if kind == "zip":
        archive = tmp_path / "evil.zip"
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("albert/config.json", "{}")
            zipped.writestr("../escaped.txt", "gotcha")
    else:
        archive = tmp_path / "evil.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            member = tarfile.TarInfo("../escaped.txt" if kind == "tar" else "albert/link")
            if kind == "tar_symlink":
                member.type, member.linkname = tarfile.SYMTYPE, "../../../escaped.txt"
                tar.addfile(member)
            else:
                member.size = 6
                tar.addfile(member, io.BytesIO(b"gotcha"))
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match=r"cannot extract .*evil"):
        handles.resolve(archive, cache_dir=cache)
    assert not list(tmp_path.rglob("escaped.txt"))
    assert _cached_files(cache) == []


@pytest.mark.parametrize("files, expected", [
    (["model.keras", "spiece.model", "tokenizer.json"], "albert_tf"),
    (["config.json", "metadata.json", "model.weights.h5", "tokenizer.json"], "keras_hub_preset"),
    (["config.json", "pytorch_model.bin", "spiece.model"], "huggingface"),
    (["albert_config.json", "model.ckpt-best.index", "model.ckpt-best.data-00000-of-00001"], "tf1_checkpoint"),
    (["saved_model.pb", "variables/"], "tfhub_saved_model"),
])
def test_detect_format_by_files(tmp_path, files, expected):
    for name in files:
        if name.endswith("/"):
            (tmp_path / name).mkdir()
        else:
            (tmp_path / name).write_bytes(b"")
    assert handles.detect_format(tmp_path) == expected


def test_wrong_layout_lists_every_format_and_the_files_found(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "weights.npz").write_bytes(b"")
    with pytest.raises(ValueError) as raised:
        handles.detect_format(tmp_path)
    message = str(raised.value)
    for name, _ in handles.FORMATS:
        assert f"{name}: " in message
    assert "albert_config.json + *.ckpt*.index" in message
    assert "Found: config.json, weights.npz" in message


@pytest.mark.parametrize("handle, words", [
    ("s3://bucket/albert.tar.gz", "unknown handle scheme 's3'"),
    ("hf://albert-base-v2", "hf://owner/name[@revision]"),
    ("kaggle://keras/albert", "kaggle://owner/model/framework/variation[/version]"),
    ("https://example.com/albert/", "neither a TF Hub module"),
    ("no/such/dir", "no such local directory or archive"),
])
def test_bad_handles_name_the_kinds(handle, words):
    with pytest.raises((ValueError, FileNotFoundError)) as raised:
        handles.resolve(handle)
    assert words in str(raised.value)
    if words != "hf://owner/name[@revision]" and "kaggle" not in words:
        assert "hf://albert/albert-base-v2" in str(raised.value) and "kaggle://" in str(raised.value)


def test_sha256_is_refused_where_there_is_no_archive(tmp_path):
    for handle in ("hf://albert/albert-base-v2", "kaggle://keras/albert/keras/albert_tiny/2", str(tmp_path)):
        with pytest.raises(ValueError, match="sha256= checks an archive"):
            handles.resolve(handle, sha256="0" * 64)


def test_download_command_prints_path_and_format(tmp_path, capsys):
    from albert_tf import cli

    write_google_tarball(tmp_path / "site" / "albert_tiny.tar.gz")
    with serve_directory(tmp_path / "site") as site:
        assert cli.main(["download", site.url("albert_tiny.tar.gz"), "--cache-dir", str(tmp_path / "cache")]) == 0
    out, err = capsys.readouterr()
    local = pathlib.Path(out.strip())
    assert local.parent.parent == tmp_path / "cache" / "downloads" and local.name == "albert_tiny"
    assert "format: tf1_checkpoint" in err
    assert os.listdir(local)


@pytest.mark.parametrize("handle, url", [
    ("https://tfhub.dev/tensorflow/albert_en_base/3",
     "https://tfhub.dev/tensorflow/albert_en_base/3?tf-hub-format=compressed"),
    ("https://www.kaggle.com/models/tensorflow/albert/TensorFlow2/en-base/3?x=1",
     "https://www.kaggle.com/models/tensorflow/albert/TensorFlow2/en-base/3?x=1&tf-hub-format=compressed"),
    ("https://hub.tensorflow.google.cn/google/albert_base/3",
     "https://gcs.tensorflow.google.cn/tfhub-modules/google/albert_base/3.tar.gz"),
])
def test_tfhub_handles_fetch_the_tarball_tensorflow_hub_fetches(handle, url):
    assert handles._tfhub_tarball_url(handle) == url
