-- wrk script shared by every scenario of scripts/bench.sh.
--
-- Environment (read by every Lua state wrk creates, the main one and one per thread):
--   BENCH_METHOD  request method (default GET)
--   BENCH_BODY    request body, if any (headers such as Content-Type come from wrk -H)
--
-- There is no response() hook: wrk would hand every response to Lua, which costs a few
-- microseconds a request on the cores the services share. bench.sh counts degraded pages
-- from posts-service's metrics instead.
--
-- done() prints one machine-readable line that bench.sh parses:
--   BENCH requests=… duration_s=… rps=… p50_ms=… p99_ms=… socket_errors=… status_errors=…
-- socket_errors: connect + read + write + timeout. status_errors: the non-2xx responses
-- counted by response() when a scenario script defines one, otherwise wrk's own count
-- (status > 399).

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
    wrk.body = body
end

-- Per-thread count of bad responses; done() sums them through the thread objects.
bad = 0
local threads = {}

function setup(thread)
    table.insert(threads, thread)
    -- A scenario script (refresh.lua) can hand each thread its own state here.
    if bench_setup then
        bench_setup(thread, #threads)
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    local status_errors = e.status
    if type(response) == "function" then
        status_errors = 0
        for _, thread in ipairs(threads) do
            status_errors = status_errors + (thread:get("bad") or 0)
        end
    end
    local seconds = summary.duration / 1e6
    io.write(string.format(
        "BENCH requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f socket_errors=%d status_errors=%d\n",
        summary.requests, seconds, summary.requests / seconds,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        e.connect + e.read + e.write + e.timeout, status_errors))
end
