"""A Jupyter kernel in a sandbox, for running untrusted student code (``course autograde``).

Each kernel runs in its own process tree, made with Debian's ``bubblewrap`` (``bwrap``):

- new PID, network, IPC and UTS namespaces: no network at all (not even the host's loopback), no
  view of the grader's or other sandboxes' processes; the tree dies with the grader
  (``--die-with-parent``) and with its own PID 1;
- a new mount namespace that shows only the system folders, the Python environment and the
  ``course`` package, all read-only; a private size-limited ``/tmp`` (tmpfs) that holds the
  notebook's working folder; ``/grader`` (read-only: the grader-chosen inputs of the hidden
  checks, never their references) and ``/ipc`` (the kernel's sockets);
- when the grader runs as root, the kernel runs as an unprivileged user of its own
  (``setpriv``), without capabilities, so that the per-user process limit holds and ``/ipc``
  can be made read-only to it once the sockets exist;
- resource limits with ``prlimit`` (address space, processes, file size, open files, no core
  dumps) and, where the grader may write to the cgroup file system, a cgroup with ``memory`` and
  ``pids`` limits.

The kernel cannot reach a TCP port of the grader (its network namespace has only its own
loopback), so the grader talks to it over ZeroMQ's ``ipc`` transport: Unix sockets in ``/ipc``,
a folder bound into the sandbox. The kernel is started through a shell (``sh -c 'kernel & wait $!'``)
because under a new PID namespace ipykernel must not be PID 1 (it would think its parent died);
the shell waits for the kernel alone, so a kernel that dies is seen at once.

Without bubblewrap (``allow_unsandboxed``), a root grader still runs the kernel as a user of its
own with ``setpriv``: no namespaces, but no reading of root-only files (a Gradescope image's hidden
checks) and no writing of the grader's.

A limit that cannot be applied on this machine is reported once, loudly, on stderr and in
``Sandbox.warnings``; without ``bwrap`` at all the grader refuses to run unless told
``allow_unsandboxed=True`` (``course autograde --unsafe-no-sandbox``).
"""

import glob
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from course.protocol import GRADING_DIR_ENV, HIDDEN_MIME


@dataclass
class Limits:
    """Resource limits of one sandboxed kernel (``None``: no limit)."""

    # wall time of one cell (then the kernel is interrupted) and of the whole notebook (then it is killed);
    # the grader sets both from the reference's run time (grader.timeouts)
    cell_seconds: float = 1800.0
    notebook_seconds: float = 4 * 3600.0
    memory_bytes: int | None = 6 * 2**30  # address space (RLIMIT_AS) and cgroup memory
    processes: int | None = 256  # processes and threads of the sandbox's user / cgroup
    file_bytes: int | None = 256 * 2**20  # largest file the kernel may write (RLIMIT_FSIZE)
    tmp_bytes: int | None = 512 * 2**20  # size of the private /tmp (tmpfs)
    open_files: int | None = 1024
    output_bytes: int = 200_000  # text kept per cell (stream output beyond it is dropped)
    hidden_output_bytes: int = 64 * 2**20  # recorded hidden-check outputs kept per cell


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or does not work on this machine."""


_warned: set = set()


def warn_once(message: str) -> None:
    """Prints a loud warning on stderr, once per process."""
    if message not in _warned:
        _warned.add(message)
        print(f"WARNING (sandbox): {message}", file=sys.stderr, flush=True)
        warnings.warn(message, RuntimeWarning, stacklevel=2)


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def bwrap_usable() -> bool:
    """Whether bubblewrap is installed and works on this machine."""
    path = bwrap_path()
    return path is not None and SandboxKernel._bwrap_works(path)


def _read_only_system_binds() -> list:
    args = []
    for folder in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"):
        if os.path.exists(folder):
            # On merged-/usr systems /bin etc. are symlinks: recreate them as symlinks.
            if os.path.islink(folder):
                args += ["--symlink", os.readlink(folder), folder]
            else:
                args += ["--ro-bind", folder, folder]
    return args


def python_roots() -> list:
    """Folders the kernel's Python needs, read-only: the environment and the ``course`` package."""
    import course

    roots = {Path(sys.prefix).resolve(), Path(course.__file__).resolve().parent}
    if sys.base_prefix != sys.prefix:
        roots.add(Path(sys.base_prefix).resolve())
    # the venv's python is a symlink to the base interpreter
    roots.add(Path(os.path.realpath(sys.executable)).parent.parent)
    kept = []
    for r in sorted(roots, key=lambda p: len(str(p))):
        if not any(str(r).startswith(str(k) + os.sep) or r == k for k in kept):
            kept.append(r)
    return [r for r in kept if not any(str(r) == p or str(r).startswith(p + os.sep)
                                       for p in ("/usr", "/bin", "/lib", "/lib64", "/etc"))]


