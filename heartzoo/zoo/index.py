"""The versioned zoo: `zoo/<task>/<name>/<version>/` folders, an index with sizes and sha256, publishing
that never overwrites, and verification that re-hashes every file and re-runs the TFLite/TFLM check.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from ..environment import LOCAL, Environment
from ..errors import DownloadError, HeartzooError
from ..integrity import check_files, contained
from ..io import atomic_path, read_json, sha256_of, write_json
from ..meta import (
    TASK_PATTERN,
    VERSION_PATTERN,
    check_ref,
    check_version,
    parse_index,
    read_index_file,
    read_metrics,
)

ZOO_DIR_ENV = "HEARTZOO_ZOO_DIR"
ZOO_URL_ENV = "HEARTZOO_ZOO_URL"
#: Where the project publishes its zoo (the `heartzoo zoo mirror` layout, served by GitHub Pages): what an
#: installed heartzoo downloads from when no other zoo is named.
DEFAULT_ZOO_URL = "https://heartzoo.github.io/zoo/"
INDEX = "index.json"
VERSION_RE = re.compile(VERSION_PATTERN)
log = logging.getLogger(__name__)


def zoo_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(ZOO_DIR_ENV) or "zoo")


def versions(root: Path, task: str, name: str) -> list[str]:
    check_ref(name)
    if not re.match(TASK_PATTERN, task):
        raise HeartzooError(f"{task!r} is not a task name")
    folder = Path(root) / task / name
    if not folder.is_dir() or folder.is_symlink():
        return []
    found = [p.name for p in folder.iterdir() if _is_real_dir(p) and VERSION_RE.match(p.name)]
    return sorted(found, key=lambda v: int(v[1:]))


def _is_real_dir(p: Path) -> bool:
    return p.is_dir() and not p.is_symlink()


def latest_version_dir(root: Path, task: str, name: str) -> Path | None:
    """The folder of NAME's latest version in the zoo at ROOT, or None when it has none."""
    have = versions(root, task, name)
    return Path(root) / task / name / have[-1] if have else None


def next_version(root: Path, task: str, name: str) -> str:
    have = versions(root, task, name)
    return f"v{int(have[-1][1:]) + 1 if have else 1}"


def _folders(parent: Path) -> list[Path]:
    """The real, visible folders in `parent`, in order: a zoo's task or model folders as its index reads
    them (a link or a hidden folder is none)."""
    return sorted(p for p in parent.iterdir() if _is_real_dir(p) and not p.name.startswith("."))


def version_folders(root: Path):
    """(task, name, version, folder) of each version folder under the zoo's root, in order: what an
    index lists when it is written."""
    for task_dir in _folders(root):
        for model_dir in _folders(task_dir):
            for version in versions(root, task_dir.name, model_dir.name):
                yield task_dir.name, model_dir.name, version, model_dir / version


def build_index(root: Path) -> dict[str, Any]:
    """Every published version with its files (bytes, sha256) and headline metrics, validated as any
    index is: a folder or file whose name the index may not carry is an error, not an entry."""
    from .recommend import recommend, validation_macro_f1

    root = Path(root)
    models: list[dict[str, Any]] = []
    for task, name, version, vdir in version_folders(root):
        links = [f.name for f in vdir.iterdir() if f.is_symlink()]
        if links:
            raise HeartzooError(f"{vdir}: symbolic links cannot be published: {', '.join(links)}")
        files = [
            {"path": f.name, "bytes": f.stat().st_size, "sha256": sha256_of(f)}
            for f in sorted(vdir.iterdir())
            if f.is_file()
        ]
        entry: dict[str, Any] = {
            "task": task,
            "name": name,
            "version": version,
            "path": f"{task}/{name}/{version}",
            "files": files,
        }
        if (vdir / "metrics.json").exists():
            m = read_metrics(vdir)
            entry["summary"] = {
                "split": m.split,
                "float_macro_f1": m.float.macro_f1,
                "int8_macro_f1": m.int8.macro_f1,
                "params": m.params,
                "macs": m.macs,
                "tflite_bytes": m.tflite_bytes,
                "tflm_arena_bytes": m.tflm_arena_bytes,
                "val_macro_f1": validation_macro_f1(vdir),
            }
        models.append(entry)
    index: dict[str, Any] = {"format": 1, "models": models}
    parse_index(index, str(root / INDEX))
    index["recommended"] = {task: r.ref for task, r in recommend(index, root).items()}
    parse_index(index, str(root / INDEX))
    return index


def write_index(root: Path) -> dict[str, Any]:
    """The index of what the zoo folder holds now (`build_index`), written: a maintainer's re-index.
    Publishing adds to the index instead (`add_to_index`)."""
    index = build_index(root)
    write_json(Path(root) / INDEX, index)
    return index


