"""The pipeline configuration: one YAML file, one frozen dataclass per section.

Defaults live here and nowhere else; ``config/config.yaml`` spells every key out so that DVC can track them.
``load_config(path)`` checks every key and type and fails with one readable message naming the offending key
(``ConfigError: rl.lr: expected a number, got 'fast'``). Each field says where its value comes from:
**paper** (BAO/UserRL text), **code** (the released BAO/UserRL code) or **ours** (a choice of this project).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A bad config: the message names the key and what was expected."""


@dataclass(frozen=True)
class DataConfig:
    userrl_dir: str = "../shared/userrl"
    """original UserRL data (gym JSONs + parquet splits), read in place; relative paths are from the project root."""


@dataclass(frozen=True)
class FunctionConfig:
    id: str = "function-proc-v0"
    """training/eval gym (registry id). ``function-proc-v0`` = embedded procedural rules (ours)."""
    horizon: int = 16
    """max assistant turns per episode = env truncation (code: multi_turn.max_turns = 16)."""
    t_pen: int = 15
    """over-thinking penalty threshold T_pen (code: 15 for Function-Gym)."""
    num_ops: int = 2
    """procedural difficulty: binary operations per hidden rule (ours)."""
    num_vars: int = 3
    """procedural difficulty: distinct variables among a..d per rule (ours)."""
    ops: list = field(default_factory=lambda: ["+", "-", "*"])
    value_min: int = 1
    value_max: int = 4
    """test-case values are drawn from [value_min, value_max] (original: 1..10)."""
    test_fraction: float = 0.2
    """share of procedural rules held out for the test split (unseen rules, ours)."""
    n_train_tasks: int = 2000
    n_test_tasks: int = 100
    sft_steps: int = 0
    """SFT optimizer steps for this gym's warm start; 0 = ``sft.steps`` (ours: gyms differ in episode length and
    difficulty, and the SFT policy is tuned to solve a partial share on each)."""
    faithful_eval: bool = True
    """also evaluate on the original 78-task Function-Gym test split (function-v0)."""


@dataclass(frozen=True)
class TelepathyConfig:
    id: str = "telepathy-proc-v0"
    """``telepathy-proc-v0`` = entities from a seeded attribute knowledge base, programmatic user (ours)."""
    horizon: int = 12
    """max turns (paper: BAO uses 12 for Telepathy-Gym)."""
    t_pen: int = 12
    """over-thinking threshold (ours: the gym's horizon; the code's 15 is Function-Gym's)."""
    attributes: list = field(default_factory=lambda: ["size", "pattern", "color", "kind"])
    """knowledge-base attributes in name order (from size, pattern, color, kind)."""
    values_per_attribute: int = 5
    """difficulty: values per attribute (entities = values ** attributes)."""
    category: str = "animal"
    test_fraction: float = 0.2
    """share of entities held out for the test split (unseen entities, ours)."""
    n_train_tasks: int = 2000
    n_test_tasks: int = 100
    sft_steps: int = 0
    """SFT optimizer steps for this gym's warm start; 0 = ``sft.steps`` (ours: gyms differ in episode length and
    difficulty, and the SFT policy is tuned to solve a partial share on each)."""
    faithful_eval: bool = False
    """also evaluate on the original 41-entity test split (needs ``users.eval``: an LLM user)."""


@dataclass(frozen=True)
class TurtleConfig:
    id: str = "turtle-proc-v0"
    """``turtle-proc-v0`` = procedural fact puzzles with a programmatic user and rubric judge (ours)."""
    horizon: int = 15
    """max turns (paper: BAO uses 15 for Turtle-Gym)."""
    t_pen: int = 15
    """over-thinking threshold (ours: the gym's horizon)."""
    slots: list = field(default_factory=lambda: ["who", "means", "place", "motive"])
    """fact slots a puzzle can turn on (from who, means, place, motive, clue)."""
    values_per_class: int = 3
    """difficulty: values per class (two classes per slot)."""
    n_criteria: int = 3
    """difficulty: slots that matter per puzzle (weighted rubric criteria)."""
    answer_word_cap: int = 30
    """the judge reads only the first N words of a story (so a "list everything" story cannot win)."""
    success_threshold: float = 1.0
    """score that ends the episode as a success (UserRL: 1.0 in training and eval)."""
    test_fraction: float = 0.2
    n_train_tasks: int = 2000
    n_test_tasks: int = 100
    sft_steps: int = 0
    """SFT optimizer steps for this gym's warm start; 0 = ``sft.steps`` (ours: gyms differ in episode length and
    difficulty, and the SFT policy is tuned to solve a partial share on each)."""
    faithful_eval: bool = False
    """also evaluate on the original 48-story test split (needs ``users.eval``: an LLM judge)."""


