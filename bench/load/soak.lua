-- Soak: a mixed workload in one wrk run, cycling through ten requests per thread:
--   4 x POST /v1/verify {"sha256": TEXT_SHA}       cached lookups
--   2 x POST /v1/verify multipart 1 MP signed JPEG  image uploads
--   2 x POST /v1/verify {"text": unique}            new texts (classifier, campaigns)
--   2 x POST /v1/sign   {"text": unique}            signing (database, log queue)
-- Each answer is classified by its body (wrk does not say which request it answers);
-- the digest of every accepted sign goes to OUT_DIR/accepted-SALT-THREAD.txt, so that
-- soak.sh can count them in the database and the log afterwards.
--
--     wrk ... -s soak.lua URL -- TEXT_SHA JPEG_PATH API_KEY OUT_DIR SALT
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")

local MIX = { "cached", "upload", "text", "cached", "sign", "cached", "upload", "text",
  "cached", "sign" }
local phrases = {
  "thanks for sharing, the second chart explains the drop in March",
  "click here to claim your free prize before midnight, limited offer",
  "does anyone know where the original photo was taken?",
  "cheap followers and likes, visit our site for instant growth",
}

local text_sha, upload, salt, accepted
local json_headers = { ["Content-Type"] = "application/json" }
local sign_headers = {}
local counter = 0
local tid = 0

local function classify(status, headers, body)
  if status ~= 200 then return "refused" end
  local sha = string.match(body, '"sha256"%s*:%s*"(%x+)"')
  if string.find(body, '"verdict"', 1, true) then
    if sha == text_sha then return "cached" end
    if string.find(body, "image/jpeg", 1, true) then return "upload" end
    return "text"
  end
  if sha and string.find(body, '"record"', 1, true) then
    accepted:write(sha, "\n")
    accepted:flush()
    return "sign"
  end
  return "other"
end

common.install("soak", {
  kinds = { "cached", "upload", "text", "sign", "refused", "other" },
  classify = classify,
})

function init(args)
  tid = id or 0
  text_sha, salt = args[1], args[5]
  assert(text_sha and args[2] and args[3] and args[4] and salt,
    "pass TEXT_SHA JPEG_PATH API_KEY OUT_DIR SALT after --")
  local f = assert(io.open(args[2], "rb"))
  local data = f:read("*a")
  f:close()
  local boundary = "----trustsealsoak5e3a"
  local body = "--" .. boundary .. "\r\n"
    .. 'Content-Disposition: form-data; name="file"; filename="photo.signed.jpg"\r\n'
    .. "Content-Type: image/jpeg\r\n\r\n"
    .. data .. "\r\n--" .. boundary .. "--\r\n"
  upload = wrk.format("POST", "/v1/verify",
    { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }, body)
  sign_headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[3] }
  accepted = assert(io.open(args[4] .. "/accepted-" .. salt .. "-" .. tid .. ".txt", "a"))
end

function request()
  counter = counter + 1
  local kind = MIX[(counter % #MIX) + 1]
  local phrase = phrases[(counter % #phrases) + 1]
  if kind == "cached" then
    return wrk.format("POST", "/v1/verify", json_headers, '{"sha256": "' .. text_sha .. '"}')
  elseif kind == "upload" then
    return upload
  elseif kind == "text" then
    return wrk.format("POST", "/v1/verify", json_headers,
      string.format('{"text": "comment %s-%d-%d %s"}', salt, tid, counter, phrase))
  end
  return wrk.format("POST", "/v1/sign", sign_headers,
    string.format('{"text": "post %s-%d-%d %s"}', salt, tid, counter, phrase))
end
