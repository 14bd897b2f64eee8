-- (d) upload: POST /v1/verify, multipart "file" = a 1-megapixel JPEG signed beforehand.
-- The file path comes as the script argument: wrk ... -s verify_jpeg.lua URL -- PATH
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
require("common").install("jpeg_upload")

local req

function init(args)
  local path = args[1]
  assert(path, "pass the signed JPEG's path after --")
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  local boundary = "----trustsealbench7d1f0c"
  local body = "--" .. boundary .. "\r\n"
    .. 'Content-Disposition: form-data; name="file"; filename="photo.signed.jpg"\r\n'
    .. "Content-Type: image/jpeg\r\n\r\n"
    .. data .. "\r\n--" .. boundary .. "--\r\n"
  req = wrk.format("POST", "/v1/verify",
    { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }, body)
end

function request()
  return req
end