@dataclass(frozen=True)
class UserConfig:
    """Who plays the user/judge of the faithful gyms (the embedded gyms always use their programmatic user)."""

    kind: str = "none"
    """``none`` (faithful LLM-user splits are skipped with the reason), ``endpoint`` (OpenAI-compatible
    server) or ``hf`` (a local transformers model directory in ``model``)."""
    base_url: str = ""
    """e.g. http://127.0.0.1:8000/v1 (vLLM) or https://api.openai.com/v1."""
    model: str = ""
    """the served model name (endpoint) or a model directory (hf). Paper: Qwen3-8B trains, GPT-4o evaluates."""
    api_key_env: str = "OPENAI_API_KEY"
    """name of the environment variable holding the key (the key itself never goes in a config or a log)."""
    temperature: float = 0.0
    max_tokens: int = 512
    timeout_s: float = 30.0
    retries: int = 3
    cache_dir: str = "data/llm_cache"
    """replies cached by request hash, so reruns and DVC reproductions cost nothing twice."""
    workers: int = 8
    """episodes in flight at once against an endpoint evaluated as the agent (a bounded thread pool; ours). Each
    episode's requests depend only on its own history, so the episodes do not depend on it; ``hf`` plays one
    at a time."""


@dataclass(frozen=True)
class UsersConfig:
    train: UserConfig = field(default_factory=UserConfig)
    eval: UserConfig = field(default_factory=UserConfig)


@dataclass(frozen=True)
class TeacherConfig:
    n_episodes: int = 4000
    """SFT episodes per teacher style (the same for enhanced and plain, so both get the same updates)."""
    early_commit_prob: float = 0.35
    """chance the teacher commits with 2-3 candidate answers left, so the data shows recovery from a wrong answer."""
    probe_pool_size: int = 24
    """candidate probes the teacher scores per turn (most informative wins)."""
    mistake_prob: float = 0.0
    """Function-Gym (ours): the chance that an episode's first answer is a deliberate wrong one, kept in the data
    as context but not trained on (SFT loss mask 0), so SFT learns the recovery after a wrong answer without
    learning to guess; 0 = off (paper/code: no such episodes)."""
    think: str = "full"
    """Function-Gym's enhanced think block: ``full`` (ours: Memory, Check, Revise, Test, Plan; ~70 think tokens a
    decision) or ``compact`` (ours: the latest probe, wrong answers, the answer's Test arithmetic and a short plan).
    The Telepathy and Turtle teachers have one form."""
    source: str = "scripted"
    """``scripted``: the embedded gym's scripted expert; ``llm``: the chat model in ``teacher.llm`` plays the
    original (faithful) training tasks, with the LLM user ``users.train`` where the gym needs one."""
    llm: UserConfig = field(default_factory=UserConfig)


@dataclass(frozen=True)
class LoraConfig:
    enabled: bool = False
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])


@dataclass(frozen=True)
class ModelConfig:
    init_from: str = ""
    """an HF model directory (e.g. Qwen3-1.7B); empty = build the tiny embedded Qwen3 from scratch."""
    vocab_size: int = 1000
    hidden_size: int = 192
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 2
    intermediate_size: int = 512
    context_length: int = 2048
    """max tokens of prompt + episode; longer prompts follow ``eval.on_long_prompt``."""
    lora: LoraConfig = field(default_factory=LoraConfig)


@dataclass(frozen=True)
class SFTConfig:
    steps: int = 700
    batch_size: int = 16
    lr: float = 1.5e-3
    warmup_steps: int = 20
    weight_decay: float = 0.01
    max_seq_len: int = 2048
    """longer SFT examples are dropped (counted in the log)."""
    threads: int = 1
    shared: bool = True
    """one SFT checkpoint per gym x teacher, trained with the first of ``seeds``, starts the RL runs of every seed
    (ours, allowed by the experiment plan to fit the CPU budget; the SFT row then has one seed). ``false``: one
    SFT run per seed."""


@dataclass(frozen=True)
class MethodConfig:
    shaping: str = "bao"
    """registry id in bao.rl.shaping (``bao`` | ``none`` | ``bao_no_info`` | ``bao_no_overthink`` | ``reweight``)."""
    credit: str = "r2g"
    """turn credit (``equalized`` | ``r2g`` | ``em``)."""
    score: str = "sum"
    """trajectory score (``sum`` | ``mean_sum`` | ``r2g``)."""
    teacher: str = "enhanced"
    """which SFT start: ``enhanced`` | ``plain``."""
    reweight_w: float = 0.0
    """explicit reweighting: -w on every user-involved action (shaping ``reweight``)."""
    group: str = "main"
    """``main``: every gym x every seed; ``ablation`` / ``sweep``: only ``ablation.gyms`` x the first
    ``ablation.seeds`` seeds (the ablation table and the reweighting figure)."""


METHOD_GROUPS = ("main", "ablation", "sweep")


