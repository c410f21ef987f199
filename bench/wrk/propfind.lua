-- SPDX-License-Identifier: MIT
-- wrk script for bench/run.sh (propall, propnamed): PROPFIND with Depth: 1 on the collection
-- URL given to wrk, and the report hook of report.lua.
--   env PROPFIND=allprop  <allprop/>: every live property, and every dead one the server keeps
--   env PROPFIND=named    four named properties, the ones a sync client asks for to find what
--                         changed: getetag, getlastmodified, getcontentlength, resourcetype
-- A reply counts as good when its status is 2xx (207 Multi-Status here).
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(dir .. "report.lua")

local bodies = {
    allprop = '<?xml version="1.0" encoding="utf-8"?>\n' ..
        '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>\n',
    named = '<?xml version="1.0" encoding="utf-8"?>\n' ..
        '<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getlastmodified/>' ..
        '<D:getcontentlength/><D:resourcetype/></D:prop></D:propfind>\n',
}
local kind = os.getenv("PROPFIND") or "allprop"
wrk.method = "PROPFIND"
wrk.body = assert(bodies[kind], "PROPFIND must be allprop or named")
wrk.headers["Depth"] = "1"
wrk.headers["Content-Type"] = "application/xml; charset=utf-8"