def add_to_index(root: Path, added: str | None = None) -> dict[str, Any]:
    """The index written again with the version folder `added` (task/name/version; None: nothing new, the
    recommendation read again), where the zoo is still what its index lists: every listed version there,
    file for file, and no other version folder. Otherwise refused, the index left as it was: rebuilt from
    the disk, it would vouch for a changed file and drop (then hand out again) a version that went
    missing."""
    require_as_listed(root, added)
    return write_index(root)


def require_as_listed(root: Path, added: str | None = None) -> None:
    """An error where the zoo is not what its index lists (a version missing or changed, a version folder
    unlisted but `added`); nothing to check where it has no index yet."""
    root = Path(root)
    if not (root / INDEX).is_file():
        return
    old = read_index(root)
    problems = []
    for entry in old["models"]:
        vdir = version_dir(root, entry)
        problems += check_files(vdir, entry["files"]) if vdir.is_dir() else [f"{vdir}: listed, missing"]
    problems += [p for p in _unlisted(root, old) if added is None or not p.startswith(f"{root / added}:")]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise HeartzooError(
            f"{problems[0]}{more}: the zoo is no longer what {root / INDEX} lists, so its index is not written "
            "again (heartzoo zoo verify lists every problem; published versions are never changed)"
        )


def read_index(root: Path) -> dict[str, Any]:
    """The zoo's index, validated (`heartzoo.meta`): an error names the entry and field at fault."""
    root = Path(root)
    if not root.is_dir():
        raise HeartzooError(f"{root}: no zoo folder here (pass --zoo or set {ZOO_DIR_ENV})")
    return read_index_file(root / INDEX).model_dump(mode="json", exclude_none=True)


def load_index(
    zoo=None, *, remote: bool = False, base_url: str | None = None, cache_dir=None
) -> dict[str, Any]:
    """The index of the local zoo, or (remote=True) the published one. With no zoo named (argument or
    `$HEARTZOO_ZOO_DIR`) and no ./zoo here, the published one too: a model name means the same from
    any folder."""
    if remote or (zoo is None and not os.environ.get(ZOO_DIR_ENV) and not (zoo_dir() / INDEX).is_file()):
        return remote_index(base_url, cache_dir=cache_dir)
    return read_index(zoo_dir(zoo))


def zoo_url(explicit: str | None = None) -> str:
    """The zoo to download from: the argument, `$HEARTZOO_ZOO_URL`, the local zoo `$HEARTZOO_ZOO_DIR`
    names (the one `load_model` reads), the zoo/ folder of the checkout of the project this runs in (the
    project publishes its zoo there), else the published zoo, `DEFAULT_ZOO_URL`."""
    from ..checkout import checkout_here

    url = explicit or os.environ.get(ZOO_URL_ENV)
    named = Path(os.environ.get(ZOO_DIR_ENV) or "")
    if url is None and os.environ.get(ZOO_DIR_ENV) and (named / INDEX).is_file():
        url = named.resolve().as_uri()
    if url is None:
        own = checkout_here()
        url = own.zoo.as_uri() if own is not None and (own.zoo / INDEX).is_file() else DEFAULT_ZOO_URL
    elif (
        "://" not in url and Path(url).is_dir()
    ):  # a folder's path (a `zoo mirror` copy): its file:// address
        url = Path(url).resolve().as_uri()
    return url.rstrip("/") + "/"


def remote_index(
    base_url: str | None = None,
    timeout: float = 30.0,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = True,
) -> dict[str, Any]:
    """The published index, validated before any of it is used (`heartzoo.meta`). Each one read is kept
    in the download cache and, with `offline`, serves when the zoo cannot be reached (for listing; a
    download offline serves the versions it has cached instead, `hub.download`)."""
    from ..data.download import fetch_bytes
    from ..meta import MAX_INDEX_BYTES, decode_index

    url = zoo_url(base_url) + INDEX
    kept = _kept_index(url, cache_dir)
    try:
        data = fetch_bytes(url, timeout, max_bytes=MAX_INDEX_BYTES, same_origin=True)
    except DownloadError as exc:
        if offline and kept.is_file():
            log.warning("%s cannot be read (%s); using the copy cached at %s", url, exc, kept)
            return decode_index(kept.read_bytes(), str(kept)).model_dump(mode="json", exclude_none=True)
        hint = (
            " (the published zoo comes with the first release; until then name one: --base-url, "
            f"${ZOO_URL_ENV}, or a local zoo in ${ZOO_DIR_ENV})"
            if url.startswith(DEFAULT_ZOO_URL)
            else ""
        )
        raise DownloadError(f"cannot read the zoo index {url}: {exc}{hint}") from None
    index = decode_index(data, url).model_dump(mode="json", exclude_none=True)
    try:
        with atomic_path(kept, suffix=".json") as tmp:
            Path(tmp).write_bytes(data)
    except OSError as exc:  # a read-only cache: the index read is still good
        log.warning("could not keep the zoo index in %s: %s", kept, exc)
    return index


