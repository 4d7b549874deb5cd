"""Play a gym in the terminal: as the **agent** (against the gym's programmatic user) or as the **user** (a
trained checkpoint or a scripted policy asks, you answer and judge), as UserRL's real-user study did.

    python -m bao.play --gym function --role agent              # you probe the hidden function and answer
    python -m bao.play --gym telepathy --role user --checkpoint results/sft/telepathy/enhanced/seed0/ckpt
    python -m bao.play --gym turtle --role user --agent guess_spam   # no checkpoint needed
    python -m bao.play --score results/play/function_agent.jsonl --gym function

Each game is appended to ``--out`` (default ``results/play/<gym>_<role>.jsonl``, rewritten atomically) as an
episode in the pipeline's format (``episodes.jsonl`` rows), so ``--score`` reports the same metrics as
``bao.eval.run``: Score, Pass@U-k, UR, turns. As the agent you type one tool call per line, ``<choice>
<content>`` (``search test``, ``action 1 2 3 4``, ``answer 7``); anything else counts as a malformed call,
exactly as the env treats a model's. As the user you see the secret (the entity or the story), answer each
question (``y`` / ``n`` / ``m`` for Yes / No / Maybe, or any text) and judge each guess. Ctrl-D ends a game
early (saved, end reason ``finish``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bao.envs import format_action, make
from bao.envs.telepathy import Judgement
from bao.io import read_jsonl, write_jsonl
from bao.types import Episode, Turn

REPLIES = {"y": "Yes", "yes": "Yes", "n": "No", "no": "No", "m": "Maybe", "maybe": "Maybe"}


def ask(prompt: str) -> str | None:
    """One line from the person (None on end of input)."""
    try:
        return input(prompt).strip()
    except EOFError:
        print()
        return None


class EndOfGame(Exception):
    """The person closed the input: the game ends where it is."""


# -- you are the agent -----------------------------------------------------------------------------------------
def play_agent(env, task) -> Episode:
    """The person types the tool calls; the gym's own user answers."""
    env.reset(options={"task": task})
    for m in task.messages:
        print(f"[{m['role']}] {m['content']}")
    print(f"Choices: {', '.join(env.choices)} (one per line: '<choice> <content>'); Ctrl-D stops.")
    turns, end = [], "finish"
    while True:
        line = ask(f"turn {env.step_count + 1}> ")
        if line is None:
            break
        choice, _, content = line.partition(" ")
        if choice in env.choices:
            obs, reward, term, trunc, info = env.step(format_action(choice, content.strip()))
            turns.append(Turn(choice, content.strip(), True, float(reward), obs, bool(info.get("user_involved")),
                              line))
        else:
            obs, reward, term, trunc, info = env.invalid_step(
                f"Unknown choice {choice!r}: use one of {', '.join(env.choices)}")
            turns.append(Turn(None, None, False, 0.0, obs, False, line))
        print(f"  -> {obs}" + (f"   (reward {reward:g})" if reward else ""))
        if term or trunc:
            end = "success" if info.get("success") else ("finish" if term else "horizon")
            break
    return Episode(task_id=task.task_id, turns=turns, end_reason=end, meta={"player": "human", "role": "agent"})


# -- you are the user ------------------------------------------------------------------------------------------
class HumanUser:
    """A user simulator whose replies and verdicts a person types (``reply`` / ``judge`` like ``KBUser``)."""

    def __init__(self, gym: str):
        self.gym = gym
        self.log: list[tuple[str, str, str, float | None]] = []
        """(choice, content, feedback, score or None) of every exchange, to keep a game the person ends early."""

    def turns(self) -> list[Turn]:
        """The exchanges so far as turns (an answer's reward = its improvement of the best score, as in the gym)."""
        out, best = [], 0.0
        for choice, content, feedback, score in self.log:
            reward = 0.0 if score is None else max(0.0, score - best)
            best = best if score is None else max(best, score)
            out.append(Turn(choice, content, True, reward, feedback, choice == "answer"))
        return out

    def reply(self, task, question: str) -> str:
        print(f"agent asks: {question}")
        line = ask("your answer [y/n/m or text]> ")
        if line is None:
            raise EndOfGame
        answer = REPLIES.get(line.lower(), line)
        self.log.append(("action", question, answer, None))
        return answer

    def judge(self, task, guess: str) -> Judgement:
        print(f"agent answers: {guess}")
        if self.gym == "telepathy":
            while (line := ask("is it right? [y/n]> ")) is not None and line.lower() not in ("y", "n"):
                pass
            if line is None:
                raise EndOfGame
            verdict = (Judgement(1.0, f"Correct! It is the {task.target}.") if line.lower() == "y" else
                       Judgement(0.0, "No, that is not the entity I am thinking of."))
            self.log.append(("answer", guess, verdict.feedback, verdict.score))
            return verdict
        while (line := ask("score in [0, 1]> ")) is not None:
            try:
                score = float(line)
                if 0.0 <= score <= 1.0:
                    break
            except ValueError:
                pass
        if line is None:
            raise EndOfGame
        note = ask("feedback for the agent (optional)> ") or f"Your story scores {score:g}."
        self.log.append(("answer", guess, note, score))
        return Judgement(score, note)


