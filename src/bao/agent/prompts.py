"""Prompts of the embedded (procedural) Function-Gym.

The faithful gym uses the original UserRL prompts shipped in the parquet splits (1.7-2.8k characters). The
embedded gym uses a shorter system prompt with the same roles (environment description, action space, the
think-then-call instruction, the round limit) so that a 2M-parameter model's context stays small. Our choice;
the wording is configurable through ``env.system_prompt`` in the config.
"""

FUNCTION_SYSTEM_PROMPT = (
    "FunctionGym: a hidden function maps four numbers a b c d to a result with + - *. Call interact_with_env "
    "with choice search and content test to get the test case; action and four integers to see their result; "
    "answer and one number, the function on the test case. The user checks every answer: answer only when sure. "
    "Think in <think></think> before each call. You have {horizon} rounds."
)

FUNCTION_USER_PROMPT = "My mapping function is settled and ready. You may begin your guessing and trials now!\n"
