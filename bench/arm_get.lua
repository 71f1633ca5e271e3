-- wrk script for bench/arm_get.sh: every request carries the bearer token from $BYOK_TOKEN
-- (the token never appears on a command line or in a file).
local token = os.getenv("BYOK_TOKEN")
if token == nil or token == "" then
  error("BYOK_TOKEN is not set")
end
wrk.headers["Authorization"] = "Bearer " .. token
