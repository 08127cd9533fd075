"""RLVR reward function (AWS Lambda handler): 1.0 when the response contains the reference answer.

The SDK's open-weights format: the event is a list of samples, the answer an HTTP-style envelope whose
``body`` is the JSON list of ``{"id", "aggregate_reward_score"}``.
"""

import json


def lambda_handler(event, context):
    scores = []
    for index, sample in enumerate(event):
        reference = str(sample.get("reference_answer", "")).strip()
        response = json.dumps(sample.get("messages") or sample.get("response") or sample)
        scores.append({"id": sample.get("id", index), "aggregate_reward_score": 1.0 if reference and reference in response else 0.0})
    return {"statusCode": 200, "body": json.dumps(scores)}
