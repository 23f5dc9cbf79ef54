"""The step tables: every step has a function and a component taking exactly its inputs, and a
step never reads an output that is not made before it."""

from __future__ import annotations

import importlib
import inspect

import pytest

import tickcast.orchestration.kfp_values as kfp_values
import tickcast.orchestration.steps as steps
from tickcast.orchestration.dag import AS_OF, DAILY, RETRAINING, OutputOf, Step, check

# What the runner and KFP hand a step besides its inputs: output artifacts and the settings.
SUPPLIED = {"metrics", "report", "settings"}
ALL_STEPS = {step.function: step for step in (*DAILY, *RETRAINING)}


@pytest.mark.parametrize("step", sorted(ALL_STEPS))
def test_a_step_function_and_its_component_take_its_inputs(step: str) -> None:
    inputs = set(ALL_STEPS[step].inputs)
    function = set(inspect.signature(getattr(steps, step)).parameters) - SUPPLIED
    boundary = inspect.signature(getattr(kfp_values, step))
    component = getattr(importlib.import_module(f"components.{step}"), step)
    declared = set(component.component_spec.inputs or {})
    outputs = set(component.component_spec.outputs or {}) - {"Output"}
    assert function == inputs, f"steps.{step} takes {sorted(function)}"
    assert declared == inputs, f"components/{step}.py takes {sorted(declared)}"
    assert set(boundary.parameters) == inputs | outputs, f"kfp_values.{step}: {boundary}"
    assert outputs <= SUPPLIED


def test_a_step_reading_a_later_output_is_refused() -> None:
    check(DAILY)
    check(RETRAINING)
    backwards = (
        Step("decide", "decide", {"as_of": AS_OF, "monitoring": OutputOf("monitor")}),
        Step("monitor", "monitor", {"as_of": AS_OF}),
    )
    with pytest.raises(ValueError, match="'decide': input 'monitoring' reads 'monitor'"):
        check(backwards)
