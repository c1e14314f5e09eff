-- GET /api/v1/search?q=… with one- and two-character Chinese queries and Latin prefixes; args: token
local token
local queries = { "张", "伟", "王芳", "李", "刘强", "陈", "静", "华信", "科技", "smith", "emma", "138", "杨", "娜", "周杰", "上海" }
function init(args)
  token = args[1]
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
local function encode(s)
  return (s:gsub("[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
function request()
  local q = queries[math.random(1, #queries)]
  return wrk.format("GET", "/api/v1/search?limit=20&q=" .. encode(q), { ["Authorization"] = "Bearer " .. token })
end
