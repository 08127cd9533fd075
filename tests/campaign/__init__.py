"""The fault campaign of issue #5: seeded, randomized task instances under faults, checked for invariants.

``python -m tests.campaign --scenarios 200 --seed 1`` runs the long campaign and writes
``benchmarks/results/fault_campaign.{json,md}``; ``test_fault_campaign.py`` runs a short one.
``--kinds agent_rft,finetune,hub_content`` runs it on ``MultiTurnRLTrainerOperator``, the fine-tuning
trainers (SFT, DPO, RLAIF, RLVR drawn per scenario) and ``CreateDataSetOperator`` (an AI Registry import,
which cannot be stopped: see :mod:`.checker` for what the invariants mean there), each kind's figures in
``benchmarks/results/fault_campaign_<kind>.{json,md}``. ``--kinds evaluation`` runs the evaluator
operators (one pipeline execution per task-instance generation, in the generation's own pipeline:
:mod:`.faulty_evaluation`, :mod:`.checker_evaluation`).

How a scenario runs (one at a time, against one LocalSageMaker, reset in between):

* :mod:`.plan` draws it from ``(seed, kind, index)``: job kind, blocking or deferrable (alternating),
  ``retries``, job duration (5-40 virtual minutes), poll interval (30-60 s), and its faults.
* :mod:`.vclock`: the server's clock is frozen; the campaign clock (``use_clock``) advances it at every
  lifecycle, trigger and botocore backoff sleep, so an hour of job costs ~1 s real. Network fault
  windows open and close, and the running jobs are sampled, before and after every step.
* :mod:`.faulty`: the real ``ModelTrainerOperator`` / ``HyperparameterTunerOperator`` /
  ``MultiTurnRLTrainerOperator`` (AgentRFT jobs: the SDK's whole construction on every submission) /
  ``SFTTrainerOperator`` & co. (serverless training jobs with ``ModelPackageConfig``) /
  ``CreateDataSetOperator`` with worker deaths (``WorkerDied``) at hook points: before, during and
  after submission (for the registry: around the import), while waiting, on resume, after the job ended.
* :mod:`.driver` plays Airflow: tries (``try_number``, ``max_tries``, retries), a fresh deep copy of the
  operator per try and per resume, the trigger rebuilt from ``serialize()`` and run in an asyncio loop,
  triggerer restarts (cancel, ``cleanup()``, rebuild), ``error`` events, clears and mark-failed (the
  operator's or the trigger's ``on_kill``), Airflow's ``execution_timeout``, the triggerer down past a
  deferral's timeout (``__fail__``), and a second deployment running the same task instance at once.
* :mod:`.checker` judges from the server's request log and jobs (:mod:`.campaign` collects them):
  duplicates, wrong results, orphans, wrongful stops, failed tasks under transient faults.
* :mod:`.report`: figures, JSON and Markdown.

Transient, by construction: worker deaths <= retries; network windows (<= 5 virtual minutes) end
90 s before anything has to be stopped; a submission meets at most a 10 % fault rate (the SDK's calls
rely on botocore's retries alone). Mark-failed and timeouts are expected failures whose job must stop.
"""
