"""The Qwen3-style chat format, as strings, in the pieces the rollout appends one at a time.

A conversation renders as::

    <|im_start|>system\\n{system}<|im_end|>\\n
    <|im_start|>user\\n{user}<|im_end|>\\n
    <|im_start|>assistant\\n{assistant 1}<|im_end|>                      <- generated
    \\n<|im_start|>user\\n<tool_response>\\n{feedback 1}\\n</tool_response><|im_end|>\\n<|im_start|>assistant\\n
    {assistant 2}<|im_end|> ...

which is exactly what :data:`CHAT_TEMPLATE` (the Jinja template saved with the tokenizer) renders for the same
messages. Every piece boundary touches a special or added token (``<|im_end|>``, ``<think>``), and the tokenizer
splits those out before BPE, so tokenizing the pieces one by one gives the same ids as tokenizing the whole
rendering (``tests/unit/test_chat.py`` checks it). Earlier ``<think>`` blocks stay in the context: retrospective
reasoning needs them (Qwen3's own template drops them; our choice, configurable only by editing the template).
Real Qwen3 checkpoints use the same ``<|im_start|>``/``<|im_end|>`` markers, so the same pieces apply to them.
"""

from __future__ import annotations

IM_START, IM_END, PAD = "<|im_start|>", "<|im_end|>", "<|endoftext|>"
SPECIAL_TOKENS = [PAD, IM_START, IM_END]
ADDED_TOKENS = ["<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"]


def render_prompt(messages) -> str:
    """System + user messages, then the header of the first assistant turn."""
    out = "".join(f"{IM_START}{m['role']}\n{m['content']}{IM_END}\n" for m in messages)
    return out + f"{IM_START}assistant\n"


def render_assistant_end() -> str:
    return IM_END


def render_observation(feedback: str) -> str:
    """Tool feedback after an assistant turn, then the header of the next assistant turn."""
    return f"\n{IM_START}user\n<tool_response>\n{feedback}\n</tool_response>{IM_END}\n{IM_START}assistant\n"


def render_conversation(messages, assistant_texts, feedbacks) -> str:
    """The whole episode as one string (the reference the incremental pieces must equal)."""
    s = render_prompt(messages)
    for i, a in enumerate(assistant_texts):
        s += a + IM_END
        if i < len(feedbacks):
            s += render_observation(feedbacks[i])
    return s


# Jinja template for `tokenizer.apply_chat_template`: assistant content is the raw message text (think + call);
# tool messages are wrapped in <tool_response>. Same strings as the functions above.
CHAT_TEMPLATE = (
    "{%- for m in messages %}"
    "{%- if m.role == 'tool' %}"
    "{{ '<|im_start|>user\\n<tool_response>\\n' + m.content + '\\n</tool_response><|im_end|>\\n' }}"
    "{%- elif m.role == 'assistant' %}"
    "{{ '<|im_start|>assistant\\n' + m.content }}"
    "{%- if m.tool_calls is defined and m.tool_calls %}"
    "{%- for tc in m.tool_calls %}"
    "{{ '<tool_call>\\n' + (tc.function | tojson) + '\\n</tool_call>' }}"
    "{%- endfor %}"
    "{%- endif %}"
    "{{ '<|im_end|>\\n' }}"
    "{%- else %}"
    "{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}"
)