def _kept_index(url: str, cache_dir) -> Path:
    """Where the cache keeps the last index read from `url` (one file per zoo URL)."""
    import hashlib

    from .. import paths

    return (
        paths.cache_dir(cache_dir)
        / "models"
        / "indexes"
        / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}.json"
    )


def find(index: dict[str, Any], name: str, version: str | None = None) -> dict[str, Any]:
    """The entry for NAME (latest version unless VERSION, or NAME@VERSION) in a validated index."""
    name, version = check_ref(name, version)
    hits = [m for m in index["models"] if m["name"] == name]
    if not hits:
        import difflib

        known = sorted({m["name"] for m in index["models"]})
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.8)
        hint = (
            f"did you mean {' or '.join(close)}?"
            if close
            else "`heartzoo zoo list` shows the models (`--remote` those of the zoo downloads read)"
        )
        raise HeartzooError(
            f"no model {name!r} in the zoo; {hint}" if known else f"no model {name!r}: the zoo is empty"
        )
    if version is None:
        return max(hits, key=lambda m: int(m["version"][1:]))
    for m in hits:
        if m["version"] == version:
            return m
    raise HeartzooError(
        f"{name} has no version {version}; published: {', '.join(m['version'] for m in hits)}"
    )


def version_dir(root: Path, entry: dict[str, Any]) -> Path:
    """The folder of a validated entry, refused if it resolves anywhere but root/task/name/version."""
    return contained(Path(root), entry["path"], f"{Path(root) / INDEX}: {entry['name']}@{entry['version']}")


def exportable_run(run_dir) -> tuple[Path, Any]:
    """`run_config` of a trained run folder, before anything loads TensorFlow; a zoo name given instead
    (`heartzoo export NAME@vN`) is told that a published version is exported already, and a fold of a
    cross-validation that it is not its recipe's model."""
    from ..data.folds import FOLD_FILE
    from ..evaluation.evaluate import run_config

    path = Path(run_dir)
    if not path.exists() and _is_ref(str(run_dir)):
        raise HeartzooError(
            f"{run_dir}: no such run folder; export takes a trained run's folder, and a published model is "
            "exported already (`heartzoo download NAME` fetches its files)"
        )
    if (path / FOLD_FILE).is_file():
        raise HeartzooError(
            f"{path}: a fold of a cross-validation ({FOLD_FILE}): its model trained without the fold's "
            "records and chose its epoch on them, so it is not the model its recipe trains; train the config "
            "(`heartzoo train CONFIG`) to publish it"
        )
    return run_config(path)


def _is_ref(text: str) -> bool:
    """Whether `text` reads as NAME[@VERSION] (`check_ref`)."""
    try:
        check_ref(text)
    except HeartzooError:
        return False
    return True


def _not_published_yet(root: Path, config, model_file: Path) -> None:
    """An error where the zoo holds a version of `config.name` exported from this very model file (its
    `exported_from`): exported twice, one model would be published under two versions."""
    digest = sha256_of(model_file)
    for version in versions(root, config.task, config.name):
        vdir = root / config.task / config.name / version
        if (vdir / "metrics.json").is_file() and read_metrics(vdir).exported_from == digest:
            raise HeartzooError(
                f"{model_file}: published already as {config.name}@{version} ({vdir}); exported again it "
                "would be a second version of the same model. Name a version (--version) to publish it again"
            )


def check_name_free(root, config) -> None:
    """An error where the zoo publishes `config.name` for another task: a model's name is its reference
    (NAME@vN) whatever its task, so two tasks cannot share one (the index would list a version twice)."""
    root = Path(root)
    if not root.is_dir():
        return
    for task_dir in _folders(root):  # as the index reads the zoo
        if task_dir.name != config.task and versions(root, task_dir.name, config.name):
            raise HeartzooError(
                f"{config.name}: the zoo {root} publishes a model of that name for task {task_dir.name}; a name "
                f"serves one task: give this {config.task} recipe another name"
            )


def check_publishable(zoo, config) -> Path:
    """The zoo folder a run of `config` publishes into, checked before the work that fills it: one that can
    be written, still what its index lists (`require_as_listed`: publishing writes the index again), where
    the name is free for its task (`check_name_free`)."""
    from ..io import check_output_dir

    root = check_output_dir(zoo_dir(zoo), "zoo folder")
    require_as_listed(root)
    check_name_free(root, config)
    return root


