"""Model versions on disk -> loaded, served, unloaded: TF Serving's lifecycle.

For each configured model the manager polls `<base_path>/<int version>/`,
applies the version policy (latest N, all, specific), and:

1. loads every newly aspired version fully (SavedModel + warmup requests)
   while the current versions keep serving (state LOADING);
2. swaps it in (AVAILABLE): new "latest" requests go to it at once;
3. only then retires versions the policy no longer wants (UNLOADING), and
   drops each one after its last in-flight request has finished (END).

A version whose load fails ends in END with its error in the status, and the
versions already serving stay (availability first, like TF Serving's
availability-preserving policy). Version directories should appear
atomically (write `<base>/.tmp-3`, then rename to `<base>/3`); names that are
not integers are ignored.
"""

import contextlib
import logging
import os
import threading
import time

from . import errors
from .servable import LoadedVersion

log = logging.getLogger("serving.server")

# ModelVersionStatus.State values.
START, LOADING, AVAILABLE, UNLOADING, END = 10, 20, 30, 40, 50


class VersionRecord:
    """What the status API reports for one version (kept after END, like TF Serving)."""

    def __init__(self, version):
        self.version = version
        self.state = START
        self.error_code = 0
        self.error_message = ""
        self.servable = None


class _Model:
    def __init__(self, config):
        self.config = config
        self.records = {}  # version -> VersionRecord
        self.removed = False  # dropped from the config: unload everything

    @property
    def name(self):
        return self.config.name

    def serving(self):
        return {v: r for v, r in self.records.items() if r.state == AVAILABLE}


def list_versions(base_path):
    """Integer-named version directories that contain a SavedModel."""
    try:
        names = os.listdir(base_path)
    except FileNotFoundError:
        return []
    versions = []
    for name in names:
        if not name.isdigit():
            continue
        path = os.path.join(base_path, name)
        if os.path.exists(os.path.join(path, "saved_model.pb")) or os.path.exists(
            os.path.join(path, "saved_model.pbtxt")
        ):
            versions.append(int(name))
    return sorted(versions)


def aspired_versions(policy, on_disk):
    """The versions the `ServableVersionPolicy` wants among those on disk."""
    choice = policy.WhichOneof("policy_choice")
    if choice == "all":
        return set(on_disk)
    if choice == "specific":
        return set(on_disk) & set(policy.specific.versions)
    keep = policy.latest.num_versions if choice == "latest" and policy.latest.num_versions else 1
    return set(sorted(on_disk)[-keep:]) if on_disk else set()


