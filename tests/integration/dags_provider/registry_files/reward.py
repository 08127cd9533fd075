"""Reward function: 1.0 when the answer contains the expected text."""


def lambda_handler(event, context):
    expected = str(event.get("expected", ""))
    answer = str(event.get("answer", ""))
    return {"score": 1.0 if expected and expected in answer else 0.0}
