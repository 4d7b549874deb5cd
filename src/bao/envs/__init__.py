"""Text environments and their registry.

``function-v0``: the faithful UserRL Function-Gym (tasks from :func:`bao.envs.faithful.load_original_tasks`);
``function-proc-v0``: the same mechanics on procedurally generated rules (:mod:`bao.envs.procedural`).
Both use a horizon of 16 steps, as UserRL training and evaluation do. Tasks are passed to
``reset(options={"task": task})``, so the env id fixes the mechanics and the task source picks the data.
"""

from bao.envs.base import ENVS, Task, TextEnv, format_action, make, register
from bao.envs.function_gym import FunctionGym

register("function-v0", FunctionGym, max_steps=16)
register("function-proc-v0", FunctionGym, max_steps=16)

__all__ = ["ENVS", "FunctionGym", "Task", "TextEnv", "format_action", "make", "register"]
