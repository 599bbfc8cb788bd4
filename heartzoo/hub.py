"""Using the zoo from Python: list, download (pooch, sha256 from the index, resumable), load, predict.

In the manner of timm's pretrained configs and torchvision's weights metadata: a loaded model carries
its configuration, and `predict` applies exactly the preprocessing the model was trained with.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DownloadError, HeartzooError

ZOO_URL_ENV = "HEARTZOO_ZOO_URL"
#: The project publishes its zoo as the zoo/ folder of its repository.
REPO_ZOO = Path(__file__).resolve().parents[1] / "zoo"


def zoo_url(explicit: str | None = None) -> str:
    """The zoo to download from: the argument, `$HEARTZOO_ZOO_URL`, else the repository's own zoo/."""
    url = explicit or os.environ.get(ZOO_URL_ENV)
    if url is None:
        if not (REPO_ZOO / "index.json").is_file():
            raise DownloadError(
                f"no zoo to download from: pass --base-url or set {ZOO_URL_ENV} "
                f"(the published zoo is the zoo/ folder of the heartzoo repository)"
            )
        url = REPO_ZOO.as_uri()
    return url.rstrip("/") + "/"


def models_cache(explicit: str | os.PathLike[str] | None = None) -> Path:
    from . import paths

    return paths.cache_dir(explicit) / "models"


