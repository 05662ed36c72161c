-- wrk script: POST a JSON body with a bearer key (used by bench/loadgen.py).
-- WRK_BODY names the file holding the body; WRK_KEY is the API key. Each "@N@" in the body is
-- replaced by a number unique to the request ("<thread>-<count>"), so no two requests carry the
-- same prompt and no per-text cache (ours or anyone's) can serve them. WRK_HEADERS (optional)
-- holds extra "name: value" headers, one a line.
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  local file = assert(io.open(os.getenv("WRK_BODY"), "rb"))
  local body = file:read("*a")
  file:close()
  parts = {}
  for piece in (body .. "@N@"):gmatch("(.-)@N@") do
    table.insert(parts, piece)
  end
  counter = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("WRK_KEY")
  for line in (os.getenv("WRK_HEADERS") or ""):gmatch("[^\n]+") do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name then
      wrk.headers[name] = value
    end
  end
end

function request()
  counter = counter + 1
  local tag = (thread_id or 0) .. "-" .. counter
  return wrk.format(nil, nil, nil, table.concat(parts, tag))
end
