"""`heartzoo tune` on real DS1 frames: a tiny search writes a config `heartzoo train` accepts, a killed
search resumes without running a finished trial again, two processes sharing one SQLite study take
distinct trials, a trial over the size constraint is pruned before it trains, and a bad space file is
named in a clear error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import run_cli

from heartzoo.config import load_config, parse_config
from heartzoo.environment import Environment
from heartzoo.errors import ConfigError
from heartzoo.training.search_space import load_space

optuna = pytest.importorskip("optuna")

BASE = {
    "name": "tiny-search",
    "task": "beat-3",
    "model": {"arch": "cnn1", "params": {"dropout": 0.0}},
    "input": {"rr_features": True},
    "train": {"epochs": 1, "batch_size": 64, "steps_per_epoch": 3, "max_train_frames": 1500, "patience": 5},
}
SPACE = {
    "params": {
        "learning_rate": {
            "path": "train.learning_rate",
            "type": "float",
            "low": 5e-4,
            "high": 1e-2,
            "log": True,
        },
        "filters": {"path": "model.params.filters", "type": "int", "low": 3, "high": 6},
    },
    "constraints": {"tflite_bytes": 40_000, "macs": 2_000_000},
    "pruning": {"startup_trials": 1, "warmup_epochs": 1},
}


@pytest.fixture
def files(tmp_path, data_root):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE))
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(SPACE))
    return tmp_path


def _tune(root: Path, cache: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "heartzoo",
        "tune",
        str(root / "base.yaml"),
        "--space",
        str(root / "space.yaml"),
        "--cache-dir",
        str(cache),
        *extra,
    ]


def _study(url: str, name: str = "tiny-search"):
    return optuna.load_study(study_name=name, storage=url)


def _finished(study) -> list:
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return [t for t in study.trials if t.state in states]


@pytest.mark.slow
def test_a_killed_search_resumes_without_repeating_finished_trials_and_writes_a_config_train_accepts(
    files, shared_cache
):
    baseline = {"learning_rate": 0.002, "filters": 4}
    (files / "space.yaml").write_text(yaml.safe_dump({**SPACE, "enqueue": [baseline]}))
    url = f"sqlite:///{files / 'k' / 'study.db'}"
    job = subprocess.Popen(
        _tune(files, shared_cache, "--trials", "3", "--run-dir", str(files / "k")),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    before = []
    while time.monotonic() < deadline and job.poll() is None:
        if (files / "k" / "study.db").exists():
            with_done = _study_if_ready(url)
            if with_done is not None and len(_finished(with_done)) >= 1 and len(with_done.trials) >= 2:
                before = _finished(with_done)
                break
        time.sleep(0.5)
    assert job.poll() is None and before, "the search ended before it could be killed"
    job.send_signal(signal.SIGKILL)
    job.wait()

    # started again (in this process: the killed one was a process of its own, as a user's is)
    proc = run_cli(*_tune(files, shared_cache, "--trials", "3", "--run-dir", str(files / "k"))[3:])
    assert proc.returncode == 0, proc.stderr[-3000:]
    study = _study(url)
    assert len(_finished(study)) == 3
    assert study.trials[0].params == baseline  # the space's enqueued values run first
    kept = {t.number: t for t in study.trials}
    for t in before:  # untouched: same state, value and end time
        assert kept[t.number].state == t.state and kept[t.number].datetime_complete == t.datetime_complete
    values = [tuple(sorted(t.params.items())) for t in _finished(study)]
    assert len(set(values)) == len(values)  # no finished trial ran twice
    # what the finished search leaves: the best trial's config, a report, the trials' MLflow runs
    best = load_config(files / "k" / "best.yaml")  # validated as every config is
    assert best.name == "tiny-search-tuned"
    assert best.train.learning_rate == pytest.approx(study.best_trial.params["learning_rate"])
    assert best.model.params["filters"] == study.best_trial.params["filters"]
    report = (files / "k" / "report.md").read_text()
    assert "| 0 | COMPLETE |" in report and "trajectory.png" in report
    assert (files / "k" / "trajectory.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (files / "k" / "mlruns").is_dir()  # each trial logged to the MLflow file store


def _study_if_ready(url: str):
    """The study, or None while the search is still creating it: no study yet (KeyError), or its
    tables half made, which a reader opening the file at that moment also tries to create (SQLAlchemy
    then raises OperationalError "table ... already exists", or IntegrityError)."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    try:
        return _study(url)
    except (KeyError, OperationalError, IntegrityError):
        return None


