-- Shared by the wrk scripts: per-thread response counting and a one-line summary.
-- Each thread counts responses by class; done() (main Lua state) collects the counts
-- from every thread and prints a RESULT line that run.sh parses.
--
-- install(name, opts): opts.kinds lists kinds of answer and opts.classify(status,
-- headers, body) names the kind of each one; the RESULT line then carries kind_NAME=N.

local M = {}

local threads = {}
local next_id = 0

function M.install(name, opts)
  local kinds = (opts and opts.kinds) or {}
  local classify = opts and opts.classify
  for _, k in ipairs(kinds) do _G["kind_" .. k] = 0 end

  function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
  end

  ok2xx = 0
  non2xx = 0
  last_status = 0
  first_error_body = ""

  function response(status, headers, body)
    if status >= 200 and status < 300 then
      ok2xx = ok2xx + 1
    else
      non2xx = non2xx + 1
      last_status = status
      if first_error_body == "" and body then
        first_error_body = string.sub(body, 1, 300)
      end
    end
    if classify then
      local k = classify(status, headers, body)
      if k then _G["kind_" .. k] = (_G["kind_" .. k] or 0) + 1 end
    end
  end

  function done(summary, latency, requests)
    local ok, bad, last, sample = 0, 0, 0, ""
    for _, t in ipairs(threads) do
      ok = ok + (t:get("ok2xx") or 0)
      bad = bad + (t:get("non2xx") or 0)
      local s = t:get("last_status") or 0
      if s ~= 0 then last = s end
      local b = t:get("first_error_body") or ""
      if sample == "" and b ~= "" then sample = b end
    end
    local e = summary.errors
    local socket = e.connect + e.read + e.write + e.timeout
    local seconds = summary.duration / 1e6
    io.write(string.format(
      "RESULT scenario=%s requests=%d seconds=%.3f rps=%.2f p50_ms=%.3f p90_ms=%.3f "
        .. "p99_ms=%.3f max_ms=%.3f ok2xx=%d non2xx=%d socket_errors=%d connect=%d "
        .. "read=%d write=%d timeout=%d last_bad_status=%d\n",
      name, summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000,
      ok, bad, socket, e.connect, e.read, e.write, e.timeout, last))
    for _, k in ipairs(kinds) do
      local n = 0
      for _, t in ipairs(threads) do n = n + (t:get("kind_" .. k) or 0) end
      io.write(string.format("KIND %s=%d\n", k, n))
    end
    if sample ~= "" then
      io.write("ERROR_SAMPLE " .. string.gsub(sample, "%s+", " ") .. "\n")
    end
  end
end

return M
