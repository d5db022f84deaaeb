"""Windows: the worker in an AppContainer with no capabilities (so no network at all: an
AppContainer needs `internetClient` or `privateNetworkClientServer` to connect anywhere, and is
kept off loopback unless exempted), inside a job object that holds the memory and process limits
and ends everything when Hearth lets go of it. UNTESTED HERE: written against the Win32
documentation, never run by these tests.

An AppContainer process reads only what grants "ALL APPLICATION PACKAGES" or its own SID: Program
Files does; the session folders are granted to the container here (icacls). An install outside
Program Files (per-user) must grant the container read access to the bundle folder, which
`grant_folder(bundle, read_only=True)` tries; where that fails the worker cannot start, and
Python is not offered. Stop cannot send Ctrl-Break to a process without a console, so a Stop
waits out tool.STOP_GRACE_S and kills.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
from ctypes import wintypes
from pathlib import Path
from typing import Any

from core.sandbox.limits import SandboxLimits

CONTAINER_NAME = "Hearth.PythonSandbox"
LAYERS = ("AppContainer without capabilities (no network)", "job object (memory, processes)")
_SECURITY_CAPABILITIES, _HANDLE_LIST = 0x00020009, 0x00020002
_EXTENDED_STARTUPINFO, _SUSPENDED, _UNICODE_ENV = 0x00080000, 0x4, 0x400
_NEW_PROCESS_GROUP, _NO_WINDOW, _USE_STD_HANDLES = 0x200, 0x08000000, 0x100
_ACTIVE_PROCESS, _PROCESS_MEMORY, _DIE_ON_EXCEPTION, _KILL_ON_CLOSE = 0x8, 0x100, 0x400, 0x2000
_EXTENDED_LIMITS, _WAIT_TIMEOUT, _ALREADY_EXISTS = 9, 0x102, 0x800700B7


class _SecurityCapabilities(ctypes.Structure):
    _fields_ = [("AppContainerSid", ctypes.c_void_p), ("Capabilities", ctypes.c_void_p),
                ("CapabilityCount", wintypes.DWORD), ("Reserved", wintypes.DWORD)]


class _StartupInfo(ctypes.Structure):
    _fields_ = [("cb", wintypes.DWORD), ("lpReserved", wintypes.LPWSTR), ("lpDesktop", wintypes.LPWSTR),
                ("lpTitle", wintypes.LPWSTR)] + [(name, wintypes.DWORD) for name in (
                    "dwX", "dwY", "dwXSize", "dwYSize", "dwXCountChars", "dwYCountChars", "dwFillAttribute",
                    "dwFlags")] + [("wShowWindow", wintypes.WORD), ("cbReserved2", wintypes.WORD),
                                   ("lpReserved2", ctypes.c_void_p), ("hStdInput", wintypes.HANDLE),
                                   ("hStdOutput", wintypes.HANDLE), ("hStdError", wintypes.HANDLE)]


class _StartupInfoEx(ctypes.Structure):
    _fields_ = [("StartupInfo", _StartupInfo), ("lpAttributeList", ctypes.c_void_p)]


class _ProcessInformation(ctypes.Structure):
    _fields_ = [("hProcess", wintypes.HANDLE), ("hThread", wintypes.HANDLE), ("dwProcessId", wintypes.DWORD),
                ("dwThreadId", wintypes.DWORD)]


class _BasicLimits(ctypes.Structure):
    _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                ("LimitFlags", wintypes.DWORD), ("MinimumWorkingSetSize", ctypes.c_size_t),
                ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", wintypes.DWORD),
                ("Affinity", ctypes.c_size_t), ("PriorityClass", wintypes.DWORD), ("SchedulingClass", wintypes.DWORD)]


class _ExtendedLimits(ctypes.Structure):
    _fields_ = [("BasicLimitInformation", _BasicLimits), ("IoInfo", ctypes.c_uint64 * 6),
                ("ProcessMemoryLimit", ctypes.c_size_t), ("JobMemoryLimit", ctypes.c_size_t),
                ("PeakProcessMemoryUsed", ctypes.c_size_t), ("PeakJobMemoryUsed", ctypes.c_size_t)]


def container_sid() -> tuple[ctypes.c_void_p, str]:
    """The AppContainer's SID (created on first use) and its string form, for icacls."""
    userenv = ctypes.WinDLL("userenv")
    sid = ctypes.c_void_p()
    result = userenv.CreateAppContainerProfile(CONTAINER_NAME, "Hearth Python", "Hearth's Python sandbox",
                                               None, 0, ctypes.byref(sid)) & 0xFFFFFFFF
    if result == _ALREADY_EXISTS:
        result = userenv.DeriveAppContainerSidFromAppContainerName(CONTAINER_NAME, ctypes.byref(sid)) & 0xFFFFFFFF
    if result != 0:
        raise OSError(f"the AppContainer could not be made (HRESULT {result:#010x})")
    text = wintypes.LPWSTR()
    if not ctypes.WinDLL("advapi32").ConvertSidToStringSidW(sid, ctypes.byref(text)):
        raise ctypes.WinError()
    return sid, text.value


def grant_folder(folder: Path, sid_text: str, read_only: bool = False) -> bool:
    rights = "(OI)(CI)RX" if read_only else "(OI)(CI)F"
    done = subprocess.run(["icacls", str(folder), "/grant", f"*{sid_text}:{rights}", "/T", "/Q"],
                          capture_output=True, creationflags=_NO_WINDOW)
    return done.returncode == 0