def secret(task) -> str:
    if hasattr(task, "target"):
        return f"You are thinking of: {task.target}"
    facts = "; ".join(f"{slot}: {value} (weight {w:g})" for slot, value, w in task.facts)
    return f"The hidden story: {task.bottom or facts}\nIts criteria: {facts}"


def play_user(cfg, gym: str, task, agent: str | None, checkpoint: str | None) -> Episode:
    """The agent (a checkpoint, greedy, or a scripted policy) plays against the person."""
    sec = getattr(cfg, gym)
    extra = {"success_threshold": sec.success_threshold} if gym == "turtle" else {}

    user = HumanUser(gym)

    def make_env():
        return make(sec.id, max_steps=sec.horizon, user=user, **extra)

    print(task.messages[-1]["content"])
    print(secret(task))
    try:
        if checkpoint:
            from bao.policy.model import load_policy, load_tokenizer
            from bao.policy.rollout import GenSettings, rollout

            model, tok = load_policy(checkpoint).eval(), load_tokenizer(checkpoint)
            settings = GenSettings(temperature=0.0, max_new_tokens=cfg.rl.max_new_tokens,
                                   max_episode_tokens=cfg.rl.max_episode_tokens,
                                   context_length=cfg.model.context_length, batch_size=1)
            ep = rollout(model, tok, make_env, [task], settings)[0][0]
        else:
            from bao.agent.scripted import SCRIPTED, play

            ep = play(make_env, [task], SCRIPTED.get(agent)(cfg, gym))[0]
    except EndOfGame:  # the person stopped: keep what was played
        ep = Episode(task_id=task.task_id, turns=user.turns(), end_reason="finish")
    ep.meta.update({"player": "human", "role": "user", "agent": checkpoint or agent})
    return ep


# -- files and scores ------------------------------------------------------------------------------------------
def append_episode(path: Path, ep: Episode) -> None:
    """Add one game to ``path`` (the whole file is rewritten atomically: a crash never loses earlier games)."""
    write_jsonl(path, [*(read_jsonl(path) if path.exists() else []), ep.to_dict()])


def score_file(path: Path) -> dict:
    from bao.eval.metrics import summarize

    eps = [Episode.from_dict(r) for r in read_jsonl(path)]
    if not eps:
        raise ValueError(f"{path}: no episodes")
    return summarize(eps, range(1, 4))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bao.play", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="config/config.yaml", help="pipeline config (gym settings, tasks)")
    p.add_argument("--gym", required=True, choices=["function", "telepathy", "turtle"])
    p.add_argument("--role", choices=["agent", "user"], default="agent",
                   help="agent: you call the tools; user (telepathy, turtle): you answer and judge")
    p.add_argument("--split", default="test", help="task split to draw from (default: %(default)s)")
    p.add_argument("--task", type=int, default=0, help="index of the task in the split (default: %(default)s)")
    p.add_argument("--checkpoint", help="--role user: the policy checkpoint that plays the agent (greedy)")
    p.add_argument("--agent", default="guess_spam", help="--role user without --checkpoint: a scripted policy")
    p.add_argument("--out", type=Path, help="episodes file to append to (default results/play/<gym>_<role>.jsonl)")
    p.add_argument("--score", type=Path, metavar="FILE", help="only print the metrics of the games in FILE")
    a = p.parse_args(argv)
    if a.score is not None:
        try:
            m = score_file(a.score)
        except (OSError, ValueError) as e:
            sys.exit(f"bao.play: {e}")
        print(f"{a.score}: {int(m['n_episodes'])} games: Score {m['score']:.3f}  Pass@U-1 {m['pass_at_u/1']:.3f}  "
              f"UR {m['user_rate']:.3f}  turns {m['mean_turns']:.2f}")
        return
    if a.role == "user" and a.gym == "function":
        sys.exit("bao.play: Function-Gym has no user to play (its answers are checked by code): use --role agent")
    from bao.config import load_config
    from bao.gyms import GYMS

    cfg = load_config(a.config)
    tasks = GYMS.get(a.gym).tasks(cfg, a.split)
    if not 0 <= a.task < len(tasks):
        sys.exit(f"bao.play: --task {a.task}: the {a.split} split has tasks 0..{len(tasks) - 1}")
    task = tasks[a.task]
    if a.role == "agent":
        ep = play_agent(GYMS.get(a.gym).env_factory(cfg, a.split)(), task)
    else:
        ep = play_user(cfg, a.gym, task, a.agent, a.checkpoint)
    out = a.out or Path(cfg.results_dir) / "play" / f"{a.gym}_{a.role}.jsonl"
    append_episode(out, ep)
    print(f"game over ({ep.end_reason}): reward {ep.total_reward:g} in {len(ep.turns)} turns; saved to {out}")
    print(f"score all games: python -m bao.play --score {out} --gym {a.gym}")


if __name__ == "__main__":
    from bao.cli import run

    run(main)
