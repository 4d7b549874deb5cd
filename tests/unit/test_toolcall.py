"""Parsing assistant messages: valid calls, every malformed shape, and fuzzed garbage never raises."""

from hypothesis import given, settings
from hypothesis import strategies as st

from bao.agent.toolcall import parse_assistant, render_assistant, render_tool_call


def test_roundtrip():
    p = parse_assistant(render_assistant("Plan: probe.", "action", "1 2 3 4"))
    assert p.valid and p.choice == "action" and p.content == "1 2 3 4" and p.think == "Plan: probe."


def test_no_tool_call_ends_episode():
    p = parse_assistant("<think>hmm</think> I give up.")
    assert not p.has_tool_call and not p.valid


def test_malformed_calls_carry_an_error():
    cases = {
        "<tool_call>\n{not json}\n</tool_call>": "not valid JSON",
        '<tool_call>\n{"name": "other", "arguments": {}}\n</tool_call>': "unknown tool",
        '<tool_call>\n{"name": "interact_with_env"}\n</tool_call>': "'arguments'",
        '<tool_call>\n{"name": "interact_with_env", "arguments": {"choice": "finish", "content": ""}}\n</tool_call>':
            "'choice'",
        '<tool_call>\n{"name": "interact_with_env", "arguments": {"choice": "answer", "content": [1]}}\n</tool_call>':
            "'content'",
        "<tool_call>\n[1, 2]\n</tool_call>": "JSON object",
    }
    for text, fragment in cases.items():
        p = parse_assistant(text)
        assert p.has_tool_call and not p.valid and fragment in p.error, text


def test_numeric_content_and_string_arguments_are_accepted():
    p = parse_assistant('<tool_call>{"name": "interact_with_env", "arguments": {"choice": "answer", "content": 7}}')
    assert p.valid and p.content == "7"
    p = parse_assistant('<tool_call>{"name": "interact_with_env", "arguments": '
                        '"{\\"choice\\": \\"search\\", \\"content\\": \\"test\\"}"}</tool_call>')
    assert p.valid and p.choice == "search"


def test_first_of_several_calls_is_used():
    text = render_tool_call("search", "test") + render_tool_call("answer", "3")
    assert parse_assistant(text).choice == "search"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('<>/{}[]":, tool_call_think abc\n0123456789')), max_size=200))
def test_fuzzed_messages_never_raise(text):
    p = parse_assistant(text)
    assert p.valid or p.error is not None or not p.has_tool_call