@dataclass(frozen=True)
class AblationConfig:
    """Where the ablation and reweighting-sweep methods run (the paper's ablations are on Function-Gym)."""

    gyms: list = field(default_factory=lambda: ["function", "telepathy", "turtle"])
    """gyms the ``ablation``/``sweep`` methods train on (those of ``gyms`` that are listed here)."""
    seeds: int = 1
    """how many of ``seeds`` (the first ones) they run with (``config/full.yaml``: 3)."""
    reweight_w: list = field(default_factory=lambda: [0.01, 0.05, 0.1, 0.2])
    """explicit-reweighting sweep: one method ``reweight_w<w>`` per value (-w on every user-involved action,
    BAO's credits, score and SFT start, no BAO regularizers; group ``sweep``). Values are ours."""


def sweep_methods(ws) -> dict[str, MethodConfig]:
    """The reweighting sweep as methods: ``{"reweight_w0.05": MethodConfig(shaping="reweight", ...), ...}``."""
    return {f"reweight_w{w:g}": MethodConfig(shaping="reweight", credit="r2g", score="sum", teacher="enhanced",
                                             reweight_w=float(w), group="sweep") for w in ws}


@dataclass(frozen=True)
class RLConfig:
    steps: int = 16
    tasks_per_step: int = 6
    group_size: int = 8
    """rollouts per task (paper: n = 8)."""
    lr: float = 3e-5
    """ours, for the from-scratch tiny model (the paper's 1e-6 is for Qwen3-4B): 1e-4 made the sampled training
    reward fall on Function-Gym, 3e-5 and 1e-5 raise it (docs/results.md, RL learning rate)."""
    clip_eps: float = 0.2
    clip_eps_high: float | None = None
    """upper clip 1 + ε_high of the PPO ratio; null = ``clip_eps`` (paper/code: symmetric 0.2). DAPO's
    clip-higher (ε_high 0.28) lets low-probability tokens rise faster (ours, as an option)."""
    adv_norm: str = "std"
    """group normalisation of the trajectory scores: ``std`` z = (S − μ)/(σ + ε) (paper/code: GRPO);
    ``none`` z = S − μ (Dr. GRPO: no division by a small within-group σ)."""
    neg_weight: float = 1.0
    """factor on negative group advantages (z < 0): 1 = GRPO (paper/code); < 1 weights the pull towards a group's
    successes above the push away from its failures (ours, as an option; docs/probes.md)."""
    num_minibatches: int = 8
    """PPO updates per rollout batch (paper: batch 128 / mini-batch 16 = 8)."""
    temperature: float = 1.0
    max_new_tokens: int = 192
    """per-turn generation cap; hitting it ends the episode (end_reason token_budget)."""
    max_episode_tokens: int = 1600
    """generated tokens per episode (code: max_response_length 7000)."""
    gamma: float = 0.8
    em_k: float = 2.0
    c_rep: float = 0.005
    c_len: float = 0.05
    failed_rule: str = "zero_reward"
    grad_clip: float = 1.0
    weight_decay: float = 0.0
    optimizer: str = "adamw"
    """``adamw`` (paper/code: AdamW, here β = (0.9, 0.95)) or ``sgd`` (plain SGD, ours): Adam scales every
    parameter's step to ~``lr`` whatever its gradient, SGD moves each in proportion to its gradient."""
    threads: int = 1
    show_reward: bool = False
    """append the original's ``Reward: r`` line to training observations (UserRL training does; eval never)."""
    val_tasks: int = 48
    """greedy validation episodes on fresh training-distribution tasks (split ``val``, never the test split);
    0 turns validation off (ours: the 48-episode rollout reward of one step is too noisy to read a trend from)."""
    val_every: int = 4
    """validate before step 0, every ``val_every`` steps and after the last step."""
    tasks: str = "embedded"
    """what RL trains on. ``embedded``: the gym's procedural training tasks with its programmatic user;
    ``faithful``: the original UserRL training split, Telepathy and Turtle played by the LLM user ``users.train``
    (Function-Gym's rules are checked by code), the split's last ``val_tasks`` tasks held out for validation."""
    old_logprobs: str = "rollout"
    """π_old of the PPO ratio. ``rollout``: the log-probs the sampler recorded while generating (ours: saves one
    forward pass over the batch; they match a recomputed pass to ~1e-4, cached vs. full attention);
    ``recompute``: one no-grad forward pass before the updates (verl's default)."""
    minibatches: str = "length"
    """how the batch is cut into ``num_minibatches``. ``length``: consecutive slices of the length-sorted batch,
    visited in a seeded random order (ours: far less padding, since failed episodes run to the token budget and
    successful ones are short); ``random``: a seeded random split. Either way the loss is a token-mean over the
    whole batch, so every assistant token weighs the same whichever minibatch it lands in."""
    truncated: str = "keep"
    """what the loss does with episodes cut off by the token budget (``end_reason == "token_budget"``).
    ``keep``: they are trained on like any other failure (the paper's recipe); ``mask``: their tokens leave the
    loss, while their reward still counts in their group's z-score (ours, after DAPO's overlong filtering: on
    the tiny model a failure of length, not of strategy, pushes probability away from the sampled tokens of
    long degenerate text, which raises entropy and makes more such episodes)."""
    kl_coef: float = 0.0
    """weight β of a KL(π_θ ‖ π_ref) loss to the RL start (the SFT checkpoint), verl's ``low_var_kl`` (k3)
    estimator per token, token-mean like the policy loss. 0 = off (paper/code: ``use_kl_loss=False``); ours as an
    option: a frozen copy of the start model adds one no-grad forward pass per minibatch."""
    entropy_coeff: float = 0.0
    """verl's ``entropy_coeff``: ``- entropy_coeff x`` the token-mean entropy of the policy joins the loss.
    0 = off (paper/code); > 0 rewards entropy (verl's sign); < 0 is entropy minimisation (ours, as an option:
    the rollouts of the tiny SFT start differ by rare derailing tokens, not by their decisions, docs/probes.md)."""
    replay_first_quarter: bool = False
    """the last quarter of the steps (``steps // 4`` of them) draws the tasks of the first quarter again, step for
    step, so the RL curve compares its first and last quarter on the same tasks (ours, on in config.yaml:
    ``bao.eval.training_reward`` reports last minus first quarter with a paired interval; those 4 of 16 steps see
    tasks trained on 12 steps earlier). ``false``: every step draws fresh tasks (paper/code)."""
    score_decimals: int | None = 4
    """decimals the trajectory score is rounded to before the group z-score (code: BAO's
    ``compute_turn_credits`` returns ``round(sum(turn_rewards) / 1.0, 4)``, and UserRL's mean score is rounded to
    4 too; applying it to the R2G score is ours). Scores closer than 1e-4, e.g. two failures whose penalties
    differ in the fifth decimal, then tie and get no advantage. ``null`` keeps the exact float."""
    backend: str = "native"
    """the trainer. ``native``: src/bao/rl/train.py (reference); ``trl``: TRL GRPOTrainer (ours,
    :mod:`bao.rl.trl_backend`: the same rollouts, advantages and minibatches, on accelerate DDP / DeepSpeed /
    FSDP; docs/scaling.md)."""
    processes: int = 1
    """processes of one RL job (``rl.backend: trl`` only). 1: the CLI runs as one process; N > 1: ``python -m
    bao.rl.train`` re-starts itself under ``torchrun --standalone --nproc_per_node N`` on its node (gloo on a CPU,
    NCCL with one GPU per process), and the Snakemake rule declares ``threads: rl.threads x N`` and the resource
    ``processes=N`` (ours; docs/scaling.md). A minibatch (``tasks_per_step x group_size / num_minibatches``
    rollouts) must split evenly over them."""
    bf16: bool = False
    """``rl.backend: trl`` only: train in bf16 mixed precision (the released code's FSDP setting; ours: off, fp32,
    so the two backends agree)."""
    gradient_checkpointing: bool = False
    """``rl.backend: trl`` only: recompute activations in the backward pass (the released code's setting; off here)."""


