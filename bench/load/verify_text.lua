-- (c) new short texts: POST /v1/verify {"text": ...}, every request's text unique, so the
-- verdict cache never answers and the spam classifier and campaign index run each time.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
require("common").install("new_texts")

local phrases = {
  "thanks for sharing, the second chart explains the drop in March",
  "click here to claim your free prize before midnight, limited offer",
  "I disagree with the conclusion but the sources look solid",
  "does anyone know where the original photo was taken?",
  "WIN CASH NOW reply YES to this number for a guaranteed bonus",
  "great write-up, bookmarked for the team meeting tomorrow",
  "the video seems edited around 0:42, the shadows change direction",
  "cheap followers and likes, visit our site for instant growth",
}

local headers = { ["Content-Type"] = "application/json" }
local counter = 0
local tid = 0
local salt = ""

-- wrk ... -s verify_text.lua URL -- SALT (a per-run word, so that no two runs, and no
-- warm-up and measured run, send the same text)
function init(args)
  tid = id or 0
  salt = args[1] or tostring(os.time())
end

function request()
  counter = counter + 1
  local text = string.format("comment %s-%d-%d %s", salt, tid, counter,
    phrases[(counter % #phrases) + 1])
  return wrk.format("POST", "/v1/verify", headers, '{"text": "' .. text .. '"}')
end
