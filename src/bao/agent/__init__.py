"""The agent side of the interface: the ``interact_with_env`` tool-call format and the prompts."""
