-- deny-path: fail every file operation on a path prefix with EACCES.
--
-- Parameters (--param key=value):
--   prefix   path prefix to deny (default /etc/passwd); matched against the
--            path as the program passed it, and against the resolved path
--            of the directory fd for *at calls with a relative path
--   exclude  comma-separated path prefixes under prefix left alone
--            (default none)
--   errno    errno to fail with (default EACCES)
--   comm     only processes whose name (/proc/PID/comm) matches one of these
--            comma-separated globs (default: every process)
--   exe      or whose executable matches one of these globs: with a /, the
--            whole path; without, its base name
--
-- Example: hermes trace --inject builtin:deny-path -- cat /etc/passwd
--          cat: /etc/passwd: Permission denied
local under = hermes.path_filter(hermes.param("prefix", "/etc/passwd"), hermes.param("exclude", ""))
local errno = hermes.param("errno", "EACCES")
local program = hermes.program_filter(hermes.param("comm", ""), hermes.param("exe", ""))
hermes.errno(errno) -- fail at load time if the name is wrong

hermes.trap{"%file"}

local function denied(ev)
  local p = ev.path
  if under(p) or under(ev.path2) then
    return true
  end
  -- openat(dirfd, "relative", ...): resolve against the directory fd
  if p ~= nil and p:sub(1, 1) ~= "/" and ev.fd ~= nil and ev.fd >= 0 then
    local dir = ev.fdpath
    return dir ~= nil and under(dir .. "/" .. p)
  end
  return false
end

function on_syscall(ev)
  if denied(ev) and program(ev) then
    hermes.deny(errno)
  end
end
