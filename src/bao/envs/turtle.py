"""Turtle-Gym ("turtle soup" lateral-thinking puzzles): reconstruct the hidden story behind a surface.

Mechanics follow the original (``userrl_repo.md`` §1.7): ``[answer] <story>`` is scored against weighted
criteria, each in {0, 0.5, 1}; reward = improvement of the best score so far, and the episode ends when the
score reaches ``success_threshold`` (1.0 as in UserRL training and eval). Every other action is a yes/no
question the user answers with Yes, No or Maybe. The answer feedback lists the criteria the story covers, as
the original's does. U(tau) counts answers. BAO's horizon is 15.

**Embedded version (our design, the CPU default).** A puzzle's hidden story is a few *facts*: slots (who,
means, place, motive, clue) with one value each; ``n_criteria`` slots matter for a given puzzle (the others
are irrelevant to it) and carry weights that sum to 1. Each slot's values fall into two classes (who: family
or staff). The first user message lists every slot, its classes and values, but not which slots matter.
:class:`FactUser`:

* answers questions like the Telepathy user: values (or class words) of one slot are alternatives, of
  different slots all required; a question about a slot that does not matter gets "Maybe" (the original's
  answer for the irrelevant); a question that pins every criterion to one value is a story in disguise and
  gets :data:`STORY_REPLY`; a question naming nothing gets "Maybe";
* judges a story by the first ``answer_word_cap`` words only: a criterion scores 1 if the story names its
  value and no other value of that slot, 0.5 if it names only the right class, and 0 otherwise. Naming a
  wrong alternative zeroes the criterion, so a "list everything" story scores 0 (tested).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bao.io import MissingInput
from bao.envs.qa import QuestionAnswerGym
from bao.envs.telepathy import Judgement, words
from bao.seeding import derive_seed, rng

STORY_REPLY = "That question states the whole story. To propose a story, use answer."
MAYBE = "Maybe"
WEIGHT_SETS = {1: (1.0,), 2: (0.6, 0.4), 3: (0.5, 0.3, 0.2), 4: (0.4, 0.3, 0.2, 0.1), 5: (0.3, 0.25, 0.2, 0.15, 0.1)}

#: slot -> (class word, values) x 2, in the order the first message lists them (ours)
SLOT_POOLS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "who": (("family", ("twin", "sister", "cousin")), ("staff", ("butler", "doctor", "pilot"))),
    "means": (("poison", ("arsenic", "hemlock", "cyanide")), ("accident", ("fall", "fire", "flood"))),
    "place": (("indoors", ("cellar", "attic", "library")), ("outdoors", ("garden", "harbor", "forest"))),
    "motive": (("money", ("debt", "inheritance", "bribe")), ("passion", ("jealousy", "revenge", "love"))),
    "clue": (("object", ("watch", "key", "glove")), ("mark", ("footprint", "stain", "scratch"))),
}
#: how the teacher (and the task's reference story) words each slot
PHRASES = {"who": "the {} did it", "means": "by {}", "place": "in the {}", "motive": "for {}",
           "clue": "the {} gave it away"}
SURFACES = (
    "A body was found at dawn and nobody heard a sound.",
    "The guests left the party early and one of them never arrived home.",
    "The old house was locked from the inside, yet the owner was gone.",
    "A letter arrived a day after its writer had died.",
)


@dataclass(frozen=True)
class PuzzleTask:
    """One Turtle problem. Embedded puzzles carry ``facts`` ((slot, value, weight), ...); faithful ones carry
    the original ``bottom`` and weighted ``criteria`` statements (judged by an LLM)."""

    task_id: str
    title: str
    surface: str
    messages: tuple[dict, ...] = field(hash=False)
    split: str
    facts: tuple[tuple[str, str, float], ...] = ()
    bottom: str = ""
    criteria: tuple[tuple[str, float], ...] = ()
    meta: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class PuzzleSpec:
    slots: tuple[str, ...] = ("who", "means", "place", "motive", "clue")
    values_per_class: int = 3
    n_criteria: int = 3
    answer_word_cap: int = 30
    test_fraction: float = 0.2

    def __post_init__(self):
        unknown = [s for s in self.slots if s not in SLOT_POOLS]
        if unknown or not self.slots:
            raise ValueError(f"slots must be a non-empty subset of {sorted(SLOT_POOLS)}, got {unknown}")
        if not 1 <= self.values_per_class <= 3:
            raise ValueError(f"values_per_class must be in 1..3, got {self.values_per_class}")
        if not 1 <= self.n_criteria <= min(len(self.slots), 5):
            raise ValueError(f"n_criteria must be in 1..{min(len(self.slots), 5)}, got {self.n_criteria}")

    def classes(self, slot: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return tuple((c, vs[: self.values_per_class]) for c, vs in SLOT_POOLS[slot])

    def values(self, slot: str) -> tuple[str, ...]:
        return tuple(v for _, vs in self.classes(slot) for v in vs)

    def class_of(self, slot: str, value: str) -> str:
        return next(c for c, vs in self.classes(slot) if value in vs)


def story_text(facts) -> str:
    """The reference wording of a set of facts ("the twin did it, by arsenic, in the cellar")."""
    return ", ".join(PHRASES[s].format(v) for s, v, *_ in facts)


def opening_message(spec: PuzzleSpec, surface: str) -> str:
    listing = "; ".join(f"{s}: " + " or ".join(f"{c} ({', '.join(vs)})" for c, vs in spec.classes(s))
                        for s in spec.slots)
    return (f"Puzzle: {surface} The hidden story turns on some of these facts: {listing}. Ask yes/no questions, "
            f"then answer with the story in at most {spec.answer_word_cap} words.\n")


TURTLE_SYSTEM_PROMPT = (
    "TurtleGym: uncover the hidden story behind a puzzle. Call interact_with_env with choice action and a "
    "yes/no question to learn about it; answer and your story to be scored on its key facts. The user checks "
    "every story: answer only when sure. Think in <think></think> before each call. You have {horizon} rounds."
)


def _is_test(facts, spec: PuzzleSpec, seed: int) -> bool:
    key = "|".join(f"{s}={v}" for s, v, _ in sorted(facts))
    return derive_seed(seed, "turtle-split", key) % 10_000 < spec.test_fraction * 10_000


def make_puzzle_tasks(spec: PuzzleSpec, split: str, n: int, seed: int, horizon: int) -> list[PuzzleTask]:
    """``n`` puzzles of ``split``: random criteria slots, values and weights; a puzzle belongs to the test split
    when the hash of its (slot, value) set says so (test puzzles never occur in training)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    gen = rng(seed, "turtle", "tasks", split)
    system = {"role": "system", "content": TURTLE_SYSTEM_PROMPT.format(horizon=horizon)}
    out: list[PuzzleTask] = []
    while len(out) < n:
        slots = gen.sample(list(spec.slots), spec.n_criteria)
        weights = list(WEIGHT_SETS[spec.n_criteria])
        gen.shuffle(weights)
        facts = tuple((s, gen.choice(spec.values(s)), w) for s, w in zip(slots, weights))
        if _is_test(facts, spec, seed) != (split == "test"):
            continue
        surface = gen.choice(SURFACES)
        i = len(out)
        out.append(PuzzleTask(task_id=f"turtle-{split}-{i:05d}", title=f"Case {i + 1}", surface=surface,
                              messages=(system, {"role": "user", "content": opening_message(spec, surface)}),
                              split=split, facts=facts, meta={"source": "procedural",
                                                              "reference": story_text(facts)}))
    return out


