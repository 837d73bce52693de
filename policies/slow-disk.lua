-- slow-disk: a slow disk: every read and write on files is delayed by N milliseconds.
--
-- Parameters (--param key=value):
--   ms        delay per call in milliseconds, fractions allowed (default 10)
--   prefix    only descriptors whose path starts with this (default "/":
--             files; "pipe:" or "socket:" select those); for a call that
--             writes file data, the descriptor it writes to (ev.iopath)
--   syscalls  comma-separated calls to slow down (default read,pread64,
--             readv,preadv,preadv2,@write,fsync,fdatasync; @write is every
--             call that writes file data: write, pwrite64, writev, pwritev,
--             pwritev2, copy_file_range, sendfile, splice, fallocate, an
--             ftruncate that grows the file, ioctl FICLONE/FICLONERANGE)
--   jitter    extra random delay up to this many ms, from hermes.rand
--             (seeded by --seed; default 0)
--   exclude   comma-separated path prefixes left alone (default
--             /dev/,/proc/,/sys/,/lib/,/lib64/,/usr/lib/,/usr/lib64/,/etc/ld.so:
--             devices, and the dynamic loader reading the libraries);
--             an entry that covers prefix itself is ignored
--   stdio     true: also slow calls on the standard descriptors the run
--             started with (default false)
--   comm, exe only processes whose name (/proc/PID/comm), or whose
--             executable (a glob with a /: the whole path; without: its
--             base name), matches one of these comma-separated globs
--             (default: every process)
--
-- Only the calling thread waits; other threads run on.
local ms = hermes.param("ms", 10)
local jitter = hermes.param("jitter", 0)
hermes.trap(hermes.split(hermes.param("syscalls", "read,pread64,readv,preadv,preadv2,@write,fsync,fdatasync")))
local wanted = hermes.path_filter(hermes.param("prefix", "/"),
  hermes.param("exclude", "/dev/,/proc/,/sys/,/lib/,/lib64/,/usr/lib/,/usr/lib64/,/etc/ld.so"))
local stdio = hermes.param("stdio", false)
local program = hermes.program_filter(hermes.param("comm", ""), hermes.param("exe", ""))

function on_syscall(ev)
  if wanted(ev.iopath) and not (ev.stdio and not stdio) and program(ev) then
    hermes.delay(ms + jitter * hermes.rand())
  end
end
