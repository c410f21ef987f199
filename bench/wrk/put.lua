-- SPDX-License-Identifier: MIT
-- wrk script for bench/run.sh (put64k): PUT of PUT_SIZE bytes (65536) to the names
-- p000.bin ... p<PUT_POOL-1>.bin (PUT_POOL: 100) in the collection URL given to wrk, in turn.
-- run.sh creates the pool beforehand, so every PUT replaces an existing file (204, or 201/200
-- for servers that say so). The body is the same non-constant bytes each time.
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(dir .. "report.lua")

local size = tonumber(os.getenv("PUT_SIZE") or "65536")
local pool = tonumber(os.getenv("PUT_POOL") or "100")
local body, base, n

function init(args)
    local bytes = {}
    for i = 0, 255 do bytes[#bytes + 1] = string.char((i * 73 + 41) % 256) end
    body = string.rep(table.concat(bytes), math.ceil(size / 256)):sub(1, size)
    base = wrk.path:sub(-1) == "/" and wrk.path or wrk.path .. "/"
    n = 0
    wrk.headers["Content-Type"] = "application/octet-stream"
end

function request()
    local path = string.format("%sp%03d.bin", base, n % pool)
    n = n + 1
    return wrk.format("PUT", path, nil, body)
end
