"""``custdev import --ray``: transcription spread over a Ray cluster. The only module that imports ``ray`` (lazily).

* **One task per recording.** The head (the machine running ``custdev import``) reads each recording and puts its
  bytes into Ray's object store; a worker writes them to a private temp folder, decodes and transcribes them with
  :func:`custdev.speech.transcribe_file` (the same code as a plain import) and returns the transcript as plain data (speaker
  segments with word times). Only the head turns transcripts into interview files (temp file, then rename) and
  builds the base, so the base stays consistent whatever happens to workers. The temp folder goes with the task; one
  that a killed or cancelled worker left behind is removed by the next task on that machine.
* **No shared disk.** The Whisper model's files go into the object store once per run; each worker writes them
  into its own cache (by content hash, temp file then rename) on first use and loads the model once per process.
* **GPU.** When the cluster has GPUs, tasks ask Ray for one (``num_gpus=1``) and transcribe on CUDA in float16;
  otherwise each task takes one CPU (``num_cpus=1``, int8) and Ray runs as many at once as the cluster has CPUs.
* **Faults.** A task whose worker or node dies is retried by Ray (``max_retries``). A recording that fails (corrupt,
  no speech) comes back as a failure message, is reported, and the others go on. Ctrl-C on the head cancels what
  is running; the files already written stay, and running the same command again skips them.
* **Clusters.** ``auto``: the Ray cluster this machine belongs to (``RAY_ADDRESS`` or ``ray start`` here), else a
  local cluster started for the run and stopped after it. ``local``: always a new local cluster.
  ``ray://host:10001`` (Ray Client) or ``host:6379``: an existing cluster. A driver that already called
  ``ray.init`` is reused as it is.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from custdev.errors import CustdevError
from custdev.i18n import N_
from custdev.processes import alive

INSTALL_HINT = N_("Ray is not installed; install the extra: pip install 'custdev[ray]'")
MAX_RETRIES = 3  # retries of a task whose worker or node died


class ClusterError(CustdevError):
    """Ray is missing, or the cluster cannot be reached."""


def _ray():
    try:
        import ray
    except ImportError:
        raise ClusterError(INSTALL_HINT) from None
    return ray


def check_address(address: str) -> str:
    """'auto', 'local', 'ray://host:port' or 'host:port'; anything else is refused with one line."""
    address = (address or "auto").strip()
    if address in ("auto", "local") or address.startswith("ray://"):
        return address
    host, _, port = address.rpartition(":")
    if host and port.isdigit():
        return address
    raise ClusterError(N_("Ray address '{address}': use auto, local, ray://HOST:PORT or HOST:PORT"), address=address)


def require(address: str) -> str:
    """The checked address, once Ray is known to be installed."""
    address = check_address(address)
    _ray()
    return address


# --------------------------------------------------------------------------------------------------------------
# Work items and progress


@dataclass
class Work:
    """One recording to transcribe: where it is on the head and how long it is."""

    key: Any  # the caller's handle (returned with the outcome)
    path: Path
    duration_s: float


@dataclass
class Outcome:
    key: Any
    transcript: Any = None  # custdev Transcript (plain data) when ok
    message: str | None = None  # why it failed (one line naming the file)
    node: str | None = None
    device: str | None = None
    task_s: float = 0.0  # wall time of the task on the worker


@dataclass
class ClusterStats:
    """What the progress line shows: files and hours of audio done, speed (× real time) and ETA."""

    files_done: int = 0
    files_total: int = 0
    audio_done_s: float = 0.0
    audio_total_s: float = 0.0
    elapsed_s: float = 0.0
    startup_s: float = 0.0  # connecting to (or starting) the cluster
    workers: int = 0  # task slots (CPUs, or GPUs when tasks use GPUs)
    device: str = "cpu"

    @property
    def speed(self) -> float | None:
        """Audio seconds per wall second since the first task was sent (the batch's real-time factor)."""
        return self.audio_done_s / self.elapsed_s if self.elapsed_s > 0 and self.audio_done_s > 0 else None

    @property
    def eta_s(self) -> float | None:
        speed = self.speed
        return (self.audio_total_s - self.audio_done_s) / speed if speed else None

    def to_dict(self) -> dict:
        return {"files_done": self.files_done, "files_total": self.files_total, "audio_done_h": round(self.audio_done_s / 3600, 4),
                "audio_total_h": round(self.audio_total_s / 3600, 4), "elapsed_s": round(self.elapsed_s, 1),
                "startup_s": round(self.startup_s, 1), "speed_x_real_time": round(self.speed, 2) if self.speed else None,
                "eta_s": round(self.eta_s, 1) if self.eta_s is not None else None, "workers": self.workers, "device": self.device}


# --------------------------------------------------------------------------------------------------------------
# The cluster


@dataclass
class Cluster:
    address: str = "auto"
    started: bool = False  # we started a local cluster (and stop it afterwards)
    connected: bool = False  # we called ray.init (and call ray.shutdown afterwards)
    startup_s: float = 0.0
    resources: dict = field(default_factory=dict)

    def __enter__(self) -> "Cluster":
        ray = _ray()
        t0 = time.perf_counter()
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
            address = None if self.address == "auto" else self.address
            local = address == "local" or (address is None and not _existing_cluster())
            if local:
                # workers on this machine share its model cache and settings
                env = {k: v for k, v in os.environ.items() if k.startswith(("CUSTDEV_", "HF_"))}
                kwargs["runtime_env"] = {"env_vars": env}
            try:
                ray.init(address=address, **kwargs)
            except Exception as exc:  # noqa: BLE001 - Ray raises plain Exception when a local node does not start in 30 s
                error = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
                if local:
                    raise ClusterError(N_("cannot start a local Ray cluster ({error})"), error=error) from None
                raise ClusterError(N_("cannot reach the Ray cluster at {address} ({error})"), address=self.address, error=error) from None
            self.connected, self.started = True, local
        self.resources = dict(ray.cluster_resources())
        self.startup_s = time.perf_counter() - t0
        return self

    def __exit__(self, *exc) -> None:
        if self.connected:
            _ray().shutdown()

    @property
    def gpus(self) -> int:
        return int(self.resources.get("GPU", 0))

    @property
    def slots(self) -> int:
        return max(1, self.gpus or int(self.resources.get("CPU", 1)))


def _existing_cluster() -> bool:
    """True when this machine belongs to a running Ray cluster (``ray start`` here, or RAY_ADDRESS)."""
    if os.environ.get("RAY_ADDRESS"):
        return True
    current = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
    return current.exists()


# --------------------------------------------------------------------------------------------------------------
# Model files through the object store


def model_files(spec: str | None) -> tuple[str, dict[str, bytes]]:
    """(content key, {file name: bytes}) of a CTranslate2 model folder, read on the head."""
    import hashlib

    from custdev.speech import resolve_model

    folder = Path(resolve_model(spec))
    files: dict[str, bytes] = {}
    h = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        if f.is_file() and not f.name.startswith("."):
            data = f.read_bytes()
            files[f.name] = data
            h.update(f.name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest(), files


def materialize_model(key: str, files: dict[str, bytes]) -> Path:
    """Write the model files into this machine's cache once (temp file, then rename) and return the folder."""
    from custdev.config import atomic_write_bytes
    from custdev.speech import cache_dir

    folder = cache_dir() / "models" / f"ray-{key[:16]}"
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        target = folder / name
        if not target.exists() or target.stat().st_size != len(data):
            atomic_write_bytes(target, data)
    done.write_text(key)
    return folder


# --------------------------------------------------------------------------------------------------------------
# The task

TASK_DIR_PREFIX = "custdev-ray-"  # + the worker's pid + "-": a task's temp folder, holding a copy of the recording
_TASK_DIR = re.compile(re.escape(TASK_DIR_PREFIX) + r"(\d+)-")


def sweep_task_dirs(root: Path | None = None) -> list[Path]:
    """Remove the temp folders that tasks on this machine left behind when their worker died (killed, or cancelled
    by Ctrl-C on the head: its ``finally`` never ran): each holds a copy of an interview's recording. Folders of
    live workers stay. Returns what was removed."""
    import shutil

    removed = []
    for folder in Path(root or tempfile.gettempdir()).glob(f"{TASK_DIR_PREFIX}*"):
        m = _TASK_DIR.match(folder.name)
        if m and folder.is_dir() and not alive(int(m.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def transcribe_one(model: tuple[str, dict[str, bytes]], audio: bytes, name: str, mtime: float, source: str, options: Any) -> Outcome:
    """Run on a worker: one recording's bytes -> its transcript (plain data). Never raises for a bad recording."""
    import dataclasses
    import socket

    from custdev.speech import transcribe_file

    ray = _ray()
    t0 = time.perf_counter()
    gpu = bool(ray.get_gpu_ids())
    node = socket.gethostname()
    key, files = model
    sweep_task_dirs()
    with tempfile.TemporaryDirectory(prefix=f"{TASK_DIR_PREFIX}{os.getpid()}-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(audio)
        os.utime(path, (mtime, mtime))  # the interview's date falls back to the file's date
        try:
            folder = materialize_model(key, files)
            opts = dataclasses.replace(options, model=str(folder), device="cuda" if gpu else "cpu")
            transcript = transcribe_file(path, opts)
        except CustdevError as exc:
            message = str(exc).replace(str(path), source)
            return Outcome(None, message=message if source in message else f"{source}: {message}", node=node,
                           device="cuda" if gpu else "cpu", task_s=time.perf_counter() - t0)
    return Outcome(None, transcript=transcript, node=node, device="cuda" if gpu else "cpu", task_s=time.perf_counter() - t0)


def run(
    works: list[Work],
    options: Any,
    *,
    address: str = "auto",
    stats_fn: Callable[[ClusterStats], None] | None = None,
) -> Iterator[Outcome]:
    """Transcribe ``works`` on the cluster, yielding outcomes as they finish (in finishing order).

    At most two tasks per slot are in flight, so a large archive never sits in the object store at once. Closing
    the generator (or Ctrl-C) cancels what is still running and disconnects."""
    ray = _ray()
    stats = ClusterStats(files_total=len(works), audio_total_s=sum(w.duration_s for w in works))
    show = stats_fn or (lambda s: None)
    with Cluster(check_address(address)) as cluster:
        stats.startup_s, stats.workers = cluster.startup_s, cluster.slots
        use_gpu = cluster.gpus > 0
        stats.device = "cuda" if use_gpu else "cpu"
        task = ray.remote(transcribe_one).options(
            num_cpus=1, num_gpus=1 if use_gpu else 0, max_retries=MAX_RETRIES, retry_exceptions=False,
        )
        model = ray.put(model_files(options.model))
        t0 = time.perf_counter()
        show(stats)
        queue = list(works)
        running: dict[Any, Work] = {}
        try:
            while queue or running:
                while queue and len(running) < 2 * cluster.slots:
                    w = queue.pop(0)
                    try:
                        data = w.path.read_bytes()
                    except OSError as exc:
                        yield Outcome(w.key, message=f"{w.path}: cannot read the file ({exc.strerror})")
                        stats.files_done += 1
                        continue
                    ref = task.remote(model, data, w.path.name, w.path.stat().st_mtime, str(w.path), options)
                    running[ref] = w
                if not running:
                    continue
                ready, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
                stats.elapsed_s = time.perf_counter() - t0
                for ref in ready:
                    w = running.pop(ref)
                    try:
                        outcome = ray.get(ref)
                    except ray.exceptions.RayError as exc:  # retries used up: the worker or node kept dying
                        outcome = Outcome(None, message=f"{w.path}: the Ray task failed after {MAX_RETRIES} retries ({type(exc).__name__})")
                    outcome.key = w.key
                    stats.files_done += 1
                    stats.audio_done_s += w.duration_s
                    yield outcome
                show(stats)
        finally:
            for ref in running:
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - best effort on the way out
                    pass
