"""Hyperparameter search over model family and training parameters, two interchangeable backends
sharing one objective: Ray Tune (OptunaSearch + ASHA; local, or a KubeRay cluster by address) and
plain in-process Optuna (TPE + successive halving) for quick local runs."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from tickcast.config import ModelParams, SearchSpace, TrainingSettings, TuningSettings
from tickcast.features.dataset_version import DatasetArrays, DatasetVersion
from tickcast.training.fit import train_model

log = logging.getLogger(__name__)

State = Literal["complete", "stopped", "failed"]  # stopped: pruned by the scheduler
Report = Callable[[int, float], None]  # (epoch, validation loss); may raise to stop the trial


class TrialRecord(BaseModel):
    number: int
    params: ModelParams
    validation_loss: float | None  # best over the epochs it ran
    epochs: int
    state: State
    history: list[float]


def objective(
    version: DatasetVersion,
    arrays: DatasetArrays,
    params: ModelParams,
    loop: TrainingSettings,
    report: Report,
) -> float:
    """Train `params`, reporting the validation loss after every epoch; the best validation loss."""
    trained = train_model(
        version, arrays, params, loop, on_epoch=lambda r: report(r.epoch, r.validation_loss)
    )
    return trained.best_validation_loss


def search(
    tuning: TuningSettings,
    version: DatasetVersion,
    arrays: DatasetArrays,
    loop: TrainingSettings,
    storage: Path,
) -> list[TrialRecord]:
    """Run the configured backend; `loop` is the training loop with the per-trial epoch budget."""
    if tuning.backend == "ray":
        return _ray_search(tuning, version, arrays, loop, storage)
    return _optuna_search(tuning, version, arrays, loop)


def _optuna_search(
    tuning: TuningSettings, version: DatasetVersion, arrays: DatasetArrays, loop: TrainingSettings
) -> list[TrialRecord]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=tuning.seed),
        pruner=optuna.pruners.SuccessiveHalvingPruner(
            min_resource=tuning.grace_period, reduction_factor=tuning.reduction_factor
        ),
    )

    def run(trial: optuna.Trial) -> float:
        params = _suggest(tuning.space, trial)
        trial.set_user_attr("params", params.model_dump())

        def report(epoch: int, loss: float) -> None:
            trial.report(loss, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()

        return objective(version, arrays, params, loop, report)

    study.optimize(run, n_trials=tuning.trials, catch=(RuntimeError, ValueError))
    states: dict[str, State] = {"COMPLETE": "complete", "PRUNED": "stopped"}
    return [
        _record(
            trial.number,
            trial.user_attrs["params"],
            [trial.intermediate_values[e] for e in sorted(trial.intermediate_values)],
            states.get(trial.state.name, "failed"),
        )
        for trial in study.trials
    ]


def _suggest(space: SearchSpace, trial: Any) -> ModelParams:
    return ModelParams(
        family=trial.suggest_categorical("family", space.family),
        hidden_size=trial.suggest_categorical("hidden_size", space.hidden_size),
        num_layers=trial.suggest_categorical("num_layers", space.num_layers),
        dropout=trial.suggest_float("dropout", *space.dropout),
        learning_rate=trial.suggest_float("learning_rate", *space.learning_rate, log=True),
        batch_size=trial.suggest_categorical("batch_size", space.batch_size),
        tabular_sessions=trial.suggest_categorical("tabular_sessions", space.tabular_sessions),
        ridge_alpha=trial.suggest_float("ridge_alpha", *space.ridge_alpha, log=True),
        num_leaves=trial.suggest_categorical("num_leaves", space.num_leaves),
        tree_learning_rate=trial.suggest_float(
            "tree_learning_rate", *space.tree_learning_rate, log=True
        ),
        min_child_samples=trial.suggest_categorical("min_child_samples", space.min_child_samples),
    )


def _ray_trainable(
    config: dict[str, Any], version: DatasetVersion, arrays: DatasetArrays, loop: TrainingSettings
) -> None:
    from ray import tune

    def report(epoch: int, loss: float) -> None:
        tune.report({"validation_loss": loss, "epoch": epoch})

    objective(version, arrays, ModelParams.model_validate(config), loop, report)


def trial_gpus(tuning: TuningSettings, cluster: dict[str, float]) -> float:
    """GPUs each Ray trial asks for. On a Ray cluster (ray_address set), gpus_per_trial whatever
    is up right now: GPU workers scaled to zero start only when trials ask for GPUs (KubeRay's
    autoscaler scales on pending demand), and asking for none ran every trial on the CPU head.
    On a local Ray, only when this machine has GPUs."""
    if tuning.ray_address is not None or cluster.get("GPU", 0) > 0:
        return tuning.gpus_per_trial
    return 0.0


def _ray_search(
    tuning: TuningSettings,
    version: DatasetVersion,
    arrays: DatasetArrays,
    loop: TrainingSettings,
    storage: Path,
) -> list[TrialRecord]:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # no ~/.ray/auth_token on laptops
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=tuning.ray_address,
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,
            _temp_dir=_session_dir(storage) if tuning.ray_address is None else None,
        )
    try:
        gpus = trial_gpus(tuning, ray.cluster_resources())
        space = tuning.space
        param_space = {
            "family": tune.choice(space.family),
            "hidden_size": tune.choice(space.hidden_size),
            "num_layers": tune.choice(space.num_layers),
            "dropout": tune.uniform(*space.dropout),
            "learning_rate": tune.loguniform(*space.learning_rate),
            "batch_size": tune.choice(space.batch_size),
            "tabular_sessions": tune.choice(space.tabular_sessions),
            "ridge_alpha": tune.loguniform(*space.ridge_alpha),
            "num_leaves": tune.choice(space.num_leaves),
            "tree_learning_rate": tune.loguniform(*space.tree_learning_rate),
            "min_child_samples": tune.choice(space.min_child_samples),
        }
        trainable = tune.with_resources(
            tune.with_parameters(_ray_trainable, version=version, arrays=arrays, loop=loop),
            {"cpu": tuning.cpus_per_trial, "gpu": gpus},
        )
        tuner = tune.Tuner(
            trainable,
            param_space=param_space,
            tune_config=tune.TuneConfig(
                metric="validation_loss",
                mode="min",
                num_samples=tuning.trials,
                search_alg=OptunaSearch(seed=tuning.seed),
                scheduler=ASHAScheduler(
                    max_t=loop.max_epochs,
                    grace_period=tuning.grace_period,
                    reduction_factor=tuning.reduction_factor,
                    time_attr="training_iteration",
                ),
            ),
            run_config=tune.RunConfig(
                storage_path=str(storage), name=f"tune-{version.id}", verbose=0
            ),
        )
        results = tuner.fit()
    finally:
        if started_here:
            ray.shutdown()
    return [_ray_record(number, results[number], loop) for number in range(len(results))]


def _ray_record(number: int, result: Any, loop: TrainingSettings) -> TrialRecord:
    """A finished Ray trial as a record: complete, stopped early by the scheduler, or failed."""
    frame = result.metrics_dataframe
    history = [] if frame is None or frame.empty else [float(v) for v in frame["validation_loss"]]
    state: State = "failed" if result.error else "complete"
    if (
        state == "complete"
        and len(history) < loop.max_epochs
        and not _early_stopped(history, loop.patience)
    ):
        state = "stopped"
    return _record(number, result.config or {}, history, state)


def _record(number: int, params: dict[str, Any], history: list[float], state: State) -> TrialRecord:
    return TrialRecord(
        number=number,
        params=ModelParams.model_validate(params),
        validation_loss=min(history) if history else None,
        epochs=len(history),
        state=state,
        history=history,
    )


# Ray puts Unix sockets under its session folder; their paths must stay within ~107 bytes.
_MAX_SESSION_ROOT = 44


def _session_dir(storage: Path) -> str | None:
    """A local Ray keeps its session logs beside the results when that path is short enough."""
    session = storage / "tmp"
    if len(str(session)) > _MAX_SESSION_ROOT:
        log.info(
            "Ray session logs stay in Ray's temp folder: %s is too long for its sockets", session
        )
        return None
    session.mkdir(parents=True, exist_ok=True)
    return str(session)


def _early_stopped(history: list[float], patience: int) -> bool:
    """True when the trial ended on the training loop's own early stopping."""
    if len(history) <= patience:
        return False
    best = min(range(len(history)), key=history.__getitem__)
    return len(history) - 1 - best >= patience


def best_trial(records: list[TrialRecord]) -> TrialRecord:
    scored = [
        r for r in records if r.validation_loss is not None and math.isfinite(r.validation_loss)
    ]
    if not scored:
        raise RuntimeError("every trial failed: no validation loss to rank")
    return min(scored, key=lambda r: r.validation_loss or math.inf)
