-- net-faults: network trouble: ECONNREFUSED/ETIMEDOUT on connect to chosen ports, ECONNRESET on sends.
--
-- Parameters (--param key=value):
--   ports          comma-separated ports to break (default: every port)
--   exclude        comma-separated ports left alone (default none)
--   connect_errno  what connect fails with: ECONNREFUSED (default),
--                  ETIMEDOUT, ENETUNREACH..., or "none" to let it succeed
--   connect_delay  ms to wait before failing a connect (default 0; use
--                  e.g. 1000 with ETIMEDOUT to look like a real timeout)
--   probability    chance that one connect fails, 0..1 (default 1)
--   reset_after    after this many sends on a connection to a chosen port,
--                  the next sends fail with ECONNRESET (default -1: never;
--                  needs connect_errno=none, or probability < 1)
--   comm, exe      only processes whose name (/proc/PID/comm), or whose
--                  executable (a glob with a /: the whole path; without:
--                  its base name), matches one of these comma-separated
--                  globs (default: every process)
--
-- The port is read from the sockaddr_in/sockaddr_in6 the program passes
-- to connect (ev.port). Sends are send/sendto/sendmsg/write/writev on a
-- descriptor that connected to a chosen port; draws use hermes.rand
-- (seeded by --seed).
local ports = {}
local any_port = true
for p in hermes.param("ports", ""):gmatch("%d+") do
  ports[tonumber(p)] = true
  any_port = false
end
local excluded = {}
for p in hermes.param("exclude", ""):gmatch("%d+") do
  excluded[tonumber(p)] = true
end
local program = hermes.program_filter(hermes.param("comm", ""), hermes.param("exe", ""))
local connect_errno = hermes.param("connect_errno", "ECONNREFUSED")
if connect_errno ~= "none" then hermes.errno(connect_errno) end
local connect_delay = hermes.param("connect_delay", 0)
local probability = hermes.param("probability", 1)
local reset_after = hermes.param("reset_after", -1)

hermes.trap{"connect", "sendto", "sendmsg", "write", "writev", "close"}

-- conns["pid:fd"] = number of sends so far on a connection to a chosen port
local conns = {}

function on_syscall(ev)
  local name = ev.name
  if name == "connect" then
    local port = ev.port
    if port == nil or ev.family == "unix" or not (any_port or ports[port]) or excluded[port] or not program(ev) then
      return
    end
    if connect_errno ~= "none" and hermes.rand() < probability then
      if connect_delay > 0 then hermes.delay(connect_delay) end
      hermes.deny(connect_errno)
      return
    end
    conns[ev.pid .. ":" .. ev.fd] = 0
  elseif name == "close" then
    conns[ev.pid .. ":" .. ev.fd] = nil
  elseif reset_after >= 0 then
    local key = ev.pid .. ":" .. ev.fd
    local sent = conns[key]
    if sent == nil then return end
    if sent >= reset_after then
      hermes.deny("ECONNRESET")
    else
      conns[key] = sent + 1
    end
  end
end