@dataclass(frozen=True)
class EvalConfig:
    max_new_tokens: int = 192
    max_episode_tokens: int = 1600
    batch_size: int = 50
    pass_k: int = 9
    threads: int = 1
    faithful_max_tasks: int = 78
    """cap on the faithful split's tasks (Function: 78, Telepathy: 41 exist); a smaller cap for cheap endpoint runs."""
    scripted: list = field(default_factory=lambda: ["guess_spam"])
    """scripted reference policies evaluated beside the models (bao.agent.scripted; ours)."""
    n_boot: int = 2000
    """bootstrap replicates behind every 95% interval in the tables (paired over test tasks x seeds)."""
    min_valid_share: float = 0.10
    """a (gym, split) on which every model agent makes a well-formed tool call on fewer of its turns than this is
    left out of the main and paper-vs-ours tables, with the reason in the note (no rows that only say "nothing could
    act here"; ours). 0 keeps every split (the smoke config: its barely trained models rarely make a valid call)."""
    bootstrap: str = "cluster"
    """what every 95% interval (tables, Pareto / sweep figures) resamples besides the seeds: ``cluster`` draws the
    units a split holds out (Function-Gym's rules, Telepathy's entities, Turtle's puzzles) whole, with all their
    tasks (a one-stage cluster bootstrap, :func:`bao.eval.stats.paired_bootstrap`); ``task`` draws test tasks
    i.i.d., too narrow for claims about unseen rules when many tasks share one (ours)."""
    on_long_prompt: str = "skip"
    """``skip``: a prompt longer than the context ends the episode as ``prompt_too_long`` (a failure, counted);
    ``error``: stop with a message."""