class ModelManager:
    """Loads and serves the models of a `ModelServerConfig`.

    Args:
        config: `ModelServerConfig` (validated, see `config.py`).
        poll_interval_s: seconds between file-system polls (0 = never poll
            in the background; call `poll()` yourself).
        warmup: callable(LoadedVersion, list of serialized PredictionLog) run
            after a version loads and before it serves.
        allow_unavailable_labels: --allow_version_labels_for_unavailable_models:
            a new label may name a version that is not AVAILABLE yet (moving
            an existing label still needs an AVAILABLE version).
    """

    def __init__(self, config, poll_interval_s=1.0, warmup=None, allow_unavailable_labels=False):
        self._lock = threading.RLock()
        self._labels = {}  # model name -> {label: version}, replaced only when valid (server_core.cc)
        self._allow_unavailable_labels = allow_unavailable_labels
        self._poll_lock = threading.Lock()
        self._models = {}
        self._warmup = warmup
        self.poll_interval_s = poll_interval_s
        self._stop = threading.Event()
        self._thread = None
        self._drainers = []
        self._apply_config(config)

    # Configuration.

    def _apply_config(self, config):
        with self._lock:
            wanted = {c.name: c for c in config.model_config_list.config}
            for name in list(self._models):
                if name not in wanted:
                    self._models[name].removed = True
            for name, model_config in wanted.items():
                model = self._models.get(name)
                if model is None:
                    self._models[name] = _Model(model_config)
                else:
                    model.config = model_config
                    model.removed = False

    def reload_config(self, config):
        """Applies a new `ModelServerConfig`, polls once, then updates the labels (as ServerCore::ReloadConfig).

        Raises:
            ServingError: FAILED_PRECONDITION when a label names a version that
                is not AVAILABLE (the previous labels stay).
        """
        self._apply_config(config)
        self.poll()
        self._update_labels()

    def _update_labels(self):
        """ServerCore::UpdateModelVersionLabelMap."""
        with self._lock:
            new_labels = {}
            for model in self._models.values():
                if model.removed:
                    continue
                for label, version in model.config.version_labels.items():
                    existing = self._labels.get(model.name, {}).get(label)
                    allowed = self._allow_unavailable_labels and existing in (None, version)
                    record = model.records.get(version)
                    if not allowed and (record is None or record.state != AVAILABLE):
                        raise errors.failed_precondition(
                            f"Request to assign label to version {version} of model {model.name}, "
                            "which is not currently available for inference")
                    new_labels.setdefault(model.name, {})[label] = version
            self._labels = new_labels

    def model_names(self):
        with self._lock:
            return [name for name, m in self._models.items() if not m.removed]

    # Polling.

    def start(self):
        """Polls once (blocking until the first versions load), sets the labels, then keeps polling.

        Raises:
            ServingError: FAILED_PRECONDITION for a label on a version that did not load.
        """
        self.poll()
        self._update_labels()
        if self.poll_interval_s and self._thread is None:
            self._thread = threading.Thread(target=self._poll_loop, name="model-poller", daemon=True)
            self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _poll_loop(self):
        while not self._stop.wait(self.poll_interval_s):
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - the poller must survive a bad version
                log.exception("Polling the model base paths failed")

    def poll(self):
        """One pass: load new aspired versions, then retire unwanted ones."""
        with self._poll_lock:
            with self._lock:
                models = list(self._models.values())
            for model in models:
                self._poll_model(model)
            with self._lock:
                for name in [n for n, m in self._models.items()
                             if m.removed and not m.serving()
                             and all(r.state == END for r in m.records.values())]:
                    del self._models[name]

    def _poll_model(self, model):
        if model.removed:
            aspired = set()
        else:
            on_disk = list_versions(model.config.base_path)
            aspired = aspired_versions(model.config.model_version_policy, on_disk)
        for version in sorted(aspired):
            record = model.records.get(version)
            if record is not None and record.state != END:
                continue
            if record is not None and record.error_code:
                continue  # failed before: TF Serving does not retry a failed version
            self._load(model, version)
        with self._lock:
            aspired_available = any(
                model.records[v].state == AVAILABLE for v in aspired if v in model.records
            )
            retire = [
                r for v, r in model.records.items()
                if r.state == AVAILABLE and v not in aspired and (aspired_available or not aspired)
            ]
            for record in retire:
                record.state = UNLOADING  # no new request gets it from now on
        for record in retire:
            self._drain_and_unload(model, record)

    def _load(self, model, version):
        record = VersionRecord(version)
        with self._lock:
            model.records[version] = record
            record.state = LOADING
        path = os.path.join(model.config.base_path, str(version))
        servable = LoadedVersion(model.name, version, path)
        started = time.monotonic()
        try:
            servable.load()
            if self._warmup is not None:
                self._warmup(servable, servable.warmup_records())
        except Exception as e:  # noqa: BLE001 - any load failure is reported in the status
            code = e.code.value[0] if isinstance(e, errors.ServingError) else 9  # FAILED_PRECONDITION
            log.error("Loading %s version %d failed: %s", model.name, version, e)
            with self._lock:
                record.state = END
                record.error_code = code
                record.error_message = f"Loading servable {model.name} version {version} failed: {e}"
            return
        with self._lock:
            record.servable = servable
            record.state = AVAILABLE
        log.info("Loaded %s version %d in %.1fs", model.name, version, time.monotonic() - started)

    def _drain_and_unload(self, model, record):
        def drain():
            record.servable.wait_idle()
            record.servable.unload()
            with self._lock:
                record.servable = None
                record.state = END
            log.info("Unloaded %s version %d", model.name, record.version)

        thread = threading.Thread(target=drain, name=f"unload-{model.name}-{record.version}", daemon=True)
        thread.start()
        self._drainers.append(thread)

    def wait_for_unloads(self, timeout=30):
        for thread in list(self._drainers):
            thread.join(timeout)

    # Requests.

    def resolve(self, model_spec):
        """(model, version) for a ModelSpec, with TF Serving's errors."""
        name = model_spec.name
        if not name:
            raise errors.invalid_argument("ModelSpec has no name specified.")
        with self._lock:
            model = self._models.get(name)
            if model is not None and model.removed:
                model = None
            choice = model_spec.WhichOneof("version_choice")
            if choice == "version":
                version = model_spec.version.value
                request = f"Specific({name}, {version})"
            elif choice == "version_label":
                label = model_spec.version_label
                labels = self._labels.get(name, {}) if model is not None else {}
                if label not in labels:
                    raise errors.invalid_argument(f"Unrecognized servable version label: {label}")
                version = labels[label]
                request = f"Specific({name}, {version})"
            else:
                version = None
                request = f"Latest({name})"
            serving = model.serving() if model is not None else {}
            if version is None and serving:
                version = max(serving)
            if version not in serving:
                raise errors.not_found(f"Servable not found for request: {request}")
            return model, serving[version]

    @contextlib.contextmanager
    def handle(self, model_spec):
        """Context manager yielding the `LoadedVersion` for a request; counts it in flight."""
        with self._lock:
            _, record = self.resolve(model_spec)
            servable = record.servable
            servable.acquire()
        try:
            yield servable
        finally:
            servable.release()

    def status(self, name, version=None):
        """[(version, state, error_code, error_message)], newest first, as GetModelStatus."""
        with self._lock:
            model = self._models.get(name)
            records = {} if model is None else dict(model.records)
        if version is not None:
            if version not in records:
                raise errors.not_found(f"Could not find version {version} of model {name}")
            records = {version: records[version]}
        if not records:
            raise errors.not_found(f"Could not find any versions of model {name}")
        return [
            (r.version, r.state, r.error_code, r.error_message)
            for r in sorted(records.values(), key=lambda r: -r.version)
        ]

    def wait_until_available(self, timeout=60.0):
        """Blocks until every configured model serves a version; returns False on timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if all(m.serving() for m in self._models.values()):
                    return True
            time.sleep(0.05)
        return False
