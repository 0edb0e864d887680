-- wrk script for the refresh grant: POST /oauth/token grant_type=refresh_token.
--
-- Refresh tokens are single use and rotate, so each thread chains its own: setup() gives
-- thread N the N-th line of the file named by BENCH_REFRESH_TOKENS (fresh tokens from
-- logins made just before), and every 200 answer's refresh_token is the next request's.
-- Run it with -t N -c N: one connection per thread, so a thread's requests are sequential
-- (wrk calls response() before it builds the connection's next request()).
-- Any answer other than 200 is an error; after one the chain is broken and every later
-- request of that thread fails too, which shows in the error count.

dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

-- Main state only: the starting tokens, one per thread.
local starting = {}
local path = os.getenv("BENCH_REFRESH_TOKENS")
if path then
    for line in io.lines(path) do
        if line ~= "" then
            table.insert(starting, line)
        end
    end
end

function bench_setup(thread, n)
    if not starting[n] then
        error("refresh.lua: no starting refresh token for thread " .. n .. " in " .. tostring(path))
    end
    thread:set("refresh_token", starting[n])
end

-- wrk also builds one request in the main state to check it; that one is never sent.
refresh_token = "not-yet-set"

function request()
    return wrk.format(nil, nil, nil,
        "grant_type=refresh_token&refresh_token=" .. refresh_token .. "&client_id=login")
end

function response(status, headers, body)
    local next_token = status == 200 and body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if next_token then
        refresh_token = next_token
    else
        bad = bad + 1
    end
end
