"""LLM users and judges for the faithful gyms (Telepathy, Turtle), over any chat backend with ``complete(messages) -> str``
(:class:`bao.users.endpoint.ChatEndpoint` for an OpenAI-compatible server, :class:`HFChat` for a local HF
model directory).

The prompts play the roles of the original UserRL prompts (``userrl_repo.md`` §1.6): the wording is ours.

* **Questions** (``reply``): the user knows the hidden entity's description and answers one question with Yes,
  No or Maybe (Maybe only when the question cannot be decided). Stateless, as in the original: no history.
* **Guesses** (``judge``): the judge sees the description and the guess and returns JSON
  ``{"thought": ..., "judgment": "Yes"|"No", "feedback": ...}``; correct only for the same entity or a clear
  synonym, no partial credit.
* **Turtle** (``userrl_repo.md`` §1.7): questions are answered from the surface and the bottom (stateless);
  a story is scored per criterion in {0, 0.5, 1} from the criteria *without their weights*, as JSON
  ``{"scores": [...], "feedback": ...}``; the gym weights the scores, and the feedback names the criteria
  scored 1 (as the original's does). A reply with the wrong number of scores counts as unreadable.

A reply that cannot be read is never a crash: a question gets "Maybe", a guess is judged wrong with a
neutral feedback, and ``unreadable`` counts how often that happened (reported in provenance).
"""

from __future__ import annotations

import json
import re

from bao.envs.telepathy import EntityTask, Judgement
from bao.envs.turtle import PuzzleTask

TELEPATHY_QUESTION_SYSTEM = (
    "You are playing a guessing game as the person who has an entity in mind. Answer the player's question "
    "about the entity truthfully with exactly one word: Yes, No or Maybe. Use Maybe only when the question "
    "cannot be answered from what is known about the entity or does not apply to it."
)
TELEPATHY_QUESTION_USER = "The entity: {entity}\n\nThe player's question: {question}\n\nYour answer (Yes, No or Maybe):"

TELEPATHY_JUDGE_SYSTEM = (
    "You judge a guessing game. Decide whether the player's guess names the hidden entity: the same entity or "
    "a clear synonym counts, a related or more general entity does not. Reply with JSON only: "
    '{"thought": "<one sentence>", "judgment": "Yes" or "No", "feedback": "<one short sentence to the player, '
    'without revealing the entity>"}'
)
TELEPATHY_JUDGE_USER = "The hidden entity: {entity}\n\nThe player's guess: {guess}"

_ANSWER = re.compile(r"\b(yes|no|maybe)\b", re.IGNORECASE)


def _first_json_object(text: str) -> dict | None:
    start = text.find("{")
    while start != -1:
        depth = 0
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                try:
                    obj = json.loads(text[start:i + 1])
                    return obj if isinstance(obj, dict) else None
                except ValueError:
                    break
        start = text.find("{", start + 1)
    return None


class _LLMUser:
    """What both LLM users share: the chat backend, the unreadable-reply count, and the Yes/No/Maybe question."""

    def __init__(self, chat):
        self.chat = chat
        self.unreadable = 0

    def _yes_no_maybe(self, system: str, user: str) -> str:
        text = self.chat.complete([{"role": "system", "content": system}, {"role": "user", "content": user}])
        m = _ANSWER.search(text or "")
        if not m:
            self.unreadable += 1
            return "Maybe"
        return m.group(1).capitalize()


class LLMTelepathyUser(_LLMUser):
    """The faithful Telepathy-Gym's user and judge, backed by a chat model."""

    name = "telepathy-llm-v0"

    def reply(self, task: EntityTask, question: str) -> str:
        return self._yes_no_maybe(TELEPATHY_QUESTION_SYSTEM,
                                  TELEPATHY_QUESTION_USER.format(entity=task.description, question=question))

    def judge(self, task: EntityTask, guess: str) -> Judgement:
        text = self.chat.complete([
            {"role": "system", "content": TELEPATHY_JUDGE_SYSTEM},
            {"role": "user", "content": TELEPATHY_JUDGE_USER.format(entity=task.description, guess=guess)},
        ])
        obj = _first_json_object(text or "")
        verdict = str(obj.get("judgment", "")).strip().lower() if obj else ""
        if verdict not in ("yes", "no"):
            self.unreadable += 1
            return Judgement(0.0, "Your guess could not be confirmed. Keep asking or guess again.")
        feedback = str(obj.get("feedback") or ("Correct!" if verdict == "yes" else "That is not it."))
        return Judgement(1.0 if verdict == "yes" else 0.0, feedback)


TURTLE_QUESTION_SYSTEM = (
    "You host a lateral-thinking puzzle. You know the puzzle's surface and its hidden true story. Answer the "
    "player's question with exactly one word: Yes, No or Maybe. Use Maybe only when the question is irrelevant "
    "to the true story or cannot be decided from it."
)
TURTLE_QUESTION_USER = "Surface: {surface}\n\nTrue story: {bottom}\n\nThe player's question: {question}\n\nYour answer:"
TURTLE_JUDGE_SYSTEM = (
    "You grade a player's explanation of a lateral-thinking puzzle against numbered criteria. For each criterion "
    "give 1 if the explanation clearly covers it, 0.5 if it covers it partly, 0 otherwise; long or vague "
    "explanations that hedge between alternatives earn nothing for the hedged points. Reply with JSON only: "
    '{"scores": [<one number per criterion, in order>], "feedback": "<one short sentence>"}'
)
TURTLE_JUDGE_USER = "Surface: {surface}\n\nTrue story: {bottom}\n\nCriteria:\n{criteria}\n\nThe player's explanation: {story}"


