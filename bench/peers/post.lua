-- wrk script: send the same request on every call, configured from the
-- environment, and report with wrk_report.lua (loaded from this directory).
--
--   WRK_METHOD        HTTP method (default POST)
--   WRK_BODY          request body (default: a small JSON campaign event)
--   WRK_BODY_FILE     read the body from this file instead (wins over WRK_BODY)
--   WRK_CONTENT_TYPE  Content-Type header (default application/json)
--   WRK_HEADERS       extra headers, "Name: value" pairs separated by "\n" or ";"
--
-- Example:
--   WRK_BODY='{"a":1}' wrk -t2 -c8 -d20s -s bench/peers/post.lua \
--       http://127.0.0.1:8080/hooks/bench

local default_body =
   '{"campaign":"spring-sale","channel":"search","spend":1234.5,"clicks":842,"conversions":17}'

local body = os.getenv("WRK_BODY") or default_body
local body_file = os.getenv("WRK_BODY_FILE")
if body_file and body_file ~= "" then
   local f = assert(io.open(body_file, "rb"))
   body = f:read("*a")
   f:close()
end

wrk.method = os.getenv("WRK_METHOD") or "POST"
wrk.body = body
wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE") or "application/json"

local extra = os.getenv("WRK_HEADERS")
if extra and extra ~= "" then
   for pair in string.gmatch(extra, "[^;\n]+") do
      local name, value = string.match(pair, "^%s*([^:]-)%s*:%s*(.-)%s*$")
      if name and name ~= "" then wrk.headers[name] = value end
   end
end

-- Load the shared report from the directory this script lives in.
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
dofile(here .. "wrk_report.lua")
