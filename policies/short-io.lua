-- short-io: short reads and writes: the byte count of each call is cut to a fraction.
--
-- Parameters (--param key=value):
--   fraction  keep this fraction of the count, at least 1 byte (default 0.5)
--   prefix    only descriptors whose path starts with this (default "/":
--             files; "pipe:" or "socket:" select those); for a call that
--             writes file data, the descriptor it writes to (ev.iopath)
--   syscalls  comma-separated calls (default read,pread64,@write; of
--             @write, the calls with a byte count: write, pwrite64,
--             copy_file_range, sendfile, splice)
--   exclude   comma-separated path prefixes left alone (default
--             /dev/,/proc/,/sys/,/lib/,/lib64/,/usr/lib/,/usr/lib64/,/etc/ld.so:
--             devices, and the dynamic loader reading the libraries);
--             an entry that covers prefix itself is ignored
--   stdio     true: also cut calls on the standard descriptors the run
--             started with (default false)
--   comm, exe only processes whose name (/proc/PID/comm), or whose
--             executable (a glob with a /: the whole path; without: its
--             base name), matches one of these comma-separated globs
--             (default: every process)
--
-- Correct programs loop until all bytes are done; careless ones that
-- assume a full read or write show their bug.
local fraction = hermes.param("fraction", 0.5)
hermes.trap(hermes.split(hermes.param("syscalls", "read,pread64,@write")))
local wanted = hermes.path_filter(hermes.param("prefix", "/"),
  hermes.param("exclude", "/dev/,/proc/,/sys/,/lib/,/lib64/,/usr/lib/,/usr/lib64/,/etc/ld.so"))
local stdio = hermes.param("stdio", false)
local program = hermes.program_filter(hermes.param("comm", ""), hermes.param("exe", ""))

function on_syscall(ev)
  local count = ev.count
  if count == nil or type(count) ~= "number" or count < 2 or not wanted(ev.iopath) or
      (ev.stdio and not stdio) or not program(ev) then
    return
  end
  local short = math.max(1, math.floor(count * fraction))
  if short < count then
    hermes.modify_arg(ev.count_arg, short)
  end
end
