-- wrk script: POST one fixed JSON body with a bearer key (used by bench/loadgen.py).
-- WRK_BODY names the file holding the body; WRK_KEY is the API key.
local file = assert(io.open(os.getenv("WRK_BODY"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("WRK_KEY")
