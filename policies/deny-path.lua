-- deny-path: fail every file operation on a path prefix with EACCES.
--
-- Parameters (--param key=value):
--   prefix  path prefix to deny (default /etc/passwd); matched against the
--           path as the program passed it, and against the resolved path
--           of the directory fd for *at calls with a relative path
--   errno   errno to fail with (default EACCES)
--
-- Example: hermes trace --inject builtin:deny-path -- cat /etc/passwd
--          cat: /etc/passwd: Permission denied
local prefix = hermes.param("prefix", "/etc/passwd")
local errno = hermes.param("errno", "EACCES")
hermes.errno(errno) -- fail at load time if the name is wrong

hermes.trap{"%file"}

local function under(p)
  return p ~= nil and p:sub(1, #prefix) == prefix
end

function on_syscall(ev)
  local p = ev.path
  if under(p) or under(ev.path2) then
    hermes.deny(errno)
    return
  end
  -- openat(dirfd, "relative", ...): resolve against the directory fd
  if p ~= nil and p:sub(1, 1) ~= "/" and ev.fd ~= nil and ev.fd >= 0 then
    local dir = ev.fdpath
    if dir ~= nil and under(dir .. "/" .. p) then
      hermes.deny(errno)
    end
  end
end
