-- enospc: the disk fills up: ENOSPC from the Nth write to files under a path prefix on.
--
-- Parameters (--param key=value):
--   prefix   only writes to files whose path starts with this (default /tmp/)
--   exclude  comma-separated path prefixes left alone (default none)
--   nth      the first write that fails, counted over all processes (default 1)
--   sticky   true: every later write under prefix fails too, as on a full
--            disk; false: only the Nth (default true)
--   errno    errno to fail with (default ENOSPC; EDQUOT is another good one)
--   stdio    true: also fail writes to the standard descriptors the run
--            started with (default false: a program's own error message
--            still reaches a stderr that is a file under prefix)
--   comm     only processes whose name (/proc/PID/comm) matches one of these
--            comma-separated globs (default: every process)
--   exe      or whose executable matches one of these globs: with a /, the
--            whole path; without, its base name (exe=*.test: a go test
--            binary, not the toolchain that builds it)
--
-- Writes are every call that writes file data (hermes.trap "@write", from
-- the syscall table: write, pwrite64, writev, pwritev, pwritev2,
-- copy_file_range, sendfile, splice, fallocate, an ftruncate that grows the
-- file, and the reflink ioctls FICLONE and FICLONERANGE that cp tries
-- first); the file is the descriptor written to (ev.outpath), so files
-- opened before the run count too. The count is kept in hermes.state, so
-- it survives a hot reload.
local wanted = hermes.path_filter(hermes.param("prefix", "/tmp/"), hermes.param("exclude", ""))
local nth = hermes.param("nth", 1)
local sticky = hermes.param("sticky", true)
local errno = hermes.param("errno", "ENOSPC")
local stdio = hermes.param("stdio", false)
local program = hermes.program_filter(hermes.param("comm", ""), hermes.param("exe", ""))
hermes.errno(errno) -- fail at load time on a bad name

hermes.trap{"@write"}
hermes.state.writes = hermes.state.writes or 0

function on_syscall(ev)
  if not wanted(ev.outpath) or (ev.stdio and not stdio) or not program(ev) then
    return
  end
  local n = hermes.state.writes + 1
  hermes.state.writes = n
  if n == nth or (sticky and n > nth) then
    hermes.deny(errno)
  end
end
