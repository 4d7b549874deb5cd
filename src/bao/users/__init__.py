"""User simulators and judges: programmatic (offline, deterministic) and LLM-backed (any OpenAI-compatible
endpoint, or a local HF model directory), behind one interface."""