@pytest.mark.slow
def test_two_processes_share_one_study(files, shared_cache):
    """A process of its own and this test's process (which has TensorFlow loaded already) on one study:
    the second starts once the first holds a trial, so that both take some."""
    url = f"sqlite:///{files / 'shared.db'}"
    argv = _tune(files, shared_cache, "--trials", "4", "--storage", url, "--run-dir")
    log = files / "w0.log"  # a file, not a pipe nobody reads while this process searches too
    with log.open("w") as err:
        job = subprocess.Popen([*argv, str(files / "w0")], stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and job.poll() is None:
        started = _study_if_ready(url) if (files / "shared.db").exists() else None
        if started is not None and started.trials:
            break
        time.sleep(0.5)
    here = run_cli(*argv[3:], str(files / "w1"))
    job.wait(timeout=900)
    assert job.returncode == 0, log.read_text()[-3000:]
    assert here.returncode == 0, here.stderr[-3000:]
    study = _study(url)
    done = _finished(study)
    assert len(done) >= 4
    assert len({t.number for t in done}) == len(done)
    assert len({tuple(sorted(t.params.items())) for t in done}) == len(done)  # distinct values, too
    assert len({t.user_attrs["worker"] for t in done}) == 2  # both processes took trials


@pytest.mark.slow
def test_a_trial_over_the_size_limit_is_pruned_before_training(files, shared_cache):
    from heartzoo.training.tune import tune

    space = load_space(files / "space.yaml", parse_config(BASE))
    tight = space.model_copy(
        update={"constraints": space.constraints.model_copy(update={"tflite_bytes": 1_000})}
    )
    study = tune(
        parse_config(BASE), tight, files / "tight", trials=1, env=Environment(cache_dir=shared_cache)
    )
    # a refused trial does not count toward --trials: the search tries others, up to its cap (4 per trial)
    assert len(study.trials) == 8
    for t in study.trials:
        assert t.state == optuna.trial.TrialState.PRUNED
        assert "> 1,000 B" in t.user_attrs["rejected"] and t.user_attrs["size"]["tflite_bytes"] > 1_000
    assert not (files / "tight" / "trials").exists()  # nothing trained
    # a size follows the architecture alone (measured once each, `tune._SIZES`), whatever rate was drawn
    sizes: dict[int, set[int]] = {}
    for t in study.trials:
        sizes.setdefault(t.params["filters"], set()).add(t.user_attrs["size"]["tflite_bytes"])
    assert all(len(s) == 1 for s in sizes.values())
    assert len({min(s) for s in sizes.values()}) == len(sizes) > 1  # and each width has its own


def test_a_trial_stopped_by_ctrl_c_runs_again_with_its_values_and_resumes(files, shared_cache):
    """Ctrl-C inside a trial: it was failed with Optuna's traceback, and new values drawn in its place,
    its epochs lost. Now it stops the search, and the next one runs it again, resuming its run."""
    import keras

    from heartzoo.training.tune import tune

    class CtrlC(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt

    base = parse_config({**BASE, "train": {**BASE["train"], "epochs": 2}})
    space = load_space(files / "space.yaml", base)
    env = Environment(cache_dir=shared_cache)
    with pytest.raises(KeyboardInterrupt):
        tune(base, space, files / "c", trials=1, env=env, callbacks=[CtrlC()])
    (first,) = _study(f"sqlite:///{files / 'c' / 'study.db'}").trials
    assert first.state == optuna.trial.TrialState.PRUNED and first.user_attrs["interrupted"]
    folder = files / "c" / first.user_attrs["folder"]
    assert len((folder / "history.csv").read_text().splitlines()) == 2  # its first epoch, kept
    study = tune(base, space, files / "c", trials=1, env=env)
    again = study.trials[1]
    assert again.state == optuna.trial.TrialState.COMPLETE and again.user_attrs["retried_from"] == 0
    assert again.params == first.params and files / "c" / again.user_attrs["folder"] == folder
    assert len((folder / "history.csv").read_text().splitlines()) == 3  # resumed: the second epoch only
    assert len(study.trials) == 2


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"parms": {}}, r"unknown field 'parms' \(did you mean 'params'\?\)"),
        (
            {"params": {"lr": {"path": "train.learnig_rate", "type": "float", "low": 0.001, "high": 0.01}}},
            r"parameter 'lr': 'train.learnig_rate' is not a config field; train holds .*learning_rate",
        ),
        (
            {"params": {"lr": {"path": "train.learning_rate", "type": "float", "low": 0.01, "high": 0.001}}},
            r"low \(0.01\) must be below high \(0.001\)",
        ),
        (
            {"params": {"lr": {"path": "train.learning_rate", "type": "float", "low": -1.0, "high": 0.01}}},
            r"parameter 'lr' = -1.0 at train.learning_rate: .*train.learning_rate",
        ),
        (
            {"params": {"k": {"path": "model.params.kernal", "type": "categorical", "choices": [3, 5]}}},
            r"parameter 'k' = 3 at model.params.kernal: .*unknown parameter\(s\) 'kernal' \(did you mean 'kernel'\?\) of cnn1; allowed: .*kernel",
        ),
        (
            {"params": {"p": {"path": "data.protocol", "type": "categorical", "choices": ["patient-deal"]}}},
            r"parameter 'p' = 'patient-deal' at data.protocol",
        ),
        # what Optuna refused mid-study, with a traceback and a study of failed trials left behind
        (
            {
                "params": {
                    "lr": {"path": "train.learning_rate", "type": "float", "low": 0.001, "high": 0.01}
                    | {"log": True, "step": 0.001}
                }
            },
            r"log and step cannot go together",
        ),
        (
            {
                "params": {
                    "bs": {"path": "train.batch_size", "type": "int", "low": 16, "high": 64, "step": 0.5}
                }
            },
            r"an int parameter's step must be a whole number of at least 1, got 0.5",
        ),
        (
            {
                "params": {
                    "k": {"path": "model.params.kernel", "type": "categorical", "choices": [3], "log": True}
                }
            },
            r"a categorical parameter takes no log or step",
        ),
        (
            {
                "params": {
                    "lr": {"path": "train.learning_rate", "type": "float", "low": 0.001, "high": 0.01},
                    "lr2": {"path": "train.learning_rate", "type": "float", "low": 0.02, "high": 0.05},
                }
            },
            r"params lr and lr2 both set train.learning_rate",
        ),
    ],
)
def test_a_bad_space_file_is_named(tmp_path, space, message):
    path = tmp_path / "bad-space.yaml"
    path.write_text(yaml.safe_dump(space))
    with pytest.raises(ConfigError, match=f"(?s){message}") as exc:
        load_space(path, parse_config(BASE))
    assert str(path) in str(exc.value)


