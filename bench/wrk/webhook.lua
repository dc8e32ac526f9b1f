-- Signed Jira deliveries with unique ids, pre-computed by webhook_throughput.py (wrk's Lua
-- has no HMAC). Each wrk thread takes every n-th line so no id is sent twice.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  deliveries = {}
  local index = 0
  for line in io.lines(path) do
    if index % nthreads == tid then
      local id, sig, body = line:match("^([^\t]+)\t([^\t]+)\t(.*)$")
      table.insert(deliveries, wrk.format("POST", "/api/jira/webhook", {
        ["Content-Type"] = "application/json",
        ["X-Atlassian-Webhook-Identifier"] = id,
        ["X-Hub-Signature"] = sig,
      }, body))
    end
    index = index + 1
  end
  position = 0
end

function request()
  position = position + 1
  if position > #deliveries then
    position = 1
    wrapped = true
  end
  return deliveries[position]
end

dofile(os.getenv("WRK_REPORT_LUA"))
