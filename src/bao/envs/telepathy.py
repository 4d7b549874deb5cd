"""Telepathy-Gym: guess the hidden entity by asking yes/no questions (UserRL's 20-questions gym).

Mechanics follow the original (``userrl_repo.md`` §1.6): ``[answer] <guess>`` submits a guess, which a judge
checks (exact or clearly synonymous; no partial credit); every other action, ``[action] <question>`` included,
is a question the user answers with Yes, No or Maybe. The first correct guess gives reward 1 and ends the
episode; ``[finish]`` ends it with nothing. U(tau) counts guesses (the ``answer`` action). BAO's horizon is 12.

Who answers is a *user simulator* (:mod:`bao.users`): the programmatic :class:`KBUser` for the embedded gym
(``telepathy-kb-v0``), or an LLM over an endpoint for the faithful one.

**Embedded version (our design, the CPU default).** Entities are built from a seeded attribute knowledge base:
each entity is one value per attribute (e.g. size, colour, kind) and its name lists them in a fixed order
("small red frog"). The first user message names the category and the attributes with their possible values,
so a question can be any yes/no question over them. :class:`KBUser` understands questions that mention values:

* values of one attribute are alternatives ("Is it red or blue?": yes iff the colour is one of them);
* values of different attributes must all hold ("Is it a red frog?");
* a question that pins every attribute to one value is a guess in disguise; it gets
  :data:`IDENTITY_REPLY` instead of an answer, so questions cannot verify a guess for free (that would
  bypass U(tau)); the faithful gym keeps the original behaviour and eval reports how often questions name a
  candidate;
* a question that mentions no value gets "Maybe" (the original's answer for the undeterminable).

Guesses are judged by the set of value words they contain: right iff it is exactly the target's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import product
from typing import Sequence

from bao.io import MissingInput
from bao.envs.qa import QuestionAnswerGym
from bao.seeding import rng

IDENTITY_REPLY = "That question names one exact entity. To guess, use answer."
MAYBE = "Maybe"

#: attribute pools of the embedded knowledge base, in name order (our choice; the config picks which and how many)
ATTRIBUTE_POOLS: dict[str, tuple[str, ...]] = {
    "size": ("tiny", "small", "large", "huge", "giant", "little"),
    "pattern": ("striped", "spotted", "plain", "dotted", "banded", "speckled"),
    "color": ("red", "blue", "green", "yellow", "black", "white", "brown", "grey"),
    "kind": ("frog", "bird", "fish", "snake", "beetle", "mouse", "crab", "moth"),
}

_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class EntityTask:
    """One Telepathy problem. Embedded tasks carry ``attributes``; faithful ones carry the original
    ``description`` (the ``target_entity`` string the LLM user reads) and leave ``attributes`` empty."""

    task_id: str
    target: str
    category: str
    messages: tuple[dict, ...] = field(hash=False)
    split: str
    attributes: tuple[tuple[str, str], ...] = ()
    description: str = ""
    aliases: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class KBSpec:
    """The embedded knowledge base: which attributes (in name order) and how many values each."""

    attributes: tuple[str, ...] = ("size", "color", "kind")
    values_per_attribute: int = 5
    category: str = "animal"
    test_fraction: float = 0.2

    def __post_init__(self):
        unknown = [a for a in self.attributes if a not in ATTRIBUTE_POOLS]
        if unknown or not self.attributes:
            raise ValueError(f"attributes must be a non-empty subset of {sorted(ATTRIBUTE_POOLS)}, got {unknown}")
        smallest = min(len(ATTRIBUTE_POOLS[a]) for a in self.attributes)
        if not 2 <= self.values_per_attribute <= smallest:
            raise ValueError(f"values_per_attribute must be in 2..{smallest}, got {self.values_per_attribute}")

    def values(self) -> dict[str, tuple[str, ...]]:
        return {a: ATTRIBUTE_POOLS[a][: self.values_per_attribute] for a in self.attributes}


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def entity_name(attributes: Sequence[tuple[str, str]]) -> str:
    return " ".join(v for _, v in attributes)


def enumerate_entities(spec: KBSpec) -> list[tuple[tuple[str, str], ...]]:
    vals = spec.values()
    return [tuple(zip(spec.attributes, combo)) for combo in product(*(vals[a] for a in spec.attributes))]


def split_entities(spec: KBSpec, seed: int) -> tuple[list, list]:
    """Seeded train/test split of the entities (test = entities never seen in training)."""
    ents = enumerate_entities(spec)
    rng(seed, "telepathy", "split").shuffle(ents)
    n_test = max(1, round(spec.test_fraction * len(ents)))
    return ents[n_test:], ents[:n_test]


def opening_message(spec: KBSpec) -> str:
    listing = "; ".join(f"{a}: {', '.join(v)}" for a, v in spec.values().items())
    article = "an" if spec.category[:1] in "aeiou" else "a"
    return (f"I am thinking of {article} {spec.category}. Its name is its {', '.join(spec.attributes)} in this order. "
            f"Possible values: {listing}. Ask yes/no questions, then answer with its name.\n")


TELEPATHY_SYSTEM_PROMPT = (
    "TelepathyGym: guess the hidden entity. Call interact_with_env with choice action and a yes/no question "
    "to learn about it; answer and the entity's name to guess. The user checks every guess: answer only when "
    "sure. Think in <think></think> before each call. You have {horizon} rounds."
)


def make_entity_tasks(spec: KBSpec, split: str, n: int, seed: int, system_prompt: str, horizon: int) -> list:
    """``n`` tasks drawn (with replacement) from ``split``'s entities with ``rng(seed, "telepathy", split)``."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    train, test = split_entities(spec, seed)
    pool = train if split == "train" else test
    gen = rng(seed, "telepathy", "tasks", split)
    messages = ({"role": "system", "content": system_prompt.format(horizon=horizon)},
                {"role": "user", "content": opening_message(spec)})
    out = []
    for i in range(n):
        attrs = gen.choice(pool)
        out.append(EntityTask(task_id=f"tele-{split}-{i:05d}", target=entity_name(attrs), category=spec.category,
                              messages=messages, split=split, attributes=attrs, meta={"source": "kb"}))
    return out