def test_tune_needs_a_space_file(files):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "heartzoo",
            "tune",
            str(files / "base.yaml"),
            "--space",
            str(files / "missing.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert proc.returncode != 0 and "missing.yaml: no such search space file" in proc.stderr


@pytest.mark.parametrize(
    "space",
    sorted((Path(__file__).resolve().parents[1] / "configs").rglob("*.space.yaml")),
    ids=lambda p: p.name,
)
def test_shipped_search_spaces_validate_against_their_base(space):
    base = space.with_name(space.name.removesuffix(".space.yaml") + "-short.yaml")
    assert load_space(space, load_config(base)).params


def test_a_retried_trial_is_the_same_recipe_in_the_same_folder(files):
    """A killed trial is retried under another number: named by its folder, not its number, its recipe is
    the run its values left there, which it resumes (it was refused as "a different configuration")."""
    from heartzoo.training.train import prepare_run_dir
    from heartzoo.training.tune import trial_config

    space = load_space(files / "space.yaml", parse_config(BASE))
    values = {"learning_rate": 0.002, "filters": 4}
    first, folder = trial_config(parse_config(BASE), space, values, files / "t")
    prepare_run_dir(first, folder, restart=False)
    (folder / "history.csv").write_text("epoch\n0\n")  # the killed trial had trained an epoch
    again, same = trial_config(parse_config(BASE), space, values, files / "t")
    assert same == folder and again == first
    prepare_run_dir(again, folder, restart=False)  # what the retry does: no refusal
    numbered = first.model_copy(update={"name": "tiny-search-t7"})  # named by its number, as it was
    with pytest.raises(
        ConfigError, match=r"holds a run of a different configuration \(sections that differ: name\)"
    ):
        prepare_run_dir(numbered, folder, restart=False)
    other, elsewhere = trial_config(parse_config(BASE), space, {**values, "filters": 8}, files / "t")
    assert elsewhere != folder and other.name != first.name


def test_enqueued_values_are_validated(tmp_path):
    space = {**SPACE, "enqueue": [{"learning_rate": 0.003}]}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(space))
    with pytest.raises(ConfigError, match=r"field 'enqueue\[0\]': give a value for each parameter"):
        load_space(path, parse_config(BASE))
    space["enqueue"] = [{"learning_rate": -1.0, "filters": 4}]
    path.write_text(yaml.safe_dump(space))
    with pytest.raises(ConfigError, match=r"field 'enqueue\[0\].learning_rate': -1.0 is outside its range"):
        load_space(path, parse_config(BASE))
    # a value the sampler could never give: Optuna's traceback, or (within the config's bounds) trained
    space["enqueue"] = [{"learning_rate": 0.5, "filters": 4}]
    path.write_text(yaml.safe_dump(space))
    with pytest.raises(ConfigError, match=r"field 'enqueue\[0\].learning_rate': 0.5 is outside its range"):
        load_space(path, parse_config(BASE))
    kernel = {"path": "model.params.kernel", "type": "categorical", "choices": [3, 5, 7]}
    space = {**space, "params": {**space["params"], "kernel": kernel}}
    space["enqueue"] = [{"learning_rate": 0.003, "filters": 4, "kernel": 4}]
    path.write_text(yaml.safe_dump(space))
    with pytest.raises(
        ConfigError, match=r"field 'enqueue\[0\].kernel': 4 is not one of its choices"
    ) as info:
        load_space(path, parse_config(BASE))
    assert "(got" not in str(info.value)  # the whole space file is not printed back


