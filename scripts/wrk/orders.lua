-- POST /api/v1/orders for random customers and products; args: token, number of customers, number of products
local token, n, products
function init(args)
  token = args[1]; n = tonumber(args[2]); products = tonumber(args[3])
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
function request()
  local body = string.format(
    '{"customerID":%d,"orderDate":"2026-%02d-%02d","currency":"CNY","channel":"bench","lines":[{"productID":%d,"quantity":%d,"unitPrice":19900,"discount":0,"unitCost":9000,"onPromotion":false},{"productID":%d,"quantity":1,"unitPrice":5000,"discount":500,"unitCost":2000,"onPromotion":true}]}',
    math.random(1, n), math.random(1, 10), math.random(1, 28), math.random(1, products), math.random(1, 5), math.random(1, products))
  return wrk.format("POST", "/api/v1/orders", { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end
function response(status, headers, body)
  if status ~= 201 then print("order failed: " .. status .. " " .. body) end
end
