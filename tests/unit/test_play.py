"""``python -m bao.play`` in a real pseudo-terminal (pexpect): a person as the agent and as the user, the games saved
in the pipeline's episode format and scored with the pipeline's metrics."""
import subprocess
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from bao.config import load_config  # noqa: E402
from bao.gyms import GYMS  # noqa: E402
from bao.io import read_jsonl  # noqa: E402
from bao.play import HumanUser, REPLIES  # noqa: E402
from bao.teacher.function_teacher import fmt  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "config.yaml"


def spawn(*args):
    child = pexpect.spawn(sys.executable, ["-m", "bao.play", "--config", str(CONFIG), *args], cwd=str(ROOT),
                          encoding="utf-8", timeout=120, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    return child


def score(path, gym):
    r = subprocess.run([sys.executable, "-m", "bao.play", "--score", str(path), "--gym", gym],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_a_person_plays_the_agent_on_function_gym(tmp_path):
    task = GYMS.get("function").tasks(load_config(CONFIG), "test")[0]
    out = tmp_path / "games.jsonl"
    child = spawn("--gym", "function", "--role", "agent", "--out", str(out))
    child.expect("turn 1> ")
    child.sendline("search test")
    child.expect(r"Test case: \[([-\d, ]+)\]")
    assert tuple(int(v) for v in child.match.group(1).split(",")) == task.test_case
    child.expect("turn 2> ")
    child.sendline("guess 3")  # not a choice: a malformed call, as the env treats a model's
    child.expect("Invalid tool call")
    child.expect("turn 3> ")
    child.sendline(f"answer {fmt(task.expected)}")
    child.expect(r"game over \(success\): reward 1 in 3 turns")
    child.expect(pexpect.EOF)
    [ep] = read_jsonl(out)
    assert [t["choice"] for t in ep["turns"]] == ["search", None, "answer"]
    assert [t["valid"] for t in ep["turns"]] == [True, False, True]
    assert ep["end_reason"] == "success" and ep["meta"]["player"] == "human"
    assert "Score 1.000  Pass@U-1 1.000  UR 0.333  turns 3.00" in score(out, "function")


def test_a_person_plays_the_user_and_judges_on_telepathy(tmp_path):
    task = GYMS.get("telepathy").tasks(load_config(CONFIG), "test")[0]
    out = tmp_path / "games.jsonl"
    child = spawn("--gym", "telepathy", "--role", "user", "--agent", "guess_spam", "--out", str(out))
    child.expect(f"You are thinking of: {task.target}")
    for verdict in ["maybe", "n", "n", "y"]:  # a non-answer is asked again
        child.expect(r"is it right\? \[y/n\]> ")
        child.sendline(verdict)
    child.expect(r"game over \(success\): reward 1 in 3 turns")
    child.expect(pexpect.EOF)
    [ep] = read_jsonl(out)
    assert [t["reward"] for t in ep["turns"]] == [0.0, 0.0, 1.0]
    assert ep["meta"]["role"] == "user" and ep["meta"]["agent"] == "guess_spam"
    assert "Score 1.000  Pass@U-1 0.000  UR 1.000  turns 3.00" in score(out, "telepathy")


def test_a_person_scores_turtle_stories_and_ctrl_d_saves_the_game(tmp_path):
    out = tmp_path / "games.jsonl"
    child = spawn("--gym", "turtle", "--role", "user", "--out", str(out))
    child.expect("The hidden story")
    child.expect(r"score in \[0, 1\]> ")
    child.sendline("2")  # out of range: asked again
    child.expect(r"score in \[0, 1\]> ")
    child.sendline("0.5")
    child.expect("feedback for the agent")
    child.sendline("half of it")
    child.expect(r"score in \[0, 1\]> ")
    child.sendeof()
    child.expect(r"game over \(finish\)")
    child.expect(pexpect.EOF)
    [ep] = read_jsonl(out)  # the game played so far is kept: one judged story worth 0.5
    assert ep["end_reason"] == "finish"
    assert [(t["choice"], t["reward"], t["feedback"]) for t in ep["turns"]] == [("answer", 0.5, "half of it")]


def test_human_user_maps_short_replies(monkeypatch):
    lines = iter(["y", "N", "m", "it lives in water"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    user = HumanUser("telepathy")
    assert [user.reply(None, "q?") for _ in range(4)] == ["Yes", "No", "Maybe", "it lives in water"]
    assert set(REPLIES.values()) == {"Yes", "No", "Maybe"}


def test_function_gym_has_no_user_role():
    r = subprocess.run([sys.executable, "-m", "bao.play", "--gym", "function", "--role", "user"],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode != 0 and "Function-Gym has no user to play" in r.stderr
