-- bench/webhook/updates.lua - wrk script: each request POSTs a new private text message
-- as Telegram would (a unique update_id per thread and request, 1,000 chats) with the
-- secret header. BASE (env) offsets the ids, so that two wrk runs never collide.
local counter = 0
local base = tonumber(os.getenv("BASE") or "0")
local secret = os.getenv("SECRET")
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Telegram-Bot-Api-Secret-Token"] = secret
end

function request()
  counter = counter + 1
  local id = base + tid * 100000000 + counter
  local chat = 9000000 + id % 1000
  local body = string.format('{"update_id":%d,"message":{"message_id":%d,"date":1,' ..
    '"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"L"},' ..
    '"text":"load %d"}}', id, id, chat, chat, id)
  return wrk.format(nil, "/telegram", nil, body)
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx or errors: %d\n",
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