@dataclass(frozen=True)
class TrainingRewardConfig:
    """The training reward (``bao.eval.training_reward``): every SFT start and RL checkpoint plays the same fixed
    tasks of the ``val`` split (fresh training-distribution tasks, never the test split; not ``rl.val_tasks``,
    which sizes RL's own per-step greedy validation), sampled like RL's rollouts and greedily, with the same
    sampling seed (the config's ``seed``) for every checkpoint; RL seeds are paired against their SFT start(s).

    Sizing (ours): the default costs about 2,250 CPU s on the default grid (30 checkpoints, 60 jobs), under 10%
    of its 23,183 CPU s. Estimate: a sampled episode costs ~0.18 CPU s on Function-Gym (RL curves: 8.7 s per
    48-episode rollout, 1 thread), ~0.5 on Telepathy and ~0.7 on Turtle (their ``train_rl`` CPU s per step, with
    Function's rollout share); a greedy one ~0.05 / ~0.35 / ~0.35 (the grid's 76 model ``evaluate`` jobs, 1,711
    CPU s, less ~6.5 CPU s of imports per job, measured). So 64 sampled episodes x 30 checkpoints ≈ 720 s, 200
    greedy tasks ≈ 1,140 s, 60 job starts ≈ 390 s (±25%, mostly the Telepathy/Turtle sampled cost). What it
    buys: 400 tasks x 4 samples gave a 3-seed pooled Δ-vs-SFT interval of about ±0.035, so 64 episodes give
    about ±0.035 x sqrt(1600 / 64) ≈ ±0.17 (±0.22 for a one-seed ablation: only large changes resolve); the
    greedy score on 200 tasks about ±0.05 (±0.065 on 100 test tasks, scaled by 1/sqrt(2))."""

    tasks: int = 32
    """val tasks played sampled (the first ``tasks`` of the ``greedy_tasks``; ours: the 10% budget above)."""
    samples: int = 2
    """sampled episodes per task (ours; the docs/results.md probe used 400 x 4)."""
    temperature: float = 1.0
    """sampling temperature (code: RL's rollout temperature, ``rl.temperature`` 1.0)."""
    greedy_tasks: int = 200
    """val tasks played greedily (ours: >= 200 so the greedy val score has a usable interval)."""
    per_gym: dict | None = None
    """``{gym: {tasks, samples, greedy_tasks}}``: the keys above for one gym (ours; config.yaml gives Function-Gym,
    whose sampled reward the RL claims are about, 200 sampled tasks, and the dearer Telepathy / Turtle episodes
    100 greedy tasks). An overlay that resizes the section sets ``per_gym: null`` to drop these."""

    def for_gym(self, gym: str) -> "TrainingRewardConfig":
        """These settings with ``per_gym[gym]`` applied (``per_gym`` dropped)."""
        return dataclasses.replace(self, **{**(self.per_gym or {}).get(gym, {}), "per_gym": None})


@dataclass(frozen=True)
class ResumeConfig:
    """Resumable training state (ours): SFT and RL save everything needed to continue every ``*_every`` steps
    (0 = never) under ``results/state/``; rerunning a killed job continues from there. Not a param of any rule:
    changing it re-runs nothing."""
    sft_every: int = 50
    rl_every: int = 2