class _Cgroup:
    """A cgroup (v2, else v1 memory + pids) for one sandbox, when the grader may create one."""

    def __init__(self, name: str, memory: int | None, pids: int | None):
        self.paths = []
        self.ok_memory = self.ok_pids = False
        unified = Path("/sys/fs/cgroup")
        try:
            if (unified / "cgroup.controllers").is_file():
                path = unified / "course-sandbox" / name
                path.mkdir(parents=True, exist_ok=True)
                try:
                    (unified / "course-sandbox" / "cgroup.subtree_control").write_text("+memory +pids")
                except OSError:
                    pass
                if memory and (path / "memory.max").exists():
                    (path / "memory.max").write_text(str(memory))
                    self.ok_memory = True
                if pids and (path / "pids.max").exists():
                    (path / "pids.max").write_text(str(pids))
                    self.ok_pids = True
                self.paths.append(path)
            else:
                for ctrl, fname, value in (("memory", "memory.limit_in_bytes", memory), ("pids", "pids.max", pids)):
                    base = unified / ctrl
                    if value and base.is_dir() and os.access(base, os.W_OK):
                        path = base / "course-sandbox" / name
                        path.mkdir(parents=True, exist_ok=True)
                        (path / fname).write_text(str(value))
                        if ctrl == "memory":
                            try:  # no swap either, where the kernel accounts it
                                (path / "memory.memsw.limit_in_bytes").write_text(str(value))
                            except OSError:
                                pass
                            self.ok_memory = True
                        else:
                            self.ok_pids = True
                        self.paths.append(path)
        except OSError:
            pass

    def add(self, pid: int) -> None:
        for path in self.paths:
            try:
                (path / "cgroup.procs").write_text(str(pid))
            except OSError:
                pass

    def remove(self) -> None:
        for path in self.paths:
            for _ in range(20):
                try:
                    path.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


@dataclass
class CellResult:
    """What one cell did: its outputs (nbformat dicts), status and the hidden-check records."""

    outputs: list = field(default_factory=list)
    status: str = "ok"  # ok | error | timeout | died | skipped
    error: str = ""  # 'ename: evalue' of an error, or why the cell did not finish
    hidden: list = field(default_factory=list)  # the HIDDEN_MIME payloads, in order
    seconds: float = 0.0


