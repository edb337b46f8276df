"""wrk from a second process, reporting through a Lua done() hook: one JSON line per run (totals, latency
percentiles and, when the script keeps them, answers by status and requests sent per thread), so nothing is parsed
out of wrk's text output. A script may define request() and response(); `script()` appends the reporting part.

wrk calls request() once on thread 0 before the run to check it: a script that hands out bodies that must not repeat
has to answer that call without using one up (intake_bench.py does).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULT_MARK = "WRK-RESULT "

# setup() numbers the threads (`index` in each); done() prints the JSON line.
_REPORT_LUA = """
local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("index", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local function field(name, value)
  return string.format("%q:%s", name, tostring(value))
end

function done(summary, latency, requests)
  local parts = {
    field("duration_us", summary.duration), field("requests", summary.requests),
    field("connect_errors", summary.errors.connect), field("read_errors", summary.errors.read),
    field("write_errors", summary.errors.write), field("timeouts", summary.errors.timeout),
    field("status_errors", summary.errors.status),
    field("p50_us", latency:percentile(50)), field("p90_us", latency:percentile(90)),
    field("p99_us", latency:percentile(99)), field("mean_us", latency.mean), field("max_us", latency.max),
  }
  local threads_out = {}
  for _, thread in ipairs(threads) do
    local statuses = {}
    for status, count in pairs(thread:get("statuses") or {}) do
      table.insert(statuses, string.format("%q:%d", tostring(status), count))
    end
    table.insert(threads_out, string.format("{%s,%s,%s}", field("sent", thread:get("sent") or 0),
      field("exhausted", thread:get("exhausted") or false), '"statuses":{' .. table.concat(statuses, ",") .. "}"))
  end
  table.insert(parts, '"threads":[' .. table.concat(threads_out, ",") .. "]")
  io.write("{{MARK}}{" .. table.concat(parts, ",") .. "}\\n")
end
"""


def script(requests_lua: str = "") -> str:
    """A wrk script: `requests_lua` (request(), response(), init(); may read `index`) and the reporting part."""
    return requests_lua + _REPORT_LUA.replace("{{MARK}}", RESULT_MARK)


@dataclass(frozen=True)
class Load:
    threads: int
    connections: int
    seconds: int

    def arguments(self) -> list[str]:
        return [f"-t{self.threads}", f"-c{self.connections}", f"-d{self.seconds}s", "--latency"]


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run reports through done(): totals, latency (µs) and, for the intake, answers by status."""

    duration_us: int
    requests: int
    p50_us: float
    p90_us: float
    p99_us: float
    mean_us: float
    max_us: float
    socket_errors: int
    status_errors: int
    threads: list[dict[str, Any]]

    @property
    def rate(self) -> float:
        return self.requests / (self.duration_us / 1e6)

    def answers(self, status: int) -> int:
        return sum(int(thread["statuses"].get(str(status), 0)) for thread in self.threads)

    @property
    def statuses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for thread in self.threads:
            for status, count in thread["statuses"].items():
                counts[status] = counts.get(status, 0) + int(count)
        return counts

    @property
    def sent(self) -> list[int]:
        return [int(thread["sent"]) for thread in self.threads]

    @property
    def exhausted(self) -> bool:
        return any(thread["exhausted"] for thread in self.threads)


def run_wrk(url: str, load: Load, script_path: Path, *script_args: str) -> WrkResult:
    command = ["wrk", *load.arguments(), "-s", str(script_path), url]
    if script_args:
        command += ["--", *script_args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    lines = [line for line in output.splitlines() if line.startswith(RESULT_MARK)]
    if not lines:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    raw = json.loads(lines[-1].removeprefix(RESULT_MARK))
    return WrkResult(
        duration_us=int(raw["duration_us"]),
        requests=int(raw["requests"]),
        p50_us=float(raw["p50_us"]),
        p90_us=float(raw["p90_us"]),
        p99_us=float(raw["p99_us"]),
        mean_us=float(raw["mean_us"]),
        max_us=float(raw["max_us"]),
        socket_errors=sum(int(raw[key]) for key in ("connect_errors", "read_errors", "write_errors", "timeouts")),
        status_errors=int(raw["status_errors"]),
        threads=list(raw["threads"]),
    )
