-- wrk script: rotate through a list of paths so no single URL flatters a cache.
--
--   PATHS_FILE=bench/paths.txt wrk -t1 -c32 -d10s --latency -s bench/paths.lua http://127.0.0.1:18080
--
-- PATHS_FILE (default bench/paths.txt) holds one path per line ("/", "/jobs/12-slug",
-- "/api/v1/jobs?page=3"); blank lines and lines starting with '#' are skipped.
-- Each wrk thread starts at a different offset in the list and walks it in order,
-- wrapping around. Requests are formatted once at init, so the script adds almost
-- nothing to wrk's own cost per request.
--
-- done() prints one machine-readable line that bench/run.sh parses:
--   BENCH requests=N duration_us=N rps=F p50_us=F p90_us=F p99_us=F max_us=F
--         non2xx=N connect_errors=N read_errors=N write_errors=N timeouts=N paths=N
-- non2xx is wrk's summary.errors.status: responses with status >= 400 (wrk does
-- not count 3xx there; run.sh checks beforehand that every path answers 200).

local paths_file = os.getenv("PATHS_FILE") or "bench/paths.txt"

-- Runs in the main Lua state, once per thread, before that thread's init().
local thread_count = 0
function setup(thread)
   thread_count = thread_count + 1
   thread:set("thread_index", thread_count - 1)
end

local function read_paths(file)
   local f, err = io.open(file, "r")
   if not f then
      error("paths.lua: cannot open PATHS_FILE " .. file .. ": " .. tostring(err))
   end
   local list = {}
   for line in f:lines() do
      line = line:gsub("^%s+", ""):gsub("%s+$", "")
      if line ~= "" and line:sub(1, 1) ~= "#" then
         if line:sub(1, 1) ~= "/" then
            line = "/" .. line
         end
         list[#list + 1] = line
      end
   end
   f:close()
   if #list == 0 then
      error("paths.lua: no paths in " .. file)
   end
   return list
end

local requests = {}
local count = 0
local next_index = 0

-- Runs in each thread's own Lua state.
function init(args)
   local list = read_paths(paths_file)
   count = #list
   for i, path in ipairs(list) do
      requests[i] = wrk.format("GET", path)
   end
   -- A different start per thread: a stride coprime with most list lengths.
   local idx = tonumber(thread_index) or 0
   next_index = (idx * 7919) % count
end

function request()
   next_index = next_index + 1
   if next_index > count then
      next_index = 1
   end
   return requests[next_index]
end

-- Runs in the main Lua state after the run.
function done(summary, latency, requests_stats)
   local duration_us = summary.duration
   local rps = 0
   if duration_us > 0 then
      rps = summary.requests / (duration_us / 1e6)
   end
   local e = summary.errors
   local n_paths = 0
   -- The main state did not run init(); count the file again for the record.
   local ok, list = pcall(read_paths, paths_file)
   if ok then
      n_paths = #list
   end
   io.write(string.format(
      "BENCH requests=%d duration_us=%d rps=%.2f p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f "
         .. "non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d paths=%d\n",
      summary.requests, duration_us, rps,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.status, e.connect, e.read, e.write, e.timeout, n_paths))
end
