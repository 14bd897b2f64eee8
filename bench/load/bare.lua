-- (a) the ceiling: GET /ping on the bare FastAPI app.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
require("common").install("bare")