def publish(run_dir, root=None, *, version: str | None = None, env: Environment = LOCAL) -> Path:
    """Export a trained run as a new zoo version and update the index. Published versions are
    immutable: naming an existing version is an error, and a new one is made otherwise; a version whose
    index could not be written is taken back, never left unlisted."""
    import shutil

    from .publish import export_run

    model_file, config = exportable_run(run_dir)  # the name and task, before export loads the model
    root = check_publishable(root, config)
    if version is None:
        _not_published_yet(root, config, model_file)
        version = next_version(root, config.task, config.name)
    else:
        check_version(version)
    target = contained(root, f"{config.task}/{config.name}/{version}", f"{config.name}@{version}")
    if target.exists():  # (`contained` refused a link already)
        raise HeartzooError(f"{target} is published already; published versions are never overwritten")
    export_run(run_dir, target, env=env)
    try:
        add_to_index(root, f"{config.task}/{config.name}/{version}")
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


def verify(root=None, *, env: Environment = LOCAL, agreement: bool = True) -> list[str]:
    """Problems found: files missing, added, linked or changed against the index; LiteRT/TFLM
    disagreement; retraining checks that do not validate, or that the recommended version failed. An
    index with no version is an error: there would be nothing to vouch for.
    `env.progress(ref)` is called with each NAME@VERSION as its check starts."""
    root = zoo_dir(root)
    index = read_index(root)
    if not index["models"]:
        raise HeartzooError(f"{root / INDEX}: lists no model version, so nothing can be verified")
    problems: list[str] = []
    for entry in index["models"]:
        env.say(f"{entry['name']}@{entry['version']}")
        try:
            vdir = version_dir(root, entry)
        except HeartzooError as exc:
            problems.append(str(exc))
            continue
        if not vdir.is_dir():
            problems.append(f"{vdir}: missing")
            continue
        found = check_files(vdir, entry["files"])
        # the runtimes are compared only on files that are what the index says
        if agreement and not found and any(f["path"] == "model.tflite" for f in entry["files"]):
            found.extend(_agreement(vdir, entry, env))
        problems += found
    problems += _unlisted(root, index)
    problems += [
        f"{p}: the staging folder of an export that did not finish (killed, or still running): remove it"
        for task_dir in _folders(root)
        for model_dir in _folders(task_dir)
        for p in sorted(model_dir.iterdir())
        if p.is_dir() and re.match(r"^\.v\d+\.", p.name)  # `publish.export_run`'s mkdtemp
    ]
    problems += _recommendation_problems(root, index)
    return problems


def _unlisted(root: Path, index: dict[str, Any]) -> list[str]:
    """Version folders the index does not list (a publish cut short left one): none is vouched for."""
    listed = {m["path"] for m in index["models"]}
    return [
        f"{vdir}: a version folder the index does not list"
        for task, name, version, vdir in version_folders(root)
        if f"{task}/{name}/{version}" not in listed
    ]


def _recommendation_problems(root: Path, index: dict[str, Any]) -> list[str]:
    """The retraining checks, validated against the index, and a recommended version its recipe did not
    make again (a mirror may hold a subset of the versions: what it recommends is not recomputed)."""
    from .retrain_checks import CHECKS, verdicts

    try:
        made = verdicts(root, index)
    except HeartzooError as exc:
        return [str(exc)]
    return [
        f"{root / INDEX}: recommends {ref} for {task}, which its recipe did not make again ({root / CHECKS})"
        for task, ref in index.get("recommended", {}).items()
        if made.get(ref) is False
    ]


def _agreement(vdir: Path, entry: dict[str, Any], env: Environment) -> list[str]:
    from ..config import parse_config
    from ..data.prepare import load_task_split, test_split
    from ..export import quantized_inputs, run_litert, run_tflm, runtime_mismatch, verification_frames
    from ..preprocess import Preprocessor

    conf = vdir / "configuration.json"
    cfg = parse_config(read_json(conf).get("config"), str(conf))
    buf = (vdir / "model.tflite").read_bytes()
    ws, labels = load_task_split(cfg, test_split(cfg), **env.folders)
    pick = verification_frames(len(labels), cfg.export.verify_frames)
    q = quantized_inputs(buf, ws.subset(pick).model_inputs(Preprocessor.of(cfg)))
    bad, _ = runtime_mismatch(run_litert(buf, q), run_tflm(buf, q))
    return [f"{entry['path']}: LiteRT and TFLM disagree on {bad} of {len(pick)} frames"] if bad else []