@dataclass(frozen=True)
class Judgement:
    """A judge's verdict on one answer: ``score`` in [0, 1] and the feedback shown to the agent."""

    score: float
    feedback: str
    criteria: tuple[float, ...] = ()


class KBUser:
    """Programmatic user and judge of the embedded Telepathy-Gym (deterministic, offline)."""

    name = "telepathy-kb-v0"

    def __init__(self, spec: KBSpec):
        self.spec = spec
        self.value_of = {v: a for a, vs in spec.values().items() for v in vs}

    def mentioned(self, text: str) -> dict[str, set[str]]:
        """Attribute -> the set of its values the text mentions."""
        out: dict[str, set[str]] = {}
        for w in words(text):
            a = self.value_of.get(w)
            if a is not None:
                out.setdefault(a, set()).add(w)
        return out

    def reply(self, task: EntityTask, question: str) -> str:
        asked = self.mentioned(question)
        if not asked:
            return MAYBE
        if len(asked) == len(self.spec.attributes) and all(len(v) == 1 for v in asked.values()):
            return IDENTITY_REPLY
        truth = dict(task.attributes)
        return "Yes" if all(truth[a] in vs for a, vs in asked.items()) else "No"

    def judge(self, task: EntityTask, guess: str) -> Judgement:
        said = [w for w in words(guess) if w in self.value_of]
        right = sorted(said) == sorted(v for _, v in task.attributes)
        if right:
            return Judgement(1.0, f"Correct! It is the {task.target}.")
        return Judgement(0.0, "No, that is not the entity I am thinking of.")


class TelepathyGym(QuestionAnswerGym):
    """The gym; ``user`` answers questions and judges guesses (``reply``/``judge``); ``user="kb"`` builds the
    programmatic :class:`KBUser` over ``kb``. Mechanics: :class:`bao.envs.qa.QuestionAnswerGym`."""

    task_type = EntityTask

    def __init__(self, max_steps: int = 12, user=None, kb: KBSpec | None = None):
        if user is None:
            raise ValueError("TelepathyGym needs a user simulator: user='kb' (embedded) or an LLM user (bao.users)")
        super().__init__(max_steps, KBUser(kb or KBSpec()) if user == "kb" else user)

    def _opening(self, task: EntityTask) -> str:
        return f"I am thinking of {task.category}; guess it."


def load_original_entities(userrl_dir, split: str) -> list[EntityTask]:
    """The faithful Telepathy tasks: the UserRL parquet split (360 train / 41 test) with its original prompts;
    the hidden entity is the row's ``reward_model`` (``title`` and the ``ground_truth`` description the LLM
    user reads). Raises FileNotFoundError naming the missing file."""
    from pathlib import Path

    import pandas as pd

    path = Path(userrl_dir) / "parquet" / "telepathy_multiturn" / f"{split}.parquet"
    if not path.exists():
        raise MissingInput(f"UserRL Telepathy split not found: {path} (set data.userrl_dir)")
    out = []
    for i, row in enumerate(pd.read_parquet(path).itertuples()):
        rm = row.reward_model
        messages = tuple({"role": str(m["role"]), "content": str(m["content"])} for m in row.prompt)
        out.append(EntityTask(task_id=f"tele-orig-{split}-{i:03d}", target=str(rm["title"]),
                              category=str(rm["category"]), messages=messages, split=split,
                              description=str(rm["ground_truth"]), meta={"source": "userrl"}))
    return out