class SandboxKernel:
    """An IPython kernel in a bubblewrap sandbox, driven over ZeroMQ ``ipc`` sockets.

    Args:
        workdir: files copied into the kernel's working folder (``/tmp/work``), e.g. the
            student's submission folder; copied, never modified.
        grader_files: a host folder shown read-only at ``/grader`` (hidden-check inputs).
        env: extra environment variables of the kernel.
        limits: resource limits.
        extra_ro: more host folders shown read-only at the same path (e.g. a data cache).
        allow_unsandboxed: without bwrap, run the kernel as a plain subprocess (with a warning)
            instead of failing.
        isolate: ``False`` for a plain local kernel on purpose (``course check`` of one's own
            work): no bubblewrap, no warning.
        in_place: plain kernel only: work in ``workdir`` itself instead of a copy.

    The kernel finds ``grader_files`` through ``course.protocol.GRADING_DIR_ENV``.
    """

    def __init__(self, workdir: Path | None, grader_files: Path | None, env: dict | None = None,
                 limits: Limits | None = None, extra_ro: list | None = None, allow_unsandboxed: bool = False,
                 isolate: bool = True, in_place: bool = False):
        self.limits = limits or Limits()
        self.workdir = Path(workdir) if workdir else None
        self.grader_files = Path(grader_files) if grader_files else None
        self.env = dict(env or {})
        self.extra_ro = [Path(p) for p in (extra_ro or []) if Path(p).exists()]
        self.allow_unsandboxed = allow_unsandboxed
        self.isolate = isolate
        self.in_place = in_place and not isolate
        self.warnings: list = []
        self.proc = None
        self.client = None
        self.cgroup = None
        self.scratch = None
        self.sandboxed = False
        self.started = None
        self.uid = None
        self._lifeline = None

    #: bwrap's --die-with-parent; the lifeline pipe does the same job without it (tests turn it off).
    die_with_parent = True

    # ------------------------------------------------------------------ start / stop

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        warn_once(message)

    def start(self, timeout: float = 120.0) -> None:
        from jupyter_client import BlockingKernelClient
        from jupyter_client.connect import write_connection_file

        self.scratch = Path(tempfile.mkdtemp(prefix="course-sandbox-"))
        os.chmod(self.scratch, 0o755)
        ipc = self.scratch / "ipc"
        ipc.mkdir()
        is_root = os.geteuid() == 0
        uid = 60000 + os.getpid() % 5000 if is_root and self.isolate else None
        self.uid = uid if bwrap_path() else None
        if self.uid is not None:
            _reap_uid(self.uid)  # a previous sandbox of this worker must be gone (RLIMIT_NPROC counts per user)
        if uid is not None:
            os.chown(ipc, uid, uid)
        bwrap = bwrap_path()
        self.sandboxed = self.isolate and bwrap is not None and self._bwrap_works(bwrap)
        if self.isolate and not self.sandboxed and not self.allow_unsandboxed:
            raise SandboxUnavailable(
                "bubblewrap (bwrap) is not installed or does not work here: install it "
                "(Debian/Ubuntu: apt-get install bubblewrap) or pass --unsafe-no-sandbox to grade "
                "without isolation (only for code you trust)")
        inner_ipc = "/ipc" if self.sandboxed else str(ipc)
        key = uuid.uuid4().hex
        ports = dict(shell_port=1, iopub_port=2, stdin_port=3, control_port=4, hb_port=5)
        kernel_cf = self.scratch / "kernel.json"
        write_connection_file(str(kernel_cf), ip=f"{inner_ipc}/k", transport="ipc", key=key.encode(), **ports)
        client_cf = self.scratch / "client.json"
        write_connection_file(str(client_cf), ip=f"{ipc}/k", transport="ipc", key=key.encode(), **ports)
        os.chmod(kernel_cf, 0o644)

        env = {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2",
               "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
               "JPY_SESSION_NAME": "", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        env.update(self.env)
        python = sys.executable
        kernel_cmd = f'cd "$COURSE_WORKDIR" && exec "{python}" -m ipykernel_launcher -f "$COURSE_KERNEL_CF"'
        # The lifeline: a pipe whose only write end the grader holds. When the grader dies in any way
        # (kill -9 included, even before bwrap has set its parent-death signal), the watchdog's read
        # returns end-of-file and it kills the sandbox's process group; the PID namespace dies with it.
        # The read end is the shell's stdin, moved to fd 3 for the watchdog alone (a background job's
        # stdin is /dev/null, and dash knows only one-digit descriptors).
        lifeline_r, self._lifeline = os.pipe()
        watchdog = 'exec 3<&0 0</dev/null; { cat <&3 >/dev/null 2>&1; kill -9 0; } & exec 3<&-;'
        if self.sandboxed:
            work_inside = "/tmp/work"
            env.update(HOME="/tmp", MPLCONFIGDIR="/tmp/.mpl", COURSE_WORKDIR=work_inside,
                       COURSE_KERNEL_CF="/ipc-cf/kernel.json", TMPDIR="/tmp", IPYTHONDIR="/tmp/.ipython",
                       JUPYTER_RUNTIME_DIR="/tmp/.jupyter", XDG_CACHE_HOME="/tmp/.cache")
            if self.grader_files:
                env[GRADING_DIR_ENV] = "/grader"
            setup = 'mkdir -p /tmp/work && { [ -d /submission ] && cp -r /submission/. /tmp/work/ 2>/dev/null; true; }'
            shell = f"{setup}; {watchdog} {kernel_cmd} & wait $!"
            cmd = [bwrap] + (["--die-with-parent"] if self.die_with_parent else [])
            cmd += ["--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc",
                    "--unshare-uts", "--hostname", "sandbox", "--clearenv"]
            for k, v in env.items():
                cmd += ["--setenv", k, v]
            cmd += _read_only_system_binds()
            # The private /tmp comes before the read-only binds, so that an environment or a course
            # checkout that lives under /tmp (a CI clone, say) is bound on top of it and stays visible.
            cmd += ["--perms", "1777"]
            if self.limits.tmp_bytes:
                cmd += ["--size", str(self.limits.tmp_bytes)]
            cmd += ["--tmpfs", "/tmp"]
            made = {"/tmp"}
            for root in python_roots() + self.extra_ro:
                # bwrap copies the modes of missing parents (e.g. /root is 0700): make them traversable.
                for parent in reversed(root.parents[:-1] if len(root.parents) > 1 else []):
                    if str(parent) not in made:
                        made.add(str(parent))
                        cmd += ["--perms", "0755", "--dir", str(parent)]
                cmd += ["--ro-bind", str(root), str(root)]
            cmd += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(64 * 2**20),
                    "--tmpfs", "/dev/shm"]  # POSIX semaphores (joblib, multiprocessing)
            for device in sorted(glob.glob("/dev/nvidia*")) + sorted(glob.glob("/dev/dri/renderD*")):
                cmd += ["--dev-bind", device, device]  # GPUs, where the grading machine has them
            cmd += ["--bind", str(ipc), "/ipc", "--ro-bind", str(self.scratch / "cf"), "/ipc-cf"]
            (self.scratch / "cf").mkdir()
            shutil.copy(kernel_cf, self.scratch / "cf" / "kernel.json")
            os.chmod(self.scratch / "cf" / "kernel.json", 0o644)
            if self.workdir:
                cmd += ["--ro-bind", str(self.workdir), "/submission"]
            if self.grader_files:
                cmd += ["--ro-bind", str(self.grader_files), "/grader"]
            cmd += ["--chdir", "/tmp", "--"]
            if uid is not None:
                cmd += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                        "--no-new-privs"]
            else:
                self._warn("the grader is not root: the kernel runs as your own user inside the sandbox, so the "
                           "process limit counts all your processes and /ipc stays writable to it")
            cmd += self._prlimit_args() + ["sh", "-c", shell]
        else:
            if self.isolate:
                self._warn("NO SANDBOX: bubblewrap is unavailable; student code runs as the grader, with network "
                           "access and the grader's files in view (--unsafe-no-sandbox)")
            if self.in_place and self.workdir:
                work = self.workdir.resolve()
                env.update(HOME=os.environ.get("HOME", str(work)))
            else:
                work = self.scratch / "work"
                if self.workdir:
                    shutil.copytree(self.workdir, work)
                else:
                    work.mkdir()
                env.update(HOME=str(work))
            env.update(COURSE_WORKDIR=str(work), COURSE_KERNEL_CF=str(kernel_cf))
            if self.grader_files:
                env[GRADING_DIR_ENV] = str(self.grader_files)
            limits = self._prlimit_args() if self.isolate else []
            drop = []
            if uid is not None and not self.in_place and not _runs_as(uid, sys.executable):
                self._warn(f"the kernel runs as root: {sys.executable} cannot be run by another user (a parent "
                           "folder such as /root is private); install the environment from a Python all users can "
                           "read to have it run as a user of its own")
            elif uid is not None and not self.in_place:
                # No namespaces, but as root the kernel still becomes a user of its own: it cannot read what
                # only root may read (a Gradescope image's hidden checks), write the grader's files, or
                # signal the grader; the per-user process limit holds.
                for path in [work, *work.rglob("*")]:
                    os.lchown(path, uid, uid)
                self.uid = uid
                _reap_uid(uid)
                drop = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                        "--no-new-privs"]
            cmd = limits + drop + ["sh", "-c", f"{watchdog} {kernel_cmd} & wait $!"]
            env = {**os.environ, **env}
        self.cgroup = _Cgroup(f"k{os.getpid()}-{uuid.uuid4().hex[:8]}",
                              self.limits.memory_bytes if self.isolate else None,
                              self.limits.processes if self.isolate else None)
        if self.isolate and self.limits.memory_bytes and not self.cgroup.ok_memory:
            self._warn_limit("no cgroup memory limit (cgroup file system not writable); the address-space "
                             "limit (RLIMIT_AS) alone bounds memory")
        if self.isolate and self.limits.processes and not self.cgroup.ok_pids:
            self._warn_limit("no cgroup pids limit; the per-user process limit (RLIMIT_NPROC) alone bounds processes")
        # The kernel's own stdout/stderr (not a cell's: those go over iopub) is kept, capped, for errors.
        self.log_path = self.scratch / "kernel.log"
        log = open(self.log_path, "wb")
        if self.cgroup.paths:
            # Join the cgroups before bwrap starts, so that every process of the sandbox is in them.
            joins = " ; ".join(f'echo $$ > "{p}/cgroup.procs" 2>/dev/null' for p in self.cgroup.paths)
            cmd = ["/bin/sh", "-c", f'{joins} ; exec "$@"', "sh"] + cmd
        try:
            self.proc = subprocess.Popen(cmd, env=env if not self.sandboxed else {"PATH": "/usr/bin:/bin"},
                                         stdin=lifeline_r, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        finally:
            log.close()
            os.close(lifeline_r)
        self.started = time.monotonic()
        client = BlockingKernelClient()
        client.load_connection_file(str(client_cf))
        deadline = time.monotonic() + timeout
        while not all((ipc / f"k-{p}").exists() for p in ports.values()):
            if self.proc.poll() is not None:
                raise RuntimeError(f"the sandboxed kernel exited at start (exit code {self.proc.returncode}): "
                                   f"{self._log_tail()}")
            if time.monotonic() > deadline:
                self.shutdown()
                raise RuntimeError("the sandboxed kernel did not start in time")
            time.sleep(0.05)
        client.start_channels()
        try:
            client.wait_for_ready(timeout=max(1.0, deadline - time.monotonic()))
        except RuntimeError:
            self.shutdown()
            raise
        self.client = client
        if uid is not None and self.sandboxed:
            # The sockets exist: from now on the kernel's user cannot create files in /ipc.
            os.chown(ipc, 0, 0)
            os.chmod(ipc, 0o755)

    def _log_tail(self, size: int = 1500) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(0, os.path.getsize(self.log_path) - size))
                return f.read().decode(errors="replace").strip()
        except OSError:
            return ""

    def _warn_limit(self, message: str) -> None:
        self._warn(message)

    def _prlimit_args(self) -> list:
        if not shutil.which("prlimit"):
            self._warn("prlimit (util-linux) is missing: no memory, process or file-size limits")
            return []
        lim = self.limits
        args = ["prlimit", "--core=0"]
        if lim.memory_bytes:
            args.append(f"--as={lim.memory_bytes}")
        if lim.processes:
            args.append(f"--nproc={lim.processes}")
        if lim.file_bytes:
            args.append(f"--fsize={lim.file_bytes}")
        if lim.open_files:
            args.append(f"--nofile={lim.open_files}")
        return args + ["--"]

    _bwrap_ok: dict = {}

    @classmethod
    def _bwrap_works(cls, bwrap: str) -> bool:
        if bwrap not in cls._bwrap_ok:
            try:
                run = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--dev", "/dev",
                                      "--proc", "/proc", "true"], capture_output=True, timeout=30)
                cls._bwrap_ok[bwrap] = run.returncode == 0
                if run.returncode:
                    warn_once(f"bwrap does not work here: {run.stderr.decode(errors='replace').strip()}")
            except (OSError, subprocess.SubprocessError) as exc:
                warn_once(f"bwrap does not work here: {exc}")
                cls._bwrap_ok[bwrap] = False
        return cls._bwrap_ok[bwrap]

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def shutdown(self) -> None:
        """Kills the whole process tree (the sandbox's PID namespace dies with it) and cleans up."""
        if self.client is not None:
            try:
                self.client.stop_channels()
            except Exception:  # noqa: BLE001 - shutting down: a channel already gone is fine
                pass
            self.client = None
        self.shutdown_kernel_only()
        if self._lifeline is not None:
            os.close(self._lifeline)
            self._lifeline = None
        if self.uid is not None:
            _reap_uid(self.uid)
        if self.cgroup is not None:
            self.cgroup.remove()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()

    # ------------------------------------------------------------------ execution

    def remaining(self) -> float:
        return self.limits.notebook_seconds - (time.monotonic() - self.started)

    def execute(self, code: str, timeout: float | None = None) -> CellResult:
        """Runs one cell; returns its outputs, status and hidden-check records.

        On the per-cell time limit the kernel is interrupted (KeyboardInterrupt) and the cell is
        marked ``timeout``; if it does not stop within 10 s, or on the notebook's time limit, the
        kernel is killed and the cell is marked ``died``.
        """
        result = CellResult()
        start = time.monotonic()
        if not self.alive():
            result.status, result.error = "skipped", "the kernel is no longer running"
            return result
        cell_limit = min(timeout or self.limits.cell_seconds, max(0.0, self.remaining()))
        msg_id = self.client.execute(code, store_history=True, allow_stdin=False, stop_on_error=False)
        deadline = start + cell_limit
        interrupted_at = None
        text_bytes = hidden_bytes = 0
        dropped = 0
        idle = False
        reply_seen = False
        while not (idle and reply_seen):
            now = time.monotonic()
            if interrupted_at is None and now > deadline:
                interrupted_at = now
                notebook_over = self.remaining() <= 0
                result.status = "died" if notebook_over else "timeout"
                result.error = (f"the notebook exceeded its time limit of {self.limits.notebook_seconds:g} s"
                                if notebook_over else
                                f"the cell exceeded its time limit of {self.limits.cell_seconds:g} s "
                                "and was interrupted")
                if notebook_over:
                    self.shutdown_kernel_only()
                    break
                self._interrupt()
            if interrupted_at is not None and now - interrupted_at > 10:
                result.status = "died"
                result.error += "; it did not stop, so the kernel was killed"
                self.shutdown_kernel_only()
                break
            if not self.alive():
                result.status = "died"
                result.error = result.error or f"the kernel died (exit code {self.proc.returncode}) during this cell"
                break
            try:
                msg = self.client.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                if idle and not reply_seen:
                    reply_seen = self._poll_reply(msg_id) or reply_seen
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status":
                if content.get("execution_state") == "idle":
                    idle = True
                    reply_seen = True  # idle follows the reply on the shell socket
            elif kind == "stream":
                text = content.get("text", "")
                if text_bytes + len(text) > self.limits.output_bytes:
                    keep = max(0, self.limits.output_bytes - text_bytes)
                    dropped += len(text) - keep
                    text = text[:keep]
                text_bytes += len(text)
                if text:
                    _append_stream(result.outputs, content.get("name", "stdout"), text)
            elif kind in ("display_data", "execute_result"):
                data = content.get("data", {})
                if HIDDEN_MIME in data:
                    payload = data[HIDDEN_MIME]
                    size = len(json.dumps(payload)) if not isinstance(payload, str) else len(payload)
                    hidden_bytes += size
                    if hidden_bytes <= self.limits.hidden_output_bytes:
                        result.hidden.append(payload)
                    else:
                        result.hidden.append({"error": "the recorded outputs are larger than the grader accepts "
                                                       f"({self.limits.hidden_output_bytes // 2**20} MB)"})
                    continue
                size = sum(len(str(v)) for v in data.values())
                if text_bytes + size > self.limits.output_bytes:
                    dropped += size
                    continue
                text_bytes += size
                out = {"output_type": kind, "data": data, "metadata": content.get("metadata", {})}
                if kind == "execute_result":
                    out["execution_count"] = content.get("execution_count")
                result.outputs.append(out)
            elif kind == "error":
                if result.status == "ok":
                    result.status = "error"
                    result.error = f"{content.get('ename')}: {content.get('evalue')}"
                tb = content.get("traceback", [])[-30:]
                result.outputs.append({"output_type": "error", "ename": content.get("ename", ""),
                                       "evalue": str(content.get("evalue", ""))[:2000], "traceback": tb})
            elif kind == "clear_output":
                result.outputs.clear()
        if dropped:
            _append_stream(result.outputs, "stderr",
                           f"\n[course autograde: {dropped} more characters of output were dropped]\n")
        result.seconds = time.monotonic() - start
        return result

    def _poll_reply(self, msg_id: str) -> bool:
        try:
            reply = self.client.get_shell_msg(timeout=0.05)
            return reply.get("parent_header", {}).get("msg_id") == msg_id
        except queue.Empty:
            return False

    def _interrupt(self) -> None:
        """Sends SIGINT to the kernel process (ipykernel raises KeyboardInterrupt in the running cell)."""
        pid = self._kernel_pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGINT)
                return
            except (ProcessLookupError, PermissionError):
                pass
        try:  # no signal possible: ask the kernel on its control channel
            msg = self.client.session.msg("interrupt_request", content={})
            self.client.control_channel.send(msg)
        except Exception:  # noqa: BLE001 - best effort: the cell time limit then kills the kernel
            pass

    def _kernel_pid(self) -> int | None:
        """The host PID of the ipykernel process: the first descendant of the sandbox running ipykernel."""
        if self.proc is None:
            return None
        children: dict = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read().decode(errors="replace")
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
        todo, seen = [self.proc.pid], set()
        while todo:
            pid = todo.pop(0)
            if pid in seen:
                continue
            seen.add(pid)
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"\0-m\0ipykernel_launcher\0" in f.read():  # the kernel, not the sh -c around it
                        return pid
            except OSError:
                pass
            todo.extend(sorted(children.get(pid, [])))
        return None

    def shutdown_kernel_only(self) -> None:
        """Kills the sandbox's process tree (its PID namespace dies with it); keeps the scratch folder."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


def _uid_processes(uid: int) -> list:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as f:
                    for line in f:
                        if line.startswith("Uid:"):
                            if int(line.split()[1]) == uid:
                                found.append(int(entry))
                            break
            except (OSError, ValueError, IndexError):
                continue
    return found


def _runs_as(uid: int, python: str) -> bool:
    """Whether ``python`` starts as the unprivileged ``uid`` (it cannot when a parent folder is private)."""
    try:
        # as the kernel is started: through sh (setpriv's own exec can still pass where the kernel's cannot)
        run = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                              "--no-new-privs", "sh", "-c", 'exec "$0" -c ""', python],
                             capture_output=True, timeout=60, cwd="/")
    except (OSError, subprocess.SubprocessError):
        return False
    return run.returncode == 0


def _reap_uid(uid: int, seconds: float = 20.0) -> None:
    """Kills every process of a sandbox's own user (what a fork bomb left behind) and waits for them."""
    deadline = time.monotonic() + seconds
    while True:
        pids = _uid_processes(uid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if time.monotonic() > deadline:
            warn_once(f"processes of the sandbox user {uid} survived SIGKILL: {pids[:5]}")
            return
        time.sleep(0.1)


def _append_stream(outputs: list, name: str, text: str) -> None:
    if outputs and outputs[-1].get("output_type") == "stream" and outputs[-1].get("name") == name:
        outputs[-1]["text"] += text
    else:
        outputs.append({"output_type": "stream", "name": name, "text": text})
