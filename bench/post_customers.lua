-- wrk script: POST /customers with a unique email per request.
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
end
counter = 0
local run = os.getenv("RUN") or "0"
local auth = "Bearer " .. (os.getenv("TWOWAY_API_KEY") or "")
function request()
  counter = counter + 1
  local body = string.format(
    '{"name":"Bench Customer","email":"u%s-%s-%d@example.com","metadata":{"plan":"pro"}}',
    run, tostring(tid), counter)
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = auth}
  return wrk.format("POST", "/customers", headers, body)
end
