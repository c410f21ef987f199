-- SPDX-License-Identifier: MIT
-- wrk script for bench/run.sh (move): MOVE (a rename in one folder) of the files
-- a000.bin ... a<MOVE_POOL-1>.bin (MOVE_POOL: 500) in the collection URL given to wrk to
-- b000.bin ..., then, on the next pass over the pool, back again. run.sh creates the a files.
-- Each request takes the next file of the pool: with 16 connections and 500 files, a file's
-- previous MOVE has long been answered when its turn comes again. The destination is new
-- each time (201 Created); Overwrite: F, so a MOVE onto a file that still exists fails (412)
-- instead of silently replacing it. The Destination is an absolute URL, as clients send it.
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(dir .. "report.lua")

local pool = tonumber(os.getenv("MOVE_POOL") or "500")
local base, origin, n

function init(args)
    base = wrk.path:sub(-1) == "/" and wrk.path or wrk.path .. "/"
    local port = wrk.port and (":" .. wrk.port) or ""
    origin = string.format("%s://%s%s", wrk.scheme, wrk.host, port)
    n = 0
end

function request()
    local i, pass = n % pool, math.floor(n / pool)
    n = n + 1
    local from, to = "a", "b"
    if pass % 2 == 1 then from, to = "b", "a" end
    -- wrk.format uses the table given instead of wrk.headers: copy them (with -H ones)
    local h = {}
    for k, v in pairs(wrk.headers) do h[k] = v end
    h["Destination"] = string.format("%s%s%s%03d.bin", origin, base, to, i)
    h["Overwrite"] = "F"
    return wrk.format("MOVE", string.format("%s%s%03d.bin", base, from, i), h)
end