def test_a_trial_the_pruner_stops_says_so_in_the_report():
    """The report's note was empty for trials stopped early; it says by what, after which epoch, and keeps
    an enqueued trial's own note."""
    from heartzoo.training.tune import _reporter

    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=2.0))
    study.enqueue_trial({}, user_attrs={"note": "enqueued by the search space"})
    trial = study.ask()
    with pytest.raises(optuna.TrialPruned):
        _reporter(trial).on_epoch_end(0, {"val_macro_f1": 0.5})
    assert trial.user_attrs["note"] == (
        "enqueued by the search space; stopped by the median pruner after epoch 1: below earlier trials there"
    )


def test_the_picture_of_a_search_without_a_complete_trial_is_drawn(tmp_path):
    """Every trial refused for its size or pruned: `tune` ended in a traceback drawing the best so far."""
    from heartzoo.training.tune_report import trajectory

    study = optuna.create_study(direction="maximize")
    study.tell(study.ask(), state=optuna.trial.TrialState.PRUNED)
    assert trajectory(study, tmp_path / "trajectory.png").stat().st_size > 0


def test_a_run_folder_holds_one_study_of_one_config_and_space(files):
    """Another base config (or space) given the same run folder mixed its trials with the old ones, and
    best.yaml was written from a config they never trained: it is refused. The seed each process drew
    with is kept with the study."""
    from heartzoo.training.tune import open_study

    base = parse_config(BASE)
    space = load_space(files / "space.yaml", base)
    study = open_study(base, space, files / "s")
    assert study.user_attrs["sampler_seeds"] == [space.seed]
    longer = parse_config({**BASE, "train": {**BASE["train"], "epochs": 2}})
    with pytest.raises(ConfigError, match=r"study 'tiny-search' was searched with another base config"):
        open_study(longer, space, files / "s")
    wider = space.model_copy(update={"seed": space.seed + 1})
    with pytest.raises(ConfigError, match=r"searched with another search space"):
        open_study(base, wider, files / "s")
    assert (
        open_study(base, space, files / "s").user_attrs["config_sha256"] == study.user_attrs["config_sha256"]
    )


def test_what_a_search_needs_is_checked_before_its_study_is_written(files, tmp_path):
    """A wrong --storage or --run-dir, a run folder inside a zoo, or training data that is not there: a
    traceback, or a study of failed trials and a run folder left behind. Each is now a clear error, and
    nothing is written."""
    from heartzoo.errors import HeartzooError
    from heartzoo.training.tune import tune

    base = parse_config(BASE)
    space = load_space(files / "space.yaml", base)
    with pytest.raises(HeartzooError, match=r"--storage 'notaurl': not a database URL"):
        tune(base, space, files / "u", trials=1, storage="notaurl")
    assert not (files / "u").exists()
    (files / "afile").write_text("")
    with pytest.raises(HeartzooError, match=r"afile: a file, not a folder \(--run-dir\)"):
        tune(base, space, files / "afile", trials=1)
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    (zoo / "index.json").write_text('{"format": 1, "models": []}\n')
    with pytest.raises(HeartzooError, match=r"--run-dir"):
        tune(base, space, zoo / "search", trials=1)
    assert sorted(p.name for p in zoo.iterdir()) == ["index.json"]
    with pytest.raises(HeartzooError, match=r"no mitdb folder"):
        tune(base, space, files / "d", trials=1, env=Environment(data_dir=tmp_path / "nothing"))
    assert not (files / "d").exists()


