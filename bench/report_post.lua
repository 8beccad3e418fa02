-- wrk script: POST a fresh, valid incident report per request (unique id, random tokens).
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local counter = 0
local prefix = ""

-- Each wrk thread has its own Lua state with the same unseeded RNG: without a per-thread id
-- every thread would send the same client_report_ids, and intake would answer retries.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local pause_ms = 0

function init(args)
  math.randomseed(os.time() * 100 + thread_id)
  prefix = string.format("%d-%d", thread_id, math.random(1, 1e9))
  pause_ms = tonumber(args[1]) or 0
end

-- A submitter's pause between two reports (the paced, "sustained rate" runs): exponential
-- around the mean, as independent submitters would be; a fixed pause would keep all
-- connections in lockstep and turn the load into bursts of N at once.
function delay()
  if pause_ms == 0 then
    return 0
  end
  return math.floor(-math.log(1 - math.random()) * pause_ms)
end

local function token()
  local chars = {}
  for i = 1, 86 do
    local n = math.random(1, 64)
    chars[i] = alphabet:sub(n, n)
  end
  return table.concat(chars)
end

request = function()
  counter = counter + 1
  local kinds = { "name_dob", "name_year", "name", "part_dob_head", "part_dob_tail" }
  local tokens = {}
  for i, kind in ipairs(kinds) do
    tokens[i] = string.format('{"kind":"%s","version":1,"value":"%s"}', kind, token())
  end
  local body = string.format(
    '{"client_report_id":"wrk-%s-%d","incident_type":"detention",' ..
    '"legal_basis":"cis_interstate_search","occurred_at":"2026-11-20T06:40:00+06:00",' ..
    '"place":{"country":"KG","locality":"Bishkek","facility_kind":"airport"},' ..
    '"requesting_state":"RU","charges":[{"state":"RU","code":"CC","article":"207.3"}],' ..
    '"status":"ongoing","tlp":"AMBER","narrative":"%s","contact_instructions":"Call the duty phone.",' ..
    '"subject":{"tokens":[%s],"sex":"male"}}',
    prefix, counter, string.rep("Detained at passport control on arrival. ", 8),
    table.concat(tokens, ","))
  local headers = { ["Content-Type"] = "application/json" }
  for name, value in pairs(wrk.headers) do headers[name] = value end  -- keep -H headers
  return wrk.format("POST", nil, headers, body)
end

