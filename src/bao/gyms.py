"""The gyms the pipeline knows, behind one adapter each (``GYMS``, keyed by the name used in ``cfg.gyms``).

A stage never branches on the gym: it asks the adapter for the gym's config section, its tasks for a split,
an env factory, its horizon and T_pen, and its scripted teacher's episodes. Adding a gym = one adapter here,
one config section, one env module and one teacher.

Splits: ``train``; ``test`` (rules / entities / puzzles never seen in training); ``test_seen`` (training ones,
fresh draws); ``faithful`` (the original UserRL test split: Function-Gym's rules are checked by code, Telepathy
and Turtle need an LLM user and judge, ``users.eval``); ``faithful_train`` (the original training split, played
by the LLM teacher with the LLM user ``users.train``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from bao.registry import Registry
from bao.seeding import FRESH_DRAWS


@dataclass(frozen=True)
class Gym:
    name: str
    section: Callable[[Any], Any]
    """cfg -> this gym's config section."""
    tasks: Callable[..., list]
    """(cfg, split, n=None, seed=None) -> tasks."""
    env_factory: Callable[[Any, str], Callable[[], Any]]
    """(cfg, split) -> a zero-argument env constructor."""
    teacher_episodes: Callable[..., list]
    """(cfg, style, n, seed, progress=False) -> TeacherEpisode list."""
    eval_splits: Callable[[Any], list]
    cluster_of: Callable[[Any], str] = lambda task: task.task_id
    """task -> the held-out unit it was drawn from (a rule, an entity, a puzzle); tasks sharing one form one
    cluster of the cluster bootstrap (:func:`task_clusters`). Default: every task its own cluster."""
    cluster_unit: str = "tasks"
    """what a cluster is, in words, for the table notes ("rules")."""
    world: Callable[[Any], Any] = lambda cfg: None
    """cfg -> the embedded gym's world that its programmatic user answers from (Telepathy's ``KBSpec``, Turtle's
    ``PuzzleSpec``; None where the env holds it per task, as Function-Gym's rules)."""

    def sft_episodes(self, cfg, style: str, n: int, seed: int, progress: bool = False) -> list:
        """SFT teacher episodes: the scripted expert on the embedded gym, or (``teacher.source: llm``) the LLM
        teacher on the original training tasks (``faithful_train``)."""
        if cfg.teacher.source == "scripted":
            return self.teacher_episodes(cfg, style, n, seed, progress=progress)
        from bao.teacher.llm_teacher import generate

        tasks = self.tasks(cfg, "faithful_train")[:n]
        if progress:
            from tqdm import tqdm

            tasks = tqdm(tasks, desc=f"llm-teacher[{self.name}/{style}]", unit="ep", dynamic_ncols=True)
        return generate(make_chat(cfg.teacher.llm), self.env_factory(cfg, "faithful_train"), tasks, style)

    def horizon(self, cfg) -> int:
        return self.section(cfg).horizon

    def t_pen(self, cfg) -> int:
        return self.section(cfg).t_pen

    def success_threshold(self, cfg) -> float:
        """Score that counts as solved (Turtle: configurable; binary gyms: 1)."""
        return float(getattr(self.section(cfg), "success_threshold", 1.0))


GYMS: Registry[Gym] = Registry("gym")


def task_clusters(cfg, gym: str, split: str) -> dict[str, str]:
    """task_id -> cluster key for one split, from its tasks rebuilt from ``cfg`` (deterministic; measured 1-40 ms
    per split once imported, the first call adds ~0.2-0.5 s of imports). Episodes carry only ``task_id``, so the
    tables use this to group a split's tasks by the rule / entity / puzzle they were drawn from. Raises what
    ``tasks`` raises (FileNotFoundError for a faithful split without the UserRL data)."""
    g = GYMS.get(gym)
    return {t.task_id: g.cluster_of(t) for t in g.tasks(cfg, split)}


def _puzzle_key(task) -> str:
    """A Turtle puzzle's identity: its (slot, value) set, the key that assigns it to the test split (embedded),
    or its story title (faithful)."""
    return "|".join(f"{s}={v}" for s, v, _ in sorted(task.facts)) if task.facts else task.title


class SplitUnavailable(RuntimeError):
    """A split that cannot run in this setup (e.g. a faithful LLM-user split with no user configured)."""