class FactUser:
    """Programmatic user and rubric judge of the embedded Turtle-Gym (deterministic, offline)."""

    name = "turtle-facts-v0"

    def __init__(self, spec: PuzzleSpec):
        self.spec = spec
        self.slot_of: dict[str, str] = {}
        self.class_words: dict[str, str] = {}
        for s in spec.slots:
            for c, vs in spec.classes(s):
                self.class_words[c] = s
                for v in vs:
                    self.slot_of[v] = s

    def mentioned(self, text: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        """(slot -> values named, slot -> class words named)."""
        vals: dict[str, set[str]] = {}
        classes: dict[str, set[str]] = {}
        for w in words(text):
            if w in self.slot_of:
                vals.setdefault(self.slot_of[w], set()).add(w)
            elif w in self.class_words:
                classes.setdefault(self.class_words[w], set()).add(w)
        return vals, classes

    def reply(self, task: PuzzleTask, question: str) -> str:
        vals, classes = self.mentioned(question)
        slots = set(vals) | set(classes)
        if not slots:
            return MAYBE
        truth = {s: v for s, v, _ in task.facts}
        if any(s not in truth for s in slots):
            return MAYBE  # the question is about something this story does not turn on
        if set(truth) <= set(vals) and all(len(vals[s]) == 1 for s in truth) and not classes:
            return STORY_REPLY
        for s in slots:
            allowed = set(vals.get(s, ()))
            for c in classes.get(s, ()):
                allowed |= set(dict(self.spec.classes(s))[c])
            if truth[s] not in allowed:
                return "No"
        return "Yes"

    def criterion_scores(self, task: PuzzleTask, story: str) -> tuple[float, ...]:
        capped = " ".join(words(story)[: self.spec.answer_word_cap])
        vals, classes = self.mentioned(capped)
        out = []
        for s, v, _ in task.facts:
            named, named_classes = vals.get(s, set()), classes.get(s, set())
            if named == {v}:
                out.append(1.0)
            elif not named and named_classes == {self.spec.class_of(s, v)}:
                out.append(0.5)
            else:
                out.append(0.0)
        return tuple(out)

    def judge(self, task: PuzzleTask, story: str) -> Judgement:
        scores = self.criterion_scores(task, story)
        total = round(sum(w * x for (_, _, w), x in zip(task.facts, scores)), 6)
        covered = [f"the {s} is {v}: Covered" for (s, v, _), x in zip(task.facts, scores) if x == 1.0]
        if not covered:
            feedback = "Your answer does not effectively cover any evaluation points."
        else:
            feedback = "Here's the evaluation points that your story effectively covers:\n" + "\n".join(covered)
            if total < 1.0:
                feedback += "\nThere might be more hidden twists in the story."
        return Judgement(total, feedback, scores)


class TurtleGym(QuestionAnswerGym):
    """The gym; ``user`` answers questions and scores stories (``reply``/``judge``); ``user="facts"`` builds the
    programmatic :class:`FactUser` over ``spec``. Mechanics: :class:`bao.envs.qa.QuestionAnswerGym`."""

    task_type = PuzzleTask

    def __init__(self, max_steps: int = 15, user=None, spec: PuzzleSpec | None = None,
                 success_threshold: float = 1.0):
        if user is None:
            raise ValueError("TurtleGym needs a user simulator: user='facts' (embedded) or an LLM judge (bao.users)")
        super().__init__(max_steps, FactUser(spec or PuzzleSpec()) if user == "facts" else user, success_threshold)

    def _opening(self, task: PuzzleTask) -> str:
        return f"{task.title}: {task.surface}"


def load_original_stories(userrl_dir, split: str) -> list[PuzzleTask]:
    """The faithful Turtle tasks: the UserRL parquet split (423 train / 48 test) with its original prompts; the
    story's bottom and weighted criteria come from ``TurtleGym/all_stories_refined.json`` (matched by title).
    Raises FileNotFoundError naming the missing file."""
    import json
    from pathlib import Path

    import pandas as pd

    root = Path(userrl_dir)
    path, stories_path = root / "parquet" / "turtle_multiturn" / f"{split}.parquet", \
        root / "TurtleGym" / "all_stories_refined.json"
    for p in (path, stories_path):
        if not p.exists():
            raise MissingInput(f"UserRL Turtle data not found: {p} (set data.userrl_dir)")
    by_title = {s["new_title"]: s for s in json.loads(stories_path.read_text()).values()}
    out = []
    for i, row in enumerate(pd.read_parquet(path).itertuples()):
        rm = row.reward_model
        story = by_title.get(str(rm["title"]))
        if story is None:
            raise ValueError(f"Turtle story {rm['title']!r} of {path} is not in {stories_path}")
        messages = tuple({"role": str(m["role"]), "content": str(m["content"])} for m in row.prompt)
        criteria = tuple((str(c["statement"]), float(c["score"])) for c in story["evaluation"])
        out.append(PuzzleTask(task_id=f"turtle-orig-{split}-{i:03d}", title=str(rm["title"]),
                              surface=str(rm["surface"]), messages=messages, split=split,
                              bottom=str(rm["bottom"]), criteria=criteria, meta={"source": "userrl"}))
    return out