def test_values_another_running_trial_holds_are_not_trained_twice():
    """Two processes seeded alike drew the same values and trained them in one folder at once: the
    later trial now sees the earlier one running there."""
    from heartzoo.training.tune import _held_by

    study = optuna.create_study(direction="maximize")
    first, second = study.ask(), study.ask()
    for t in (first, second):
        t.set_user_attr("folder", "trials/abc")
    assert _held_by(second, "trials/abc") == first.number and _held_by(first, "trials/abc") is None
    assert _held_by(second, "trials/other") is None
    study.tell(first, 0.5)
    assert _held_by(second, "trials/abc") is None  # finished: the retry resumes its run there


def test_a_retried_trial_numbers_its_epochs_on_from_its_first_attempt():
    """A trial run again resumed its training at epoch 2 but reported it as epoch 0, beside other trials'
    epoch 0 for the pruner."""
    from heartzoo.training.tune import _reporter

    study = optuna.create_study(direction="maximize")
    dist = {"lr": optuna.distributions.FloatDistribution(1e-4, 1e-2)}
    study.add_trial(
        optuna.create_trial(
            state=optuna.trial.TrialState.WAITING,
            params={"lr": 1e-3},
            distributions=dist,
            intermediate_values={0: 0.4, 1: 0.5},
        )
    )
    trial = study.ask()
    _reporter(trial).on_epoch_end(2, {"val_macro_f1": 0.6})
    assert study.trials[0].intermediate_values == {0: 0.4, 1: 0.5, 2: 0.6}


def test_a_report_without_a_complete_trial_leaves_no_best_config(files):
    """A best.yaml another search left in the run folder was printed as this search's best config."""
    from heartzoo.training.tune_report import BEST_FILE, write_report

    base = parse_config(BASE)
    space = load_space(files / "space.yaml", base)
    (files / "r").mkdir()
    (files / "r" / BEST_FILE).write_text("name: another-search-tuned\n")
    study = optuna.create_study(direction="maximize")
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    report = write_report(study, base, space, files / "r")
    assert "No trial completed" in report.read_text() and not (files / "r" / BEST_FILE).exists()


def test_a_base_name_too_long_for_its_trials_is_refused_with_the_space(files):
    """A base config named with 51-64 characters trains, but each trial's name (`NAME-t` and 12 hex
    digits) is over the limit: every trial failed, and the search exited 0. The space is checked under a
    trial's name."""
    long = parse_config({**BASE, "name": "x" * 60})
    with pytest.raises(
        ConfigError, match=r"field 'name': 'x{60}' is too long to search: .* at most 50 characters"
    ):
        load_space(files / "space.yaml", long)


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")  # the running trial is asked, not optimized
def test_a_process_that_finds_trials_running_seeds_its_sampler_apart(files):
    """Alone, a search's sampler is seeded from the space's seed and the trials held, so it repeats; a
    process that finds another's trial running draws apart from it (both seeds kept with the study)."""
    from heartzoo.training.tune import open_study

    base = parse_config(BASE)
    space = load_space(files / "space.yaml", base)
    study = open_study(base, space, files / "p")
    assert study.user_attrs["sampler_seeds"] == [space.seed]
    assert open_study(base, space, files / "p").user_attrs["sampler_seeds"] == [space.seed]  # repeats
    study.ask()  # another process's trial, running
    seeds = open_study(base, space, files / "p").user_attrs["sampler_seeds"]
    assert len(seeds) == 2 and space.seed in seeds and max(seeds) > space.seed + 1


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")  # the killed trial is asked, not optimized
def test_a_trial_whose_process_was_killed_is_failed_and_retried_when_a_search_starts(files, monkeypatch):
    """Killed with its process, a trial stayed "running" for ever when the search was started again
    before its heartbeat's grace ran out (stale trials were only looked for as new trials started, and a
    study that held its trials started none). A search now fails it as it starts, and queues it again
    with its values and its epochs' reports."""
    from heartzoo.training import tune as tune_module

    monkeypatch.setattr(tune_module, "GRACE_S", 1)
    base = parse_config(BASE)
    space = load_space(files / "space.yaml", base)
    study = tune_module.open_study(base, space, files / "k")
    killed = study.ask({"learning_rate": optuna.distributions.FloatDistribution(5e-4, 1e-2, log=True)})
    killed.report(0.4, 0)
    study._storage.record_heartbeat(killed._trial_id)  # what a trial's heartbeat thread writes
    time.sleep(2.5)  # past the grace of 1 s, counted in SQLite's whole seconds
    again = tune_module.open_study(base, space, files / "k")
    first, retry = again.trials
    assert first.state == optuna.trial.TrialState.FAIL
    assert retry.state == optuna.trial.TrialState.WAITING
    assert retry.params == first.params and retry.intermediate_values == {0: 0.4}
