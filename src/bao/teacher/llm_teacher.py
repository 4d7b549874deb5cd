"""An LLM teacher over the same chat interface as the LLM users: SFT data for the faithful gyms (the original
538 Function rules, the original Telepathy entities and Turtle stories), which the scripted experts cannot
play.

The teacher is a chat model (``teacher.llm``: an OpenAI-compatible endpoint or a local HF directory) acting as
the agent through :func:`bao.agent.endpoint_agent.play`, with one instruction appended to the task's system
prompt (BAO's teacher prompts are unknown; these are ours, in the spirit of the paper's description):

* ``enhanced``: reason in ``<think>`` with *retrospective* reasoning (what is known, which hypotheses were ruled
  out and why) and *prospective* planning (turns left, the most informative next query, when to commit);
* ``plain``: act directly with an empty think block.

Each turn is stored as our assistant text (``render_assistant(think, choice, content)``: the model's think
text for ``enhanced``, nothing for ``plain``), so SFT sees the same format as with the scripted teachers. Only
successful episodes are kept (the CLI filters, as for the scripted teachers). Replies are cached by the
endpoint client, so a rerun costs nothing twice.
"""

from __future__ import annotations

import dataclasses

from bao.agent import endpoint_agent
from bao.agent.toolcall import parse_assistant, render_assistant
from bao.teacher import TeacherEpisode

INSTRUCTIONS = {
    "enhanced": (
        "\n\nBefore every tool call, think inside <think></think> in two parts. Looking back: what the feedback "
        "so far has established, which hypotheses it ruled out and why. Looking ahead: how many turns are left, "
        "which single query would narrow the possibilities most, and whether you are sure enough to answer. "
        "Every answer costs the user's attention: answer only when the evidence supports it."
    ),
    "plain": "\n\nCall the tool directly, without explaining your reasoning.",
}


def _with_instruction(messages, style: str) -> tuple[dict, ...]:
    msgs = [dict(m) for m in messages]
    if msgs and msgs[0]["role"] == "system":
        msgs[0]["content"] = msgs[0]["content"] + INSTRUCTIONS[style]
    else:
        msgs.insert(0, {"role": "system", "content": INSTRUCTIONS[style].strip()})
    return tuple(msgs)


def generate(chat, make_env, tasks, style: str) -> list[TeacherEpisode]:
    """One teacher episode per task (successful or not; the caller filters)."""
    if style not in INSTRUCTIONS:
        raise ValueError(f"teacher style must be 'enhanced' or 'plain', got {style!r}")
    out = []
    for task in tasks:
        prompted = dataclasses.replace(task, messages=_with_instruction(task.messages, style))
        [ep] = endpoint_agent.play(chat, make_env, [prompted])
        assistant = []
        for t in ep.turns:
            if not t.valid:
                assistant.append(t.text)
                continue
            # reasoning in <think> tags, or (native tool calls) the prose written before the call
            think = parse_assistant(t.text).think or t.text.split("<tool_call>")[0].strip()
            assistant.append(render_assistant(think if style == "enhanced" else "", t.choice, t.content))
        out.append(TeacherEpisode(task.task_id, [dict(m) for m in task.messages], assistant,
                                  [t.feedback for t in ep.turns], ep.end_reason == "success",
                                  ep.num_user_actions))
    return out