def make_chat(user_cfg):
    """The chat backend of a configured LLM (``users.train`` / ``users.eval`` / ``agents.<name>``)."""
    if user_cfg.kind == "endpoint":
        from bao.config import resolve_path
        from bao.users.endpoint import ChatEndpoint, EndpointSettings

        return ChatEndpoint(EndpointSettings(
            base_url=user_cfg.base_url, model=user_cfg.model, api_key_env=user_cfg.api_key_env,
            temperature=user_cfg.temperature, max_tokens=user_cfg.max_tokens, timeout_s=user_cfg.timeout_s,
            retries=user_cfg.retries, cache_dir=str(resolve_path(user_cfg.cache_dir)) if user_cfg.cache_dir else ""))
    if user_cfg.kind == "hf":
        from bao.users.llm import HFChat

        return HFChat(user_cfg.model, max_new_tokens=user_cfg.max_tokens)
    raise SplitUnavailable("no LLM configured (kind: none); set users.eval (users.train for teacher data) to an "
                           "endpoint or an hf model directory to run the faithful split")


# -- Function-Gym -------------------------------------------------------------------------------------------
def _function_tasks(cfg, split, n=None, seed=None):
    if split in ("faithful", "faithful_train"):
        from bao.config import resolve_path
        from bao.envs.faithful import load_original_tasks

        if split == "faithful_train":
            return load_original_tasks(resolve_path(cfg.data.userrl_dir), "train")
        return load_original_tasks(resolve_path(cfg.data.userrl_dir), "test")[: cfg.eval.faithful_max_tasks]
    from bao.teacher.function_teacher import procedural_tasks

    return procedural_tasks(cfg, split, n=n, seed=seed)


def _function_env(cfg, split):
    from bao.envs import make

    env_id = "function-v0" if split in ("faithful", "faithful_train") else cfg.function.id
    return lambda: make(env_id, max_steps=cfg.function.horizon)


def _function_teacher(cfg, style, n, seed, progress=False):
    from bao.teacher.function_teacher import generate

    return generate(cfg, style, n, seed, progress=progress)


GYMS.register("function", Gym(
    name="function", section=lambda cfg: cfg.function, tasks=_function_tasks, env_factory=_function_env,
    teacher_episodes=_function_teacher,
    eval_splits=lambda cfg: ["test", "test_seen"] + (["faithful"] if cfg.function.faithful_eval else []),
    cluster_of=lambda task: task.rule, cluster_unit="rules",
))


# -- shared by the question-and-answer gyms -----------------------------------------------------------------
def _split_tasks(cfg, section, split, n, seed, draw, load_original):
    """Tasks of a split: ``draw(split, n, seed)`` makes embedded ones (``test_seen`` = training draws with
    another seed), ``load_original(dir, split)`` reads the UserRL ones (``faithful`` capped, ``faithful_train``)."""
    from dataclasses import replace

    base = cfg.seed if seed is None else seed
    if split in FRESH_DRAWS:  # fresh draws of the training distribution, each with its own seed
        offset, tag = FRESH_DRAWS[split]
        tasks = draw("train", section.n_test_tasks if n is None else n, base + offset)
        return [replace(t, task_id=t.task_id.replace("train", tag), split=split) for t in tasks]
    if split in ("faithful", "faithful_train"):
        from bao.config import resolve_path

        tasks = load_original(resolve_path(cfg.data.userrl_dir), "train" if split == "faithful_train" else "test")
        return tasks if split == "faithful_train" else tasks[: cfg.eval.faithful_max_tasks]
    if split not in ("train", "test"):
        raise ValueError(f"unknown split {split!r}")
    if n is None:
        n = section.n_train_tasks if split == "train" else section.n_test_tasks
    return draw(split, n, base)


def _llm_user(cfg, split, user_cls):
    """The LLM user of a faithful split: ``users.eval`` to evaluate, ``users.train`` for teacher data."""
    return user_cls(make_chat(cfg.users.eval if split == "faithful" else cfg.users.train))


def _play_scripted(teacher, tasks, seed, label, progress):
    if progress:
        from tqdm import tqdm

        tasks = tqdm(tasks, desc=f"teacher[{label}]", unit="ep", dynamic_ncols=True)
    return [teacher.play(t, seed) for t in tasks]


