"""Text environments and their registry.

``function-v0``: the faithful UserRL Function-Gym (tasks from :func:`bao.envs.faithful.load_original_tasks`);
``function-proc-v0``: the same mechanics on procedurally generated rules (:mod:`bao.envs.procedural`).
Both use a horizon of 16 steps, as UserRL training and evaluation do. ``telepathy-v0`` (the original entities,
judged by an LLM user passed as ``user=``) and ``telepathy-proc-v0`` (entities from a seeded attribute
knowledge base, answered by the programmatic ``KBUser``) use BAO's horizon of 12; ``turtle-v0`` (original stories,
LLM judge) and ``turtle-proc-v0`` (procedural fact puzzles, programmatic ``FactUser``) use 15. Tasks are passed to
``reset(options={"task": task})``, so the env id fixes the mechanics and the task source picks the data.
"""

from bao.envs.base import ENVS, Task, TextEnv, format_action, make, register
from bao.envs.function_gym import FunctionGym
from bao.envs.telepathy import TelepathyGym
from bao.envs.turtle import TurtleGym

register("function-v0", FunctionGym, max_steps=16)
register("function-proc-v0", FunctionGym, max_steps=16)
register("telepathy-v0", TelepathyGym, max_steps=12)  # faithful: pass user= an LLM user (bao.users)
register("telepathy-proc-v0", TelepathyGym, max_steps=12, user="kb")
register("turtle-v0", TurtleGym, max_steps=15)  # faithful: pass user= an LLM judge (bao.users)
register("turtle-proc-v0", TurtleGym, max_steps=15, user="facts")

__all__ = ["ENVS", "FunctionGym", "Task", "TelepathyGym", "TextEnv", "TurtleGym", "format_action", "make",
           "register"]
