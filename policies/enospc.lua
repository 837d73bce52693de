-- enospc: the disk fills up: ENOSPC from the Nth write to files under a path prefix on.
--
-- Parameters (--param key=value):
--   prefix  only writes to files whose path starts with this (default /tmp/)
--   nth     the first write that fails, counted over all processes (default 1)
--   sticky  true: every later write under prefix fails too, as on a full
--           disk; false: only the Nth (default true)
--   errno   errno to fail with (default ENOSPC; EDQUOT is another good one)
--
-- Writes are write, pwrite64, writev, pwritev, pwritev2; the file is the
-- descriptor's path (ev.fdpath), so files opened before the run count too.
-- The count is kept in hermes.state, so it survives a hot reload.
local prefix = hermes.param("prefix", "/tmp/")
local nth = hermes.param("nth", 1)
local sticky = hermes.param("sticky", true)
local errno = hermes.param("errno", "ENOSPC")
hermes.errno(errno) -- fail at load time on a bad name

hermes.trap{"write", "pwrite64", "writev", "pwritev", "pwritev2"}
hermes.state.writes = hermes.state.writes or 0

function on_syscall(ev)
  local path = ev.fdpath
  if path == nil or path:sub(1, #prefix) ~= prefix then
    return
  end
  local n = hermes.state.writes + 1
  hermes.state.writes = n
  if n == nth or (sticky and n > nth) then
    hermes.deny(errno)
  end
end