# -- Telepathy-Gym ------------------------------------------------------------------------------------------
def _kb(cfg):
    from bao.envs.telepathy import KBSpec

    t = cfg.telepathy
    return KBSpec(tuple(t.attributes), t.values_per_attribute, t.category, t.test_fraction)


def _telepathy_tasks(cfg, split, n=None, seed=None):
    from bao.envs.telepathy import TELEPATHY_SYSTEM_PROMPT, load_original_entities, make_entity_tasks

    def draw(sp, k, sd):
        return make_entity_tasks(_kb(cfg), sp, k, sd, TELEPATHY_SYSTEM_PROMPT, cfg.telepathy.horizon)

    return _split_tasks(cfg, cfg.telepathy, split, n, seed, draw, load_original_entities)


def _telepathy_env(cfg, split):
    from bao.envs import make

    t = cfg.telepathy
    if split in ("faithful", "faithful_train"):
        from bao.users.llm import LLMTelepathyUser

        user = _llm_user(cfg, split, LLMTelepathyUser)
        return lambda: make("telepathy-v0", max_steps=t.horizon, user=user)
    kb = _kb(cfg)
    return lambda: make(t.id, max_steps=t.horizon, kb=kb)


def _telepathy_teacher(cfg, style, n, seed, progress=False):
    from bao.teacher.telepathy_teacher import TelepathyTeacher

    teacher = TelepathyTeacher(_kb(cfg), style, cfg.teacher.early_commit_prob, cfg.telepathy.horizon)
    return _play_scripted(teacher, _telepathy_tasks(cfg, "train", n=n, seed=seed), seed, f"telepathy/{style}",
                          progress)


GYMS.register("telepathy", Gym(
    name="telepathy", section=lambda cfg: cfg.telepathy, tasks=_telepathy_tasks, env_factory=_telepathy_env,
    teacher_episodes=_telepathy_teacher,
    eval_splits=lambda cfg: ["test", "test_seen"] + (["faithful"] if cfg.telepathy.faithful_eval else []),
    cluster_of=lambda task: task.target, cluster_unit="entities", world=_kb,
))


# -- Turtle-Gym ---------------------------------------------------------------------------------------------
def _puzzles(cfg):
    from bao.envs.turtle import PuzzleSpec

    t = cfg.turtle
    return PuzzleSpec(tuple(t.slots), t.values_per_class, t.n_criteria, t.answer_word_cap, t.test_fraction)


def _turtle_tasks(cfg, split, n=None, seed=None):
    from bao.envs.turtle import load_original_stories, make_puzzle_tasks

    def draw(sp, k, sd):
        return make_puzzle_tasks(_puzzles(cfg), sp, k, sd, cfg.turtle.horizon)

    return _split_tasks(cfg, cfg.turtle, split, n, seed, draw, load_original_stories)


def _turtle_env(cfg, split):
    from bao.envs import make

    t = cfg.turtle
    if split in ("faithful", "faithful_train"):
        from bao.users.llm import LLMTurtleUser

        user = _llm_user(cfg, split, LLMTurtleUser)
        return lambda: make("turtle-v0", max_steps=t.horizon, user=user, success_threshold=t.success_threshold)
    spec = _puzzles(cfg)
    return lambda: make(t.id, max_steps=t.horizon, spec=spec, success_threshold=t.success_threshold)


def _turtle_teacher(cfg, style, n, seed, progress=False):
    from bao.teacher.turtle_teacher import TurtleTeacher

    teacher = TurtleTeacher(_puzzles(cfg), style, cfg.teacher.early_commit_prob, cfg.turtle.horizon)
    return _play_scripted(teacher, _turtle_tasks(cfg, "train", n=n, seed=seed), seed, f"turtle/{style}", progress)


GYMS.register("turtle", Gym(
    name="turtle", section=lambda cfg: cfg.turtle, tasks=_turtle_tasks, env_factory=_turtle_env,
    teacher_episodes=_turtle_teacher,
    eval_splits=lambda cfg: ["test", "test_seen"] + (["faithful"] if cfg.turtle.faithful_eval else []),
    cluster_of=_puzzle_key, cluster_unit="puzzles", world=_puzzles,
))
