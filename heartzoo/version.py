"""The package version and the git commit of the code, in a module of its own so that what records
them imports nothing else."""

__version__ = "0.1.0"


def git_commit() -> str | None:
    """The commit of the checkout heartzoo runs from, with "-dirty" when tracked files differ from it;
    None outside a checkout of its own (an installed wheel, even inside another project's git repository,
    whose commit says nothing of heartzoo's code)."""
    import subprocess
    from pathlib import Path

    try:
        root = Path(__file__).resolve().parents[1]
        rev = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if rev.returncode:
            return None
        top, commit = rev.stdout.splitlines()
        if Path(top).resolve() != root:  # site-packages inside someone's repository
            return None
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return commit + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None