class LLMTurtleUser(_LLMUser):
    """The faithful Turtle-Gym's user and rubric judge, backed by a chat model."""

    name = "turtle-llm-v0"

    def reply(self, task: PuzzleTask, question: str) -> str:
        return self._yes_no_maybe(TURTLE_QUESTION_SYSTEM, TURTLE_QUESTION_USER.format(
            surface=task.surface, bottom=task.bottom, question=question))

    def judge(self, task: PuzzleTask, story: str) -> Judgement:
        listing = "\n".join(f"{i + 1}. {s}" for i, (s, _) in enumerate(task.criteria))
        text = self.chat.complete([
            {"role": "system", "content": TURTLE_JUDGE_SYSTEM},
            {"role": "user", "content": TURTLE_JUDGE_USER.format(surface=task.surface, bottom=task.bottom,
                                                                 criteria=listing, story=story)},
        ])
        obj = _first_json_object(text or "")
        raw = obj.get("scores") if obj else None
        try:
            scores = tuple(min((0.0, 0.5, 1.0), key=lambda v: abs(v - float(x))) for x in raw)
        except (TypeError, ValueError):
            scores = ()
        if len(scores) != len(task.criteria):
            self.unreadable += 1
            return Judgement(0.0, "Your explanation could not be graded. Try again.", ())
        total = round(sum(w * x for (_, w), x in zip(task.criteria, scores)), 6)
        covered = [s for (s, _), x in zip(task.criteria, scores) if x == 1.0]
        if not covered:
            feedback = "Your answer does not effectively cover any evaluation points."
        else:
            feedback = ("Here's the evaluation points that your story effectively covers:\n"
                        + "\n".join(f"{s}: Covered" for s in covered))
            if total < 1.0:
                feedback += "\nThere might be more hidden twists in the story."
        return Judgement(total, feedback, scores)


def hermes_tool_messages(messages: list[dict], tools: list[dict]) -> list[dict]:
    """Offered tools and past tool calls written into plain chat messages, for a chat template without tool
    support (ours; the wording follows the Hermes convention that Qwen's templates render natively): the system
    message lists the tools' JSON schemas in ``<tools>`` and asks for ``<tool_call>`` JSON; an assistant turn's
    native calls become that text; a tool result becomes a user turn in ``<tool_response>``."""
    schemas = "\n".join(json.dumps(t, ensure_ascii=False) for t in tools)
    header = ("You may call the function below to act. Function signature inside <tools></tools>:\n"
              f"<tools>\n{schemas}\n</tools>\n"
              "For each call, write a JSON object with the function name and arguments inside "
              '<tool_call></tool_call> tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}'
              "\n</tool_call>")
    out: list[dict] = []
    for m in messages:
        if m["role"] == "assistant" and m.get("tool_calls"):
            calls = "".join(f"\n<tool_call>\n{json.dumps({'name': c['function']['name'], 'arguments': _args(c)}, ensure_ascii=False)}\n</tool_call>"
                            for c in m["tool_calls"])
            out.append({"role": "assistant", "content": (m.get("content") or "") + calls})
        elif m["role"] == "tool":
            out.append({"role": "user", "content": f"<tool_response>\n{m.get('content') or ''}\n</tool_response>"})
        else:
            out.append({"role": m["role"], "content": m.get("content") or ""})
    if out and out[0]["role"] == "system":
        out[0] = {"role": "system", "content": f"{out[0]['content']}\n\n{header}"}
    else:
        out.insert(0, {"role": "system", "content": header})
    return out


def _args(call: dict):
    args = call["function"].get("arguments", {})
    try:
        return json.loads(args) if isinstance(args, str) else args
    except json.JSONDecodeError:
        return args


class HFChat:
    """``complete(messages)`` with a local transformers chat model (the offline backend for the same prompts).

    Greedy decoding (the endpoint default is temperature 0 too); the model directory's own chat template."""

    def __init__(self, model_dir: str, max_new_tokens: int = 256):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tok = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
        self.max_new_tokens = max_new_tokens
        # a template that never mentions ``tools`` (SmolLM2's) would drop the offered tool without a word
        self.native_tools = "tools" in (self.tok.chat_template or "")

    def complete(self, messages: list[dict], max_tokens: int | None = None) -> str:
        return self.message(messages, max_tokens=max_tokens)["content"]

    def message(self, messages: list[dict], tools: list[dict] | None = None, max_tokens: int | None = None) -> dict:
        """The reply as ``{"role": "assistant", "content": text}``; offered tools go through the model's chat
        template (Qwen3 writes ``<tool_call>`` text, which the agent loop parses)."""
        import torch

        if tools and not self.native_tools:
            messages, tools = hermes_tool_messages(messages, tools), None
        enc = self.tok.apply_chat_template(messages, tools=tools, add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
        with torch.no_grad():
            out = self.model.generate(**enc, max_new_tokens=max_tokens or self.max_new_tokens, do_sample=False)
        return {"role": "assistant",
                "content": self.tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)}
