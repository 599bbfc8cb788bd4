"""Every command a reader is told to run exists and takes the options it is given: `heartzoo ...` against
the CLI's own command tree, `make X` against the Makefile, `python studies|benchmarks/X.py --flag` against
the script's argparse calls (read from its source, nothing run). Placeholders (NAME, RUN, <...>) pass."""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = ["README.md", *sorted(p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md"))]
SOURCES += ["results/README.md", "heartzoo/firmware/heartzoo_readme.md.in"]  # and every kit's README
SCRIPTS = sorted((REPO / "studies").glob("*.py")) + sorted((REPO / "benchmarks").glob("*.py"))
COMMAND = re.compile(r"^(?:(?:heartzoo|make)(?:\s|$)|python3? (?:studies|benchmarks)/)")


def _spans(text: str) -> list[tuple[int, str]]:
    """(line, text) of each command in a markdown text: fenced lines (continuations joined) and inline
    code spans, which may wrap across the lines of one paragraph."""
    out: list[tuple[int, str]] = []
    lines, prose, fenced, held = text.split("\n"), [], False, ""
    for i, line in enumerate(lines, 1):
        if line.lstrip().startswith("```"):
            fenced, held = not fenced, ""
            prose.append("")
            continue
        if fenced:
            held += line.rstrip().removesuffix("\\")
            if not line.rstrip().endswith("\\"):
                out.append((i, " ".join(re.sub(r"(^|\s)#.*$", "", held).split())))
                held = ""
            prose.append("")
        else:
            prose.append(line)
    body = "\n".join(prose)
    for m in re.finditer(r"(?<!`)`([^`\n]+(?:\n[^`\n]+)*)`(?!`)", body):
        if "\n\n" not in m.group(1):
            out.append((body.count("\n", 0, m.start()) + 1, " ".join(m.group(1).split())))
    return [
        (i, c.strip())
        for i, s in out
        for c in re.split(r"\s(?:&&|\|\||;|\|)\s", s)
        if COMMAND.match(c.strip())
    ]


def _commands() -> list[tuple[str, str]]:
    found = []
    for name in SOURCES:
        found += [(f"{name}:{i}", c) for i, c in _spans((REPO / name).read_text(encoding="utf-8"))]
    for path in SCRIPTS:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        found += [(f"{path.relative_to(REPO)}:doc", c) for _, c in _spans(doc)]
    return found


def _placeholder(token: str) -> bool:
    return bool(re.search(r"[A-Z]{2,}|[<>{}$…]|\.\.\.", token))


def _tokens(command: str) -> list[str]:
    try:
        words = shlex.split(command)
    except ValueError:  # an unbalanced quote in prose: the words still name the command
        words = command.split()
    return [w.strip("[],") for w in words if w.strip("[],")]


def _click_tree():
    import typer

    from heartzoo.cli import app

    return typer.main.get_command(app)


def _heartzoo_problem(root, words: list[str]) -> str | None:
    command, rest = root, words[1:]
    while hasattr(command, "commands") and rest and not rest[0].startswith("-"):
        if rest[0] not in command.commands:
            return None if _placeholder(rest[0]) else f"no command {rest[0]!r} in {command.name}"
        command, rest = command.commands[rest[0]], rest[1:]
    options = {o for p in command.params for o in [*p.opts, *getattr(p, "secondary_opts", [])]}
    unknown = [w for w in rest if w.startswith("--") and w.split("=")[0] not in options]
    if unknown:
        return f"{command.name} takes no {unknown[0].split('=')[0]}"
    # a command written whole (its arguments given, no "..."): its required options too; prose that
    # names a command and one option (`annotate --rhythm`) is a mention
    by_opt = {o: p for p in command.params for o in p.opts}
    positional, i = [], 0
    while i < len(rest):
        p = by_opt.get(rest[i].split("=")[0])
        if p is None:
            positional.append(rest[i])
        elif "=" not in rest[i] and not getattr(p, "is_flag", False) and not getattr(p, "count", False):
            i += 1
        i += 1
    arguments = [p for p in command.params if not p.opts[0].startswith("-") and p.required]
    if len(positional) < len(arguments) or "..." in rest:
        return None
    given = {w.split("=")[0] for w in rest}
    lacking = [
        p.opts[0]
        for p in command.params
        if p.required and p.opts[0].startswith("-") and not given & set(p.opts)
    ]
    return f"{command.name} needs {lacking[0]}" if lacking else None


def _script_options(path: Path) -> set[str] | None:
    """The option strings of a script's add_argument calls; None where it defines none (read elsewhere)."""
    calls = [
        n
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "add_argument"
    ]
    if not calls:
        return None
    return {
        a.value for c in calls for a in c.args if isinstance(a, ast.Constant) and str(a.value).startswith("-")
    }


def _problem(words: list[str], root, targets: set[str]) -> str | None:
    if words[0] == "heartzoo":
        return _heartzoo_problem(root, words)
    if words[0] == "make":
        missing = [w for w in words[1:] if not w.startswith("-") and "=" not in w and w not in targets]
        return f"no make target {missing[0]!r}" if missing and not _placeholder(missing[0]) else None
    script = REPO / words[1]
    if not script.is_file():
        return None if _placeholder(words[1]) else f"no script {words[1]}"
    options = _script_options(script)
    unknown = [
        w for w in words[2:] if w.startswith("--") and options is not None and w.split("=")[0] not in options
    ]
    return f"{words[1]} takes no {unknown[0].split('=')[0]}" if unknown else None


def test_commands_are_collected_from_every_kind_of_place():
    """The collector sees fenced blocks (with continuations), code spans wrapped over lines, chains."""
    text = "Run\n\n```bash\nheartzoo train a.yaml \\\n  --zoo z  # why\n```\n\nthen `make docs && heartzoo\nzoo list`."
    assert [c for _, c in _spans(text)] == ["heartzoo train a.yaml --zoo z", "make docs", "heartzoo zoo list"]


def test_a_broken_command_is_found(tmp_path):
    """What the audit catches: an unknown subcommand, an option a command lacks or needs, a missing make
    target, an option a study lacks."""
    root, targets = _click_tree(), {"docs", "test"}
    assert _problem(_tokens("heartzoo zoo lsit"), root, targets) == "no command 'lsit' in zoo"
    assert (
        _problem(_tokens("heartzoo data shard x --out o --patients 3"), root, targets)
        == "shard takes no --patients"
    )
    assert _problem(_tokens("heartzoo data shard x --config c.yaml"), root, targets) == "shard needs --out"
    assert _problem(_tokens("make site"), root, targets) == "no make target 'site'"
    assert _problem(_tokens("heartzoo zoo show NAME@vN --zoo DIR"), root, targets) is None
    assert (
        _problem(_tokens("python studies/detector.py --nope"), root, targets)
        == "studies/detector.py takes no --nope"
    )


def test_every_documented_command_exists_with_its_options():
    root = _click_tree()
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", makefile, re.MULTILINE))
    commands = _commands()
    assert len(commands) > 300  # the collector still reads the docs
    broken = [f"{where}: `{c}`: {p}" for where, c in commands if (p := _problem(_tokens(c), root, targets))]
    assert not broken, "\n".join(broken)


def test_every_recorded_result_says_where_it_comes_from():
    """A file of results/ is named in results/README.md or after the script that writes it (whose
    docstring holds its command): 28 files had neither an entry nor a word saying where to look."""
    scripts = {p.stem for p in SCRIPTS}
    readme = (REPO / "results" / "README.md").read_text(encoding="utf-8")
    orphans = [
        p.name
        for p in sorted((REPO / "results").iterdir())
        if p.name != "README.md" and p.name not in readme and p.stem not in scripts
    ]
    assert not orphans, orphans
