-- GET /api/v1/customers/{random id}/360; args: token, number of customers
local token, n
function init(args)
  token = args[1]; n = tonumber(args[2])
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
function request()
  return wrk.format("GET", "/api/v1/customers/" .. math.random(1, n) .. "/360", { ["Authorization"] = "Bearer " .. token })
end