def remote_index(base_url: str | None = None, timeout: float = 30.0) -> dict[str, Any]:
    import urllib.error
    import urllib.request

    url = zoo_url(base_url) + "index.json"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return json.loads(resp.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DownloadError(f"cannot read the zoo index {url}: {exc}") from None


def _resumable_downloader(part_dir: Path, timeout: float, retries: int):
    """A pooch downloader that keeps a `.part` file between runs and resumes it with HTTP Range."""
    from .data.download import _fetch_resumable

    def download(url: str, output_file, pooch_obj=None, check_only: bool = False):
        if check_only:
            return True
        part = part_dir / (Path(url).name + ".part")
        _fetch_resumable(url, part, timeout, retries, Path(url).name, None)
        data = part.read_bytes()
        part.unlink()
        if hasattr(output_file, "write"):
            output_file.write(data)
        else:
            Path(output_file).write_bytes(data)

    return download


def download(
    name: str,
    version: str | None = None,
    *,
    base_url: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    timeout: float = 60.0,
    retries: int = 3,
) -> Path:
    """Fetch NAME[@VERSION] into the local cache and return its folder.

    Every file is checked against the sha256 in the zoo index; a mismatch is refused and the file
    removed. Files already cached with the right hash are not fetched again, so the cache serves
    offline once the index is known (a copy of it is kept beside the files).
    """
    import pooch

    from .zoo import find

    cache = models_cache(cache_dir)
    try:
        index = remote_index(base_url, timeout)
    except DownloadError:
        local = _cached_entry(cache, name, version)
        if local is not None:
            return local
        raise
    entry = find(index, name, version)
    folder = cache / entry["path"]
    folder.mkdir(parents=True, exist_ok=True)
    url = zoo_url(base_url) + entry["path"] + "/"
    fetch = _resumable_downloader(folder, timeout, retries)
    for f in entry["files"]:
        try:
            pooch.retrieve(
                url + f["path"],
                known_hash=f"sha256:{f['sha256']}",
                fname=f["path"],
                path=folder,
                downloader=fetch,
            )
        except ValueError as exc:  # pooch: hash mismatch (it deletes the downloaded file)
            raise DownloadError(f"{entry['path']}/{f['path']}: refused, {exc}") from None
        except DownloadError as exc:
            raise DownloadError(f"{entry['path']}/{f['path']}: {exc}") from None
    (folder / ".entry.json").write_text(json.dumps(entry, indent=2))
    return folder


def _cached_entry(cache: Path, name: str, version: str | None) -> Path | None:
    """Offline: the cached folder of NAME (latest cached version unless given), if complete."""
    from .data.download import sha256_of

    if "@" in name and version is None:
        name, version = name.split("@", 1)
    found = []
    for marker in cache.glob(f"*/{name}/v*/.entry.json"):
        entry = json.loads(marker.read_text())
        if version in (None, entry["version"]) and all(
            (marker.parent / f["path"]).is_file() and sha256_of(marker.parent / f["path"]) == f["sha256"]
            for f in entry["files"]
        ):
            found.append((int(entry["version"][1:]), marker.parent))
    return max(found)[1] if found else None


@dataclass
class LoadedModel:
    """A zoo model with its configuration: `config` (validated), `firmware` (the contract)."""

    model: Any
    config: Any
    firmware: dict[str, Any]
    format: str
    folder: Path

    @property
    def class_names(self) -> list[str]:
        return list(self.firmware["class_names"])


def load_model(
    name: str | os.PathLike[str],
    version: str | None = None,
    format: str = "keras",
    *,
    zoo: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> LoadedModel:
    """A model by zoo name (local zoo first, else downloaded) or by folder, as Keras or TFLite."""
    from .config import parse_config
    from .zoo import find, read_index, zoo_dir

    if format not in ("keras", "tflite"):
        raise ValueError(f"format must be 'keras' or 'tflite', got {format!r}")
    folder = Path(name)
    if not (folder / "configuration.json").is_file():
        root = zoo_dir(zoo)
        try:
            folder = root / find(read_index(root), str(name), version)["path"]
        except HeartzooError:
            folder = download(str(name), version, base_url=base_url, cache_dir=cache_dir)
    conf = json.loads((folder / "configuration.json").read_text())
    config = parse_config(conf["config"], str(folder / "configuration.json"))
    if format == "keras":
        import keras

        model = keras.saving.load_model(folder / "model.keras", safe_mode=True, compile=False)
    else:
        from .export import litert_interpreter

        model = litert_interpreter((folder / "model.tflite").read_bytes())
    return LoadedModel(model, config, conf["firmware"], format, folder)


def _beat_inputs(loaded: LoadedModel, signal: np.ndarray, fs: float, r_peaks: np.ndarray):
    """The model inputs of every beat, prepared exactly as the model was trained."""
    from .data.mitbih import Beats
    from .data.pipeline import frames_tensor, rr_ratios
    from .data.windows import beat_templates, make_frames

    spec = loaded.config.input
    r = np.asarray(r_peaks, dtype=np.int64)
    x = make_frames(np.asarray(signal, dtype=np.float32), float(fs), r, spec)
    template = (
        beat_templates(x, np.zeros(len(x), dtype="<U1"), spec.template_beats) if spec.template_beats else None
    )
    ecg = frames_tensor(x, template)
    if not (loaded.config.model and loaded.config.model.rr_features):
        return ecg
    beats = Beats("", r, np.zeros(len(r), np.int8), np.zeros(len(r), "<U1"), float(fs), len(signal))
    return {"ecg": ecg, "rr": rr_ratios(beats.rr_features())}


def predict(loaded: LoadedModel, signal: np.ndarray, fs: float, r_peaks: np.ndarray) -> np.ndarray:
    """Class probabilities (n_beats, n_classes) for a raw one-lead ECG (mV) at any sampling rate and
    the R-peak sample indices in it, prepared exactly as the model was trained."""
    inputs = _beat_inputs(loaded, signal, fs, r_peaks)
    if loaded.format == "keras":
        from .train import predict_logits, softmax

        return softmax(predict_logits(loaded.model, inputs))
    from .export import dequantize_probs, io_specs, quantize_inputs, run_interpreter

    # the interpreter load_model built: no second one, and the .tflite is not read again
    ins, outs = io_specs(loaded.model)
    q = quantize_inputs(ins, inputs)
    return dequantize_probs(run_interpreter(loaded.model, q), outs[0])


def calibrate(
    loaded: LoadedModel, signal: np.ndarray, fs: float, r_peaks: np.ndarray, minutes: float = 5.0
) -> LoadedModel:
    """The model calibrated to one patient on the beats of the first `minutes` of its recording, with no
    labels: its batch-norm statistics re-estimated on them (`heartzoo.adapt`). Predict that patient's
    later beats with what this returns; the loaded model itself is not changed. On DS2 this lowered
    most published models' macro-F1 (docs/training.md): a window of mostly ectopic beats is taken as
    the patient's normal."""
    from dataclasses import replace

    from .adapt import calibrated_copy
    from .data.pipeline import input_rows

    if loaded.format != "keras":
        raise HeartzooError(
            f"{loaded.folder}: calibration needs the Keras model (load_model(..., format='keras')); "
            "the int8 model has its batch-norm statistics folded into its weights"
        )
    r = np.asarray(r_peaks, dtype=np.int64)
    if minutes <= 0:
        raise HeartzooError(f"calibration minutes must be positive, got {minutes:g}")
    rows = np.flatnonzero(r < 60.0 * minutes * float(fs))
    if not rows.size:
        raise HeartzooError(f"no R peak in the first {minutes:g} min of the recording to calibrate on")
    first = input_rows(_beat_inputs(loaded, signal, fs, r), rows)
    return replace(loaded, model=calibrated_copy(loaded.model, first))
