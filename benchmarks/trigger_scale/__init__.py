"""
What N waiting SageMaker triggers (training jobs, tuning jobs, pipeline executions) cost in one triggerer event loop: ours vs the amazon provider's.

For every N and every provider, one fresh Python process (a *worker*):

1. waits for N jobs the driver created on the project's LocalSageMaker (moto in server mode on
   127.0.0.1; :mod:`.setup`), all planned to end at one instant far ahead, which the worker brings
   forward once the steady state was measured;
2. builds the N triggers the way an operator defers (constructor, then ``serialize()``), and starts
   them the way Airflow's triggerer does (class looked up by classpath, rebuilt from the serialized
   kwargs, ``trigger.run()`` consumed by ``async for`` in one asyncio task per trigger, a greenback
   portal per task, ``cleanup()`` at the end, ``asyncio.sleep(0)`` between two creations);
3. measures peak RSS, RSS added per trigger, start-up time (launch until every trigger has read its
   job once), CPU time, requests per job per poll (from the server's request log), event-loop stalls
   (a 50 ms ticker measuring its own lateness) and how long after the jobs ended the last event came.

Both providers run with the same server, the same settings, the same Airflow connection and the same
poll interval (ours: ``poll_interval``; amazon: ``poke_interval`` with a ``max_attempts`` that never
runs out). Results: a markdown table on stdout and in ``benchmarks/results/trigger_scale.md``, raw
numbers in ``benchmarks/results/trigger_scale.json``.

Run::

    .venv/bin/python benchmarks/trigger_scale.py --n 1 100 500 1000 2000   # the defaults: 20 s window; 5 s poll
    .venv/bin/python benchmarks/trigger_scale.py --n 2 --window 4 --poll 1 --results-dir /tmp/x

Nothing but 127.0.0.1 is contacted: the workers refuse any other address.

Modules: :mod:`.cli` (command line), :mod:`.driver` (the LocalSageMaker server and one worker process
per provider and N), :mod:`.setup` (the jobs each worker waits for), :mod:`.worker` (what a worker measures), :mod:`.loop` (the triggers in one asyncio
loop, as the triggerer runs them), :mod:`.report` (the markdown table), :mod:`.common` (settings and
helpers shared by both sides).
"""