@dataclass(frozen=True)
class Config:
    seed: int = 0
    """base seed of data/tokenizer/teacher (ours)."""
    seeds: list = field(default_factory=lambda: [0, 1, 2])
    """training seeds: every main RL method runs once per seed (SFT once, see ``sft.shared``)."""
    results_dir: str = "results"
    """where checkpoints, evaluations, tables and figures go (relative to the project root)."""
    data_dir: str = "data"
    """where the tokenizer and the teacher datasets go."""
    gyms: list = field(default_factory=lambda: ["function", "telepathy", "turtle"])
    """which gyms the pipeline trains and evaluates (``function``, ``telepathy``, ``turtle``), each with its own
    section."""
    data: DataConfig = field(default_factory=DataConfig)
    function: FunctionConfig = field(default_factory=FunctionConfig)
    telepathy: TelepathyConfig = field(default_factory=TelepathyConfig)
    turtle: TurtleConfig = field(default_factory=TurtleConfig)
    users: UsersConfig = field(default_factory=UsersConfig)
    agents: dict = field(default_factory=dict)
    """chat models evaluated as the agent (name -> an endpoint or hf setting like ``users.eval``); empty by
    default. Each name becomes an eval method beside sft/bao/... (the paper's GPT-4o row)."""
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    sft: SFTConfig = field(default_factory=SFTConfig)
    rl: RLConfig = field(default_factory=RLConfig)
    methods: dict = field(default_factory=lambda: {
        "bao": MethodConfig(),
        "userrl_grpo": MethodConfig(shaping="none", credit="equalized", score="r2g"),
    })
    ablation: AblationConfig = field(default_factory=AblationConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    training_reward: TrainingRewardConfig = field(default_factory=TrainingRewardConfig)
    resume: ResumeConfig = field(default_factory=ResumeConfig)

    def method(self, name: str) -> MethodConfig:
        if name not in self.methods:
            raise ConfigError(f"methods.{name}: unknown method; configured: {sorted(self.methods)}")
        return self.methods[name]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def methods_for(self, gym: str) -> list[str]:
        """The RL methods trained on ``gym``: every ``main`` one, plus ablations/sweeps on ``ablation.gyms``."""
        return [n for n, m in self.methods.items() if m.group == "main" or gym in self.ablation.gyms]

    def seeds_for(self, method: str) -> list[int]:
        """The seeds an RL method trains with: all for ``main``, the first ``ablation.seeds`` otherwise."""
        return list(self.seeds) if self.method(method).group == "main" else list(self.seeds[: self.ablation.seeds])

    def hash(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


_FLOAT_TEXT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _check_value(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return _build(tp, value, key)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str) and _FLOAT_TEXT.fullmatch(value.strip()):
            return float(value.strip())  # YAML 1.1 reads ``1e-5`` (no dot) as a string; accept what was meant
            # (str.strip drops more than float() does, e.g. "\x1e": parse what was matched; found by the 10k fuzz)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    if tp is list or origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return list(value)
    if tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return dict(value)
    if origin in (typing.Union, types.UnionType):
        return value
    return value


def _build(cls, raw: dict, prefix: str = ""):
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        where = f"{prefix}." if prefix else ""
        raise ConfigError(f"{where}{unknown[0]}: unknown key; valid keys here: {sorted(known)}")
    kwargs = {}
    for name in known & set(raw):
        key = f"{prefix}.{name}" if prefix else name
        if cls is Config and name == "methods":
            if not isinstance(raw[name], dict) or not raw[name]:
                raise ConfigError(f"{key}: expected a non-empty mapping of method name -> recipe")
            kwargs[name] = {m: _check_value(v, MethodConfig, f"{key}.{m}") for m, v in raw[name].items()}
        elif cls is Config and name == "agents":
            if not isinstance(raw[name] or {}, dict):
                raise ConfigError(f"{key}: expected a mapping of agent name -> endpoint settings")
            kwargs[name] = {m: _check_value(v, UserConfig, f"{key}.{m}") for m, v in (raw[name] or {}).items()}
        else:
            kwargs[name] = _check_value(raw[name], hints[name], key)
    return cls(**kwargs)


def _validate(cfg: Config) -> None:
    from bao.rl.advantages import CREDITS, SCORES
    from bao.rl.shaping import SHAPERS

    for name, m in cfg.methods.items():
        for reg, val, k in ((SHAPERS, m.shaping, "shaping"), (CREDITS, m.credit, "credit"), (SCORES, m.score, "score")):
            if val not in reg:
                raise ConfigError(f"methods.{name}.{k}: unknown {reg.kind} {val!r}; registered: {reg.names()}")
        if m.teacher not in ("enhanced", "plain"):
            raise ConfigError(f"methods.{name}.teacher: expected 'enhanced' or 'plain', got {m.teacher!r}")
        if m.group not in METHOD_GROUPS:
            raise ConfigError(f"methods.{name}.group: expected one of {list(METHOD_GROUPS)}, got {m.group!r}")
        if not re.fullmatch(r"[a-z][a-z0-9_.]*", name):
            raise ConfigError(f"methods.{name}: method names are lower-case letters, digits, _ and . (a path part)")
    if not any(m.group == "main" for m in cfg.methods.values()):
        raise ConfigError("methods: at least one method needs group: main")

    if cfg.rl.group_size < 2:
        raise ConfigError("rl.group_size: group-relative advantages need at least 2 rollouts per task")
    if cfg.rl.num_minibatches < 1 or (cfg.rl.tasks_per_step * cfg.rl.group_size) % cfg.rl.num_minibatches:
        raise ConfigError("rl.num_minibatches: must divide tasks_per_step * group_size")
    from bao.gyms import GYMS

    if not cfg.gyms or any(g not in GYMS for g in cfg.gyms) or len(set(cfg.gyms)) != len(cfg.gyms):
        raise ConfigError(f"gyms: expected a non-empty list of distinct names from {GYMS.names()}, got {cfg.gyms}")
    if any(g not in GYMS for g in cfg.ablation.gyms):
        raise ConfigError(f"ablation.gyms: expected names from {GYMS.names()}, got {cfg.ablation.gyms}")
    if cfg.ablation.seeds < 1:
        raise ConfigError("ablation.seeds: need at least 1")
    if not 0.0 <= cfg.teacher.mistake_prob <= 1.0:
        raise ConfigError(f"teacher.mistake_prob: expected a probability in [0, 1], got {cfg.teacher.mistake_prob}")
    if cfg.teacher.think not in ("full", "compact"):
        raise ConfigError(f"teacher.think: expected 'full' or 'compact', got {cfg.teacher.think!r}")
    if cfg.function.value_min > cfg.function.value_max:
        raise ConfigError("function.value_min: must be <= function.value_max")
    try:
        from bao.envs.telepathy import KBSpec

        KBSpec(tuple(cfg.telepathy.attributes), cfg.telepathy.values_per_attribute)
    except ValueError as e:
        raise ConfigError(f"telepathy.attributes/values_per_attribute: {e}") from None
    try:
        from bao.envs.turtle import PuzzleSpec

        t = cfg.turtle
        PuzzleSpec(tuple(t.slots), t.values_per_class, t.n_criteria, t.answer_word_cap, t.test_fraction)
    except ValueError as e:
        raise ConfigError(f"turtle.slots/values_per_class/n_criteria: {e}") from None
    if not cfg.seeds:
        raise ConfigError("seeds: need at least one seed")
    from bao.agent.scripted import SCRIPTED

    bad = [p for p in cfg.eval.scripted if p not in SCRIPTED or p in cfg.methods or p == "sft"]
    if bad:
        raise ConfigError(f"eval.scripted: unknown (or clashing) scripted policy {bad[0]!r}; registered: "
                          f"{SCRIPTED.names()}")
    for name, a in cfg.agents.items():
        if a.kind not in ("endpoint", "hf"):
            raise ConfigError(f"agents.{name}.kind: expected endpoint or hf, got {a.kind!r}")
        if name in cfg.methods or name == "sft" or name in cfg.eval.scripted:
            raise ConfigError(f"agents.{name}: the name clashes with a method or scripted policy")
    for role in ("train", "eval"):
        u = getattr(cfg.users, role)
        if u.kind not in ("none", "endpoint", "hf"):
            raise ConfigError(f"users.{role}.kind: expected none, endpoint or hf, got {u.kind!r}")
    if cfg.teacher.source not in ("scripted", "llm"):
        raise ConfigError(f"teacher.source: expected scripted or llm, got {cfg.teacher.source!r}")
    if cfg.teacher.source == "llm" and cfg.teacher.llm.kind not in ("endpoint", "hf"):
        raise ConfigError("teacher.llm.kind: an llm teacher needs kind endpoint or hf")
    for where, u in [(f"users.{r}", getattr(cfg.users, r)) for r in ("train", "eval")] + \
            [(f"agents.{n}", a) for n, a in cfg.agents.items()] + [("teacher.llm", cfg.teacher.llm)]:
        if u.kind == "endpoint" and not (u.base_url and u.model):
            raise ConfigError(f"{where}: an endpoint needs base_url and model")
        if u.kind == "hf" and not u.model:
            raise ConfigError(f"{where}.model: an hf backend needs a model directory")
        if u.workers < 1:
            raise ConfigError(f"{where}.workers: expected at least 1 episode in flight, got {u.workers}")
    if cfg.eval.on_long_prompt not in ("skip", "error"):
        raise ConfigError("eval.on_long_prompt: expected 'skip' or 'error'")
    if cfg.eval.bootstrap not in ("cluster", "task"):
        raise ConfigError(f"eval.bootstrap: expected 'cluster' or 'task', got {cfg.eval.bootstrap!r}")
    if not 0.0 <= float(cfg.eval.min_valid_share) <= 1.0:
        raise ConfigError(f"eval.min_valid_share: a share in [0, 1], got {cfg.eval.min_valid_share!r}")
    if cfg.rl.tasks not in ("embedded", "faithful"):
        raise ConfigError("rl.tasks: expected 'embedded' or 'faithful'")
    if cfg.rl.old_logprobs not in ("rollout", "recompute"):
        raise ConfigError("rl.old_logprobs: expected 'rollout' or 'recompute'")
    if cfg.rl.backend not in ("native", "trl"):
        raise ConfigError(f"rl.backend: expected 'native' or 'trl', got {cfg.rl.backend!r}")
    n = cfg.rl.processes
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"rl.processes: expected an integer >= 1, got {n!r}")
    if n > 1 and cfg.rl.backend != "trl":
        raise ConfigError(f"rl.processes: {n} processes need rl.backend: trl (the {cfg.rl.backend} trainer runs as "
                          f"one process)")
    mb = cfg.rl.tasks_per_step * cfg.rl.group_size // max(1, cfg.rl.num_minibatches)
    if n > 1 and mb % n:
        raise ConfigError(f"rl.processes: a minibatch of {mb} rollouts (tasks_per_step x group_size / "
                          f"num_minibatches) does not split over {n} processes")
    for key in ("bf16", "gradient_checkpointing"):
        if getattr(cfg.rl, key) and cfg.rl.backend != "trl":
            raise ConfigError(f"rl.{key}: needs rl.backend: trl (the native trainer runs in fp32 without it)")
    if cfg.rl.minibatches not in ("length", "random"):
        raise ConfigError("rl.minibatches: expected 'length' or 'random'")
    if cfg.rl.truncated not in ("keep", "mask"):
        raise ConfigError("rl.truncated: expected 'keep' or 'mask'")
    for k in ("sft_every", "rl_every"):
        v = getattr(cfg.resume, k)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ConfigError(f"resume.{k}: expected an integer >= 0 (0 = no resumable state), got {v!r}")
    if cfg.rl.optimizer not in ("adamw", "sgd"):
        raise ConfigError(f"rl.optimizer: expected 'adamw' or 'sgd', got {cfg.rl.optimizer!r}")
    if not 0.0 <= cfg.rl.neg_weight <= 1.0:
        raise ConfigError(f"rl.neg_weight: expected a factor in [0, 1], got {cfg.rl.neg_weight}")
    if cfg.rl.adv_norm not in ("std", "none"):
        raise ConfigError(f"rl.adv_norm: expected 'std' or 'none', got {cfg.rl.adv_norm!r}")
    if cfg.rl.clip_eps_high is not None and (isinstance(cfg.rl.clip_eps_high, bool)
                                             or not isinstance(cfg.rl.clip_eps_high, (int, float))
                                             or cfg.rl.clip_eps_high <= 0):
        raise ConfigError(f"rl.clip_eps_high: expected a number > 0 or null, got {cfg.rl.clip_eps_high!r}")
    d = cfg.rl.score_decimals
    if d is not None and (isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 12):
        raise ConfigError(f"rl.score_decimals: expected an integer 0..12 or null, got {d!r}")
    if not math.isfinite(cfg.rl.entropy_coeff):
        raise ConfigError(f"rl.entropy_coeff: expected a finite number, got {cfg.rl.entropy_coeff}")
    if cfg.rl.kl_coef < 0:
        raise ConfigError(f"rl.kl_coef: expected a number >= 0, got {cfg.rl.kl_coef}")
    if cfg.rl.failed_rule not in ("zero_reward", "nonpositive", "below_threshold"):
        raise ConfigError("rl.failed_rule: expected 'zero_reward', 'nonpositive' or 'below_threshold'")
    for gym, over in (cfg.training_reward.per_gym or {}).items():
        bad = set(over) - {"tasks", "samples", "greedy_tasks"} if isinstance(over, dict) else {"(not a mapping)"}
        if bad:
            raise ConfigError(f"training_reward.per_gym.{gym}: expected a mapping of tasks / samples / greedy_tasks, "
                              f"got {', '.join(sorted(map(str, bad)))}")
    for gym in ["", *(cfg.training_reward.per_gym or {})]:
        tr = cfg.training_reward.for_gym(gym)
        where = f"training_reward.per_gym.{gym}" if gym else "training_reward"
        if any(isinstance(v, bool) or not isinstance(v, int) for v in (tr.tasks, tr.samples, tr.greedy_tasks)) \
                or tr.tasks < 1 or tr.samples < 1 or tr.greedy_tasks < 1 or tr.temperature <= 0 \
                or tr.tasks > tr.greedy_tasks:
            raise ConfigError(f"{where}: expected integer tasks, samples, greedy_tasks >= 1, temperature > 0 and "
                              "tasks <= greedy_tasks (the sampled tasks are the first of the greedy ones), got "
                              f"tasks={tr.tasks}, samples={tr.samples}, greedy_tasks={tr.greedy_tasks}, "
                              f"temperature={tr.temperature}")


def config_from_dict(raw: dict) -> Config:
    if not isinstance(raw, dict):
        raise ConfigError("config: the top level must be a mapping")
    cfg = _build(Config, raw)
    if any(isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0 for w in cfg.ablation.reweight_w):
        raise ConfigError(f"ablation.reweight_w: expected a list of numbers >= 0, got {cfg.ablation.reweight_w}")
    # the sweep's methods join the configured ones (an explicitly configured method of the same name wins)
    sweep = {k: v for k, v in sweep_methods(cfg.ablation.reweight_w).items() if k not in cfg.methods}
    cfg = dataclasses.replace(cfg, methods={**cfg.methods, **sweep})
    _validate(cfg)
    return cfg


def load_config(path: str | Path) -> Config:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from None
    return config_from_dict(raw)


def resolve_path(p: str, root: str | Path | None = None) -> Path:
    """Relative paths in the config are relative to the project root (the current directory by default)."""
    q = Path(p).expanduser()
    return q if q.is_absolute() else Path(root or Path.cwd()) / q
