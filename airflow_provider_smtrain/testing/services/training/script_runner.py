"""
Run ``SourceCode`` entry scripts of training jobs for real (off unless ``run_scripts`` is set).

The SageMaker SDK ``ModelTrainer(source_code=SourceCode(source_dir=..., entry_script=...))`` submits a
training job with two extra S3 channels: ``code`` (the files of ``source_dir``) and ``sm_drivers`` (SDK
drivers plus ``sourcecode.json`` = ``SourceCode.model_dump()``). When such a job is created and
``run_scripts`` is on, a background thread:

1. downloads every S3 channel from moto into ``<tmp>/input/data/<channel>`` (``Downloading``);
2. runs the entry script with the server's Python (``.sh`` with ``/bin/sh``; a ``command`` is run as given),
   in the code directory, with ``--<hyperparameter> <value>`` arguments like the SDK's basic script driver
   and the usual ``SM_*`` environment (``SM_MODEL_DIR``, ``SM_CHANNEL_<NAME>``, ``SM_HPS``,
   ``SM_OUTPUT_DATA_DIR``, ...) pointing into the temp dir (``Training``); stdout and stderr lines go to the
   job's CloudWatch log stream and are matched against the job's ``MetricDefinitions`` regexes;
3. on exit code 0 tars ``SM_MODEL_DIR`` into ``model.tar.gz`` (and ``SM_OUTPUT_DATA_DIR`` into
   ``output.tar.gz``) (``Uploading``) and completes the job with the last value of each metric; on a
   non-zero exit or timeout the job fails with the stderr tail as FailureReason.

StopTrainingJob kills the process.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections import deque
from pathlib import Path
from typing import IO, Any

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.engine.timeline import event
from airflow_provider_smtrain.testing.services.training.lifecycle import TrainingService
from airflow_provider_smtrain.testing.services.training.model import TrainingSim

log = logging.getLogger(__name__)

MAX_FAILURE_REASON = 1024


def install(training: TrainingService) -> None:
    """
    Register the script launcher on the training service.

    :param training: The training service.
    """
    runner = ScriptRunner(training)
    training.script_launcher = runner.launch


def tar_directory(directory: Path) -> bytes:
    """
    ``.tar.gz`` of a directory's contents (paths relative to it).

    :param directory: Directory to archive.
    """
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(directory.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(directory)), recursive=False)
    return buf.getvalue()


class ScriptRunner:
    """
    Runs one background thread per script-mode training job.

    :param training: The training service (its simulator's lock guards moto and job state).
    """

    def __init__(self, training: TrainingService) -> None:
        self.training = training
        self.simulator = training.simulator

    def launch(self, sim: TrainingSim) -> None:
        """
        Start running a job's entry script in the background (called with the simulator lock held).

        :param sim: The script-mode training job.
        """
        thread = threading.Thread(
            target=self._run_safely, args=(sim,), name=f"script-{sim.name}", daemon=True
        )
        thread.start()

    # ------------------------------------------------------------------------------------ helpers

    def _event(self, sim: TrainingSim, status: str) -> bool:
        """Append a SecondaryStatus event unless the job was stopped; returns False if stopped."""
        with self.simulator.lock:
            if sim.stop_requested:
                return False
            now = self.simulator.clock.now()
            sim.events.append(event(now, status))
            self.training.apply(sim, now)
            return True

    def _log(self, sim: TrainingSim, line: str) -> None:
        with self.simulator.lock:
            sim.pending_log.append((self.simulator.clock.now(), line))

    def _finish(self, sim: TrainingSim, failure_reason: str | None) -> None:
        with self.simulator.lock:
            if sim.stop_requested:
                return
            now = self.simulator.clock.now()
            # A job lasts at least training_seconds, as a timed job does, even when its script is quick.
            end = max(now, sim.created + self.simulator.config.training_seconds)
            if failure_reason is not None:
                sim.failure_reason = failure_reason[-MAX_FAILURE_REASON:]
                sim.events.append(event(end, "Failed"))
            else:
                sim.events.append(event(end, "Completed"))
            self.training.apply(sim, now)

    # ------------------------------------------------------------------------------------ the run

    def _run_safely(self, sim: TrainingSim) -> None:
        workdir = Path(tempfile.mkdtemp(prefix="local-sagemaker-job-"))
        try:
            self._run(sim, workdir)
        except Exception as err:  # never leave a job InProgress forever
            log.exception("script run of %s crashed", sim.name)
            self._finish(sim, f"InternalServerError: LocalSageMaker script runner: {err!r}")
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _run(self, sim: TrainingSim, workdir: Path) -> None:
        job = sim.job
        if not self._event(sim, "Downloading"):
            return
        data_dir = workdir / "input" / "data"
        channels = self._download_channels(sim, data_dir)
        source = json.loads((data_dir / "sm_drivers" / "sourcecode.json").read_text() or "{}")
        code_dir = data_dir / "code"
        if str(source.get("source_dir") or "").endswith(".tar.gz"):
            for archive in code_dir.glob("*.tar.gz"):
                with tarfile.open(archive) as tar:
                    tar.extractall(code_dir, filter="data")
        model_dir = workdir / "model"
        output_dir = workdir / "output"
        for directory in (model_dir, output_dir / "data", workdir / "input" / "config"):
            directory.mkdir(parents=True, exist_ok=True)
        hyperparameters = dict(job.hyper_parameters or {})
        env = self._environment(sim, workdir, code_dir, channels, hyperparameters, source)
        cmd = self._command(source, hyperparameters)
        if not self._event(sim, "Training"):
            return
        self._log(sim, f"LocalSageMaker: executing {' '.join(shlex.quote(c) for c in cmd)}")
        regexes = [
            (d["Name"], re.compile(d["Regex"]))
            for d in (job.algorithm_specification.get("MetricDefinitions") or [])
            if d.get("Name") and d.get("Regex")
        ]
        metrics: dict[str, float] = {}
        stderr_tail: deque[str] = deque(maxlen=30)
        process = subprocess.Popen(
            cmd,
            cwd=code_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
        )
        with self.simulator.lock:
            if sim.stop_requested:
                process.kill()
            sim.on_stop = process.kill
        readers = [
            threading.Thread(
                target=self._pump, args=(sim, process.stdout, regexes, metrics, None), daemon=True
            ),
            threading.Thread(
                target=self._pump, args=(sim, process.stderr, regexes, metrics, stderr_tail), daemon=True
            ),
        ]
        for reader in readers:
            reader.start()
        timeout = self.simulator.config.script_timeout_seconds
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            returncode = None
        for reader in readers:
            reader.join(timeout=5)
        with self.simulator.lock:
            sim.on_stop = None
        if returncode is None:
            self._finish(sim, f"MaxRuntimeExceeded: the script ran longer than {timeout:g}s (LocalSageMaker)")
            return
        if returncode != 0:
            tail = "\n".join(stderr_tail)
            self._finish(
                sim, f'AlgorithmError: ExecuteUserScriptError:\nExitCode {returncode}\nErrorMessage "{tail}"'
            )
            return
        if not self._event(sim, "Uploading"):
            return
        sim.model_tar = tar_directory(model_dir)
        output_files = list((output_dir / "data").rglob("*"))
        if output_files:
            output_uri = job.model_artifacts["S3ModelArtifacts"].rsplit("/", 1)[0] + "/output.tar.gz"
            with self.simulator.lock:
                try:
                    moto_support.s3_put(output_uri, tar_directory(output_dir / "data"))
                except Exception:
                    log.exception("could not store %s", output_uri)
        with self.simulator.lock:
            sim.final_metrics = metrics
        self._finish(sim, None)

    def _pump(
        self,
        sim: TrainingSim,
        stream: IO[str] | None,
        regexes: list[tuple[str, re.Pattern[str]]],
        metrics: dict[str, float],
        tail: deque[str] | None,
    ) -> None:
        if stream is None:
            return
        for raw in stream:
            line = raw.rstrip("\n")
            if tail is not None:
                tail.append(line)
            for name, regex in regexes:
                match = regex.search(line)
                if match:
                    try:
                        metrics[name] = float(match.group(1) if match.groups() else match.group(0))
                    except ValueError:
                        pass
            self._log(sim, line)

    def _download_channels(self, sim: TrainingSim, data_dir: Path) -> list[str]:
        names = []
        for channel in sim.job.input_data_config or []:
            name = channel.get("ChannelName")
            uri = ((channel.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
            if not name:
                continue
            names.append(name)
            target = data_dir / name
            target.mkdir(parents=True, exist_ok=True)
            if not uri:
                continue
            with self.simulator.lock:
                objects = moto_support.s3_list(uri)
            _, prefix = moto_support.split_s3_uri(uri)
            for key, body in objects:
                relative = key[len(prefix) :].lstrip("/") or os.path.basename(key)
                path = (target / relative).resolve()
                if target.resolve() not in path.parents:
                    continue  # no escaping the channel directory
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(body)
        return names

    def _environment(
        self,
        sim: TrainingSim,
        workdir: Path,
        code_dir: Path,
        channels: list[str],
        hyperparameters: dict[str, str],
        source: dict[str, Any],
    ) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SM_"))}
        hps = {key: _deserialize(value) for key, value in hyperparameters.items()}
        resources = sim.job.resource_config or {}
        env.update(
            {
                "AWS_ACCESS_KEY_ID": "AKIALOCALSCRIPT",
                "AWS_SECRET_ACCESS_KEY": "local-script-secret",
                "AWS_DEFAULT_REGION": sim.region,
                "AWS_REGION": sim.region,
                "AWS_EC2_METADATA_DISABLED": "true",
                "PYTHONUNBUFFERED": "1",
                "TRAINING_JOB_NAME": sim.name,
                "SM_MODEL_DIR": str(workdir / "model"),
                "SM_INPUT_DIR": str(workdir / "input"),
                "SM_INPUT_DATA_DIR": str(workdir / "input" / "data"),
                "SM_INPUT_CONFIG_DIR": str(workdir / "input" / "config"),
                "SM_OUTPUT_DIR": str(workdir / "output"),
                "SM_OUTPUT_DATA_DIR": str(workdir / "output" / "data"),
                "SM_OUTPUT_FAILURE": str(workdir / "output" / "failure"),
                "SM_SOURCE_DIR": str(code_dir),
                "SM_ENTRY_SCRIPT": str(source.get("entry_script") or ""),
                "SM_CHANNELS": json.dumps(sorted(channels)),
                "SM_HPS": json.dumps(hps),
                "SM_CURRENT_HOST": "algo-1",
                "SM_HOSTS": json.dumps(["algo-1"]),
                "SM_HOST_COUNT": "1",
                "SM_CURRENT_HOST_RANK": "0",
                "SM_CURRENT_INSTANCE_TYPE": str(resources.get("InstanceType", "ml.m5.large")),
                "SM_NUM_GPUS": "0",
                "SM_NUM_CPUS": str(os.cpu_count() or 1),
            }
        )
        if self.simulator.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.simulator.endpoint_url
        for channel in channels:
            env[f"SM_CHANNEL_{channel.upper()}"] = str(workdir / "input" / "data" / channel)
        for key, value in hyperparameters.items():
            env[f"SM_HP_{key.upper().replace('-', '_')}"] = value
        return env

    @staticmethod
    def _command(source: dict[str, Any], hyperparameters: dict[str, str]) -> list[str]:
        command = source.get("command")
        if command:
            parts = shlex.split(command) + [str(arg) for arg in source.get("args") or []]
            if parts and parts[0] in ("python", "python3"):
                parts[0] = sys.executable
            return parts
        entry = str(source.get("entry_script") or "")
        args: list[str] = []
        for key, value in hyperparameters.items():
            args += [f"--{key}", value]
        if entry.endswith(".py"):
            return [sys.executable, entry, *args]
        if entry.endswith(".sh"):
            return ["/bin/sh", entry, *args]
        raise ValueError(f"unsupported entry script {entry!r}: only .py and .sh are supported")


def _deserialize(value: str) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value
