"""Files written whole or not at all, JSON read and written, hashes: the small I/O every layer shares.

Writes go to a temporary file in the same folder and are renamed into place, so a crash or Ctrl-C
leaves the old file or none, never half of one. JSON from outside the package (a zoo's index from a
server, a zoo's retraining checks) is read with a cap on its size, so that a huge or hostile file is
refused before it is parsed. A configuration file (YAML or JSON) is read as a mapping with the errors a
user can act on: the file named, and a key given twice refused (both formats let the last one win,
silently dropping a whole section).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import ConfigError, HeartzooError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(final: Path, suffix: str = ".tmp"):
    """Yield a temporary path next to `final`; rename it onto `final` only if the block succeeds."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=suffix, dir=final.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes 0600; a file put in place gets the mode any new file gets (a web server serving
        # a mirror runs as another user)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_output(path: Path) -> Path:
    """`path`, once a file can be written there: checked before the work that fills it (a long
    evaluation should not end in a permission error), creating nothing."""
    path = Path(path)
    if path.is_dir():
        raise HeartzooError(f"{path}: a folder; give a file name to write to")
    _check_writable_above(path, path.parent, "cannot write there")
    return path


def check_output_dir(path: Path, what: str = "folder") -> Path:
    """`path`, once it is a folder or can be made one: checked before the work that fills it (an export
    should not publish a version, then fail at its firmware folder), creating nothing."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise HeartzooError(f"{path}: a file, not a folder; give a {what} to write into")
    _check_writable_above(path, path, f"cannot make this {what}")
    return path


def check_outside_zoo(
    out_dir: Path, zoo: Path | None = None, what: str = "the kit", option: str = "--out"
) -> None:
    """An error where `out_dir` lies inside a zoo (a folder above it holds a zoo's index.json), or inside
    `zoo`, one a command is about to make (no index to be known by yet): a version holds the files its
    index lists and no other, so no kit, C array, annotation or run is written there."""
    out = Path(out_dir).resolve()
    for folder in (out, *out.parents):
        index = folder / "index.json"
        try:
            is_zoo = index.is_file() and "models" in json.loads(index.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            is_zoo = False
        if is_zoo or (zoo is not None and folder == Path(zoo).resolve()):
            raise HeartzooError(
                f"{out_dir}: inside the zoo {folder}, whose versions hold the files its index lists and no "
                f"other: write {what} into a folder of its own ({option})"
            )


def _check_writable_above(path: Path, folder: Path, cannot: str) -> None:
    """The nearest existing folder at or above `folder` must be a folder we may write in."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise HeartzooError(f"{path}: {cannot}, {folder} is a file")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise HeartzooError(f"{path}: cannot write there, {folder} is not writable")


def read_json(path: Path) -> Any:
    """A JSON file, or an error naming it when it is missing or not JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HeartzooError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise HeartzooError(f"{path}: not readable JSON ({exc or 'nested too deep'})") from None


def write_json(path: Path, data: Any) -> None:
    """JSON written atomically (temporary file, then rename)."""
    with atomic_path(Path(path)) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")


def append_json_line(path: Path | None, line: Any) -> None:
    """Append `line` as one JSON line to the results file `path` (a benchmark's `--record`); None: nothing."""
    if path is not None:
        with open(path, "a") as f:
            f.write(json.dumps(line) + "\n")


def latest_json_lines(path: Path, key) -> dict:
    """The latest line of each `key(line)` of a benchmark's JSON-lines record (a key of None: a line of
    another kind, left out), in the order the keys first appear."""
    latest = {}
    for x in Path(path).read_text().splitlines():
        if x.strip():
            line = json.loads(x)
            k = key(line)
            if k is not None:
                latest[k] = line
    return latest


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def decode_json(data: bytes, source: str, what: str, max_bytes: int, error=HeartzooError) -> Any:
    """JSON read from outside (an index, a zoo's checks): refused past `max_bytes` or when not JSON, by
    an `error` naming the source and what it should have been."""
    if len(data) > max_bytes:
        raise error(f"{source}: refused, {len(data):,} bytes is larger than any {what}")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise error(f"{source}: not a valid {what} (not JSON: {exc})") from None
    except RecursionError:
        raise error(f"{source}: not a valid {what} (JSON nested deeper than any {what})") from None


def read_capped(path: Path, what: str, max_bytes: int, error=HeartzooError) -> bytes:
    """At most `max_bytes` + 1 bytes of a file (one past the cap, so `decode_json` can refuse it);
    FileNotFoundError is the caller's to answer."""
    try:
        with open(path, "rb") as f:
            return f.read(max_bytes + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None


def read_mapping(path: Path, what: str = "configuration file", fields: str = "fields") -> dict[str, Any]:
    """The mapping a YAML or JSON file holds: an error naming the file for anything else, a key given
    twice included (YAML and JSON both let the last one win, silently dropping a whole section)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if what == "configuration file" and path.parent.name == "configs" and not path.parent.is_dir():
            # the docs' recipes are a checkout's files: an installed heartzoo has the published ones
            raise ConfigError(
                f"{path}: no such configuration file (configs/ comes with heartzoo's git checkout); outside "
                "one, a published version's configuration.json is its recipe: `heartzoo download NAME@vN`, "
                "then give the configuration.json in the folder it prints"
            ) from None
        raise ConfigError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: a folder, not a {what}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text, object_pairs_hook=_unique_pairs)
        elif suffix in (".yaml", ".yml"):
            data = _strict_yaml(text)
        else:
            raise ConfigError(
                f"{path}: unknown {what.removesuffix(' file')} format {suffix!r}; use .yaml, .yml or .json"
            )
    except _DuplicateKey as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except (json.JSONDecodeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{path}: not valid {suffix[1:].upper()}: {exc}") from None
    except Exception as exc:  # yaml.YAMLError has no common base we can import lazily
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of {fields}, got {type(data).__name__}")
    return data


class _DuplicateKey(Exception):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _strict_yaml(text: str) -> Any:
    """yaml.safe_load, refusing a key given twice in one mapping (with both lines)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader, node, deep=False):
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            # a merge (`<<: *base`) may be overridden by the keys beside it, as YAML says; a key that is
            # no scalar is left to SafeLoader, which refuses an unhashable one with its line
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = loader.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in first:
                raise _DuplicateKey(f"line {line}: duplicate key {key!r} (first at line {first[key]})")
            first[key] = line
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    return yaml.load(text, Loader=Loader)  # safe: a SafeLoader subclass
