-- wrk script for bench/kv_wrap.sh: POSTs $KV_BODY (a wrapkey or unwrapkey JSON body) with the
-- Key Vault bearer token from $BYOK_TOKEN and Host: $KV_HOST ({vault}.vault.localhost:{port}; wrk
-- connects to 127.0.0.1). The token never appears on a command line or in a file.
local token = os.getenv("BYOK_TOKEN")
local body = os.getenv("KV_BODY")
local host = os.getenv("KV_HOST")
if token == nil or token == "" or body == nil or host == nil then
  error("BYOK_TOKEN, KV_BODY and KV_HOST must be set")
end
wrk.method = "POST"
wrk.body = body
wrk.headers["Host"] = host
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
