-- (b) cached verdicts: POST /v1/verify {"sha256": ...} for one item signed beforehand.
-- The digest comes as the script argument: wrk ... -s verify_sha256.lua URL -- DIGEST
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
require("common").install("cached_sha256")

local req

function init(args)
  local digest = args[1]
  assert(digest and #digest == 64, "pass the item's sha256 after --")
  req = wrk.format("POST", "/v1/verify", { ["Content-Type"] = "application/json" },
    '{"sha256": "' .. digest .. '"}')
end

function request()
  return req
end
