"""Optional experiment tracking in MLflow, with a local file store in the run folder by default."""

from __future__ import annotations

import os
from pathlib import Path

from ..config import HeartzooConfig
from ..errors import ConfigError


def _flatten(d: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, f"{key}."))
        else:
            out[key] = str(v)[:500]
    return out


#: what each `logging` switch needs installed: the module, and the extra of heartzoo that installs it
TRACKERS = {"tensorboard": ("tensorboard", "TensorBoard"), "mlflow": ("mlflow", "MLflow")}


def check_trackers(config: HeartzooConfig) -> None:
    """An error naming the field where `logging` asks for a tracker that is not installed: before the run,
    not after its first stage (TensorFlow no longer brings TensorBoard along)."""
    import importlib.util

    for field, (module, _) in TRACKERS.items():
        if getattr(config.logging, field) and importlib.util.find_spec(module) is None:
            raise _not_installed(config, field)


def _not_installed(config: HeartzooConfig, field: str) -> ConfigError:
    return ConfigError(
        f"{config.where}: field 'logging.{field}' is true but {TRACKERS[field][1]} is not installed; install "
        f"it with: pip install 'heartzoo[{field}]'"
    )


def mlflow_callback(config: HeartzooConfig, run_dir: Path):
    """A Keras callback logging the config as parameters and every epoch's logs as metrics."""
    try:
        import mlflow
    except ImportError:
        raise _not_installed(config, "mlflow") from None
    import keras

    uri = config.logging.mlflow_tracking_uri
    if uri is None:
        # A local file store needs no server. MLflow 3 keeps it in maintenance mode and asks for this
        # opt-in; pass a database or server URI in logging.mlflow_tracking_uri to use one instead.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        uri = (Path(run_dir).resolve() / "mlruns").as_uri()

    class MLflowLogger(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            mlflow.set_tracking_uri(uri)
            mlflow.set_experiment(f"heartzoo-{config.task}")
            self.run = mlflow.start_run(run_name=config.name)
            mlflow.log_params(_flatten(config.model_dump(mode="json")))

        def on_epoch_end(self, epoch, logs=None):
            mlflow.log_metrics({k: float(v) for k, v in (logs or {}).items()}, step=epoch)

        def on_train_end(self, logs=None):
            mlflow.end_run()

    return MLflowLogger()
