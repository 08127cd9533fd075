"""The fault campaign of issue #5: seeded, randomized task instances under faults, checked for invariants.

``python -m tests.campaign --scenarios 200 --seed 1`` runs the long campaign and writes
``benchmarks/results/fault_campaign.{json,md}``; ``test_fault_campaign.py`` runs a short one.
Modules: :mod:`.vclock` (virtual time), :mod:`.plan` (what a scenario injects), :mod:`.faulty`
(operators that die where the plan says), :mod:`.driver` (Airflow's side: tries, deferrals, the
triggerer, clears, kills), :mod:`.checker` (invariants from the local SageMaker's own records),
:mod:`.campaign` (run many, count), :mod:`.report` (figures).
"""