class ContainedProcess:
    """The little of subprocess.Popen that process.WorkerProcess uses, for a process made here."""

    def __init__(self, info: _ProcessInformation, job: int, pipes: tuple[int, int, int]):
        self._kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        self._handle, self._job, self.pid = info.hProcess, job, info.dwProcessId
        self.stdin = os.fdopen(pipes[0], "wb")
        self.stdout = os.fdopen(pipes[1], "rb")
        self.stderr = os.fdopen(pipes[2], "rb")
        self.args = "hearth python worker"
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.wait(0, raise_on_timeout=False)

    def wait(self, timeout: float | None = None, raise_on_timeout: bool = True) -> int | None:
        if self.returncode is None:
            wait_ms = 0xFFFFFFFF if timeout is None else int(timeout * 1000)
            if self._kernel32.WaitForSingleObject(self._handle, wait_ms) == _WAIT_TIMEOUT:
                if raise_on_timeout:
                    raise subprocess.TimeoutExpired(self.args, timeout)
                return None
            code = wintypes.DWORD()
            self._kernel32.GetExitCodeProcess(self._handle, ctypes.byref(code))
            self.returncode = code.value
        return self.returncode

    def kill(self) -> None:
        self._kernel32.TerminateJobObject(self._job, 1)  # the worker and all it started


def launcher(limits: SandboxLimits, scratch: Path, tmp: Path):
    """A process.Launcher that starts the worker in the container and the job."""
    sid, sid_text = container_sid()
    for folder in (scratch, tmp):
        if not grant_folder(folder, sid_text):
            raise OSError(f"the sandbox could not be given its folder {folder}")

    def launch(command: list[str], env: dict[str, str], options: dict[str, Any]) -> ContainedProcess:
        return _create(command, env, options.get("cwd"), sid, limits)

    return launch


def _create(command: list[str], env: dict[str, str], cwd: str | None, sid, limits: SandboxLimits) -> ContainedProcess:
    import msvcrt

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    ours, theirs = [], []
    for child_reads in (True, False, False):  # stdin, stdout, stderr
        read_fd, write_fd = os.pipe()
        ours.append(write_fd if child_reads else read_fd)
        theirs.append(read_fd if child_reads else write_fd)
    handles = [msvcrt.get_osfhandle(fd) for fd in theirs]
    for handle in handles:
        os.set_handle_inheritable(handle, True)
    capabilities = _SecurityCapabilities(sid, None, 0, 0)
    handle_list = (wintypes.HANDLE * 3)(*handles)
    size = ctypes.c_size_t()
    kernel32.InitializeProcThreadAttributeList(None, 2, 0, ctypes.byref(size))
    attributes = ctypes.create_string_buffer(size.value)
    if not kernel32.InitializeProcThreadAttributeList(attributes, 2, 0, ctypes.byref(size)):
        raise ctypes.WinError(ctypes.get_last_error())
    for attribute, value, length in ((_SECURITY_CAPABILITIES, ctypes.byref(capabilities), ctypes.sizeof(capabilities)),
                                     (_HANDLE_LIST, handle_list, ctypes.sizeof(handle_list))):
        if not kernel32.UpdateProcThreadAttribute(attributes, 0, ctypes.c_size_t(attribute), value,
                                                  ctypes.c_size_t(length), None, None):
            raise ctypes.WinError(ctypes.get_last_error())
    startup = _StartupInfoEx()
    startup.StartupInfo.cb = ctypes.sizeof(_StartupInfoEx)
    startup.StartupInfo.dwFlags = _USE_STD_HANDLES
    startup.StartupInfo.hStdInput, startup.StartupInfo.hStdOutput, startup.StartupInfo.hStdError = handles
    startup.lpAttributeList = ctypes.addressof(attributes)
    block = ctypes.create_unicode_buffer("".join(f"{key}={value}\0" for key, value in env.items()) + "\0")
    info = _ProcessInformation()
    flags = _EXTENDED_STARTUPINFO | _SUSPENDED | _UNICODE_ENV | _NEW_PROCESS_GROUP | _NO_WINDOW
    created = kernel32.CreateProcessW(None, ctypes.create_unicode_buffer(subprocess.list2cmdline(command)), None,
                                      None, True, flags, block, cwd, ctypes.byref(startup), ctypes.byref(info))
    kernel32.DeleteProcThreadAttributeList(attributes)
    for fd in theirs:
        os.close(fd)
    if not created:
        for fd in ours:
            os.close(fd)
        raise ctypes.WinError(ctypes.get_last_error())
    job = _job(kernel32, limits)
    if not kernel32.AssignProcessToJobObject(job, info.hProcess):
        kernel32.TerminateProcess(info.hProcess, 1)
        raise ctypes.WinError(ctypes.get_last_error())
    kernel32.ResumeThread(info.hThread)
    kernel32.CloseHandle(info.hThread)
    return ContainedProcess(info, job, (ours[0], ours[1], ours[2]))


def _job(kernel32, limits: SandboxLimits) -> int:
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        raise ctypes.WinError(ctypes.get_last_error())
    info = _ExtendedLimits()
    info.BasicLimitInformation.LimitFlags = _ACTIVE_PROCESS | _PROCESS_MEMORY | _DIE_ON_EXCEPTION | _KILL_ON_CLOSE
    info.BasicLimitInformation.ActiveProcessLimit = limits.processes
    info.ProcessMemoryLimit = limits.memory_bytes
    if not kernel32.SetInformationJobObject(job, _EXTENDED_LIMITS, ctypes.byref(info), ctypes.sizeof(info)):
        raise ctypes.WinError(ctypes.get_last_error())
    return job
