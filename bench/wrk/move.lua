-- SPDX-License-Identifier: MIT
-- wrk script for bench/run.sh (move): MOVE (a rename in one folder) of the files
-- a000.bin ... a<MOVE_POOL-1>.bin (MOVE_POOL: 500) in the collection URL given to wrk to
-- b000.bin ..., then, on the next pass over the pool, back again. run.sh creates the a files
-- and puts them back under their a names before every run. With MOVE_THREADS (wrk's -t, 1)
-- threads, each takes its own share of the pool. Each request takes the thread's next file:
-- with 16 connections and 500 files, a file's previous MOVE has long been answered when its
-- turn comes again. The destination never exists (201 Created), and Overwrite: F makes a
-- MOVE onto a file that still exists fail (412) rather than replace it. The Destination is
-- an absolute URL, as clients send it.
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(dir .. "report.lua")

local pool = tonumber(os.getenv("MOVE_POOL") or "500")
local threads = tonumber(os.getenv("MOVE_THREADS") or "1")
local share = math.floor(pool / threads)
local started = 0
local base, origin, n

function setup(thread)
    thread:set("tid", started)
    started = started + 1
end

function init(args)
    base = wrk.path:sub(-1) == "/" and wrk.path or wrk.path .. "/"
    local port = wrk.port and (":" .. wrk.port) or ""
    origin = string.format("%s://%s%s", wrk.scheme, wrk.host, port)
    -- wrk calls the first thread's request() once more, to check the script, and never
    -- sends that request: it must not use up a file's turn
    n = tid == 0 and -1 or 0
end

function request()
    local k = n
    n = n + 1
    if k < 0 then
        return wrk.format("MOVE", base .. "a000.bin")
    end
    local i, pass = tid + threads * (k % share), math.floor(k / share)
    local from, to = "a", "b"
    if pass % 2 == 1 then from, to = "b", "a" end
    -- wrk.format takes the table given instead of wrk.headers: copy those (with -H's)
    local h = {}
    for key, v in pairs(wrk.headers) do h[key] = v end
    h["Destination"] = string.format("%s%s%s%03d.bin", origin, base, to, i)
    h["Overwrite"] = "F"
    return wrk.format("MOVE", string.format("%s%s%03d.bin", base, from, i), h)
end
