-- slow-disk: a slow disk: every read and write on files is delayed by N milliseconds.
--
-- Parameters (--param key=value):
--   ms        delay per call in milliseconds, fractions allowed (default 10)
--   prefix    only descriptors whose path starts with this (default "/":
--             files; "pipe:" or "socket:" select those)
--   syscalls  comma-separated calls to slow down (default read,write,
--             pread64,pwrite64,readv,writev,fsync,fdatasync)
--   jitter    extra random delay up to this many ms, from hermes.rand
--             (seeded by --seed; default 0)
--   exclude   comma-separated path prefixes left alone (default
--             /dev/,/proc/,/sys/,/lib/,/lib64/,/usr/lib/,/usr/lib64/,/etc/ld.so:
--             devices, and the dynamic loader reading the libraries);
--             an entry that covers prefix itself is ignored
--
-- Only the calling thread waits; other threads run on.
local ms = hermes.param("ms", 10)
local jitter = hermes.param("jitter", 0)
hermes.trap(hermes.split(hermes.param("syscalls", "read,write,pread64,pwrite64,readv,writev,fsync,fdatasync")))
local wanted = hermes.path_filter(hermes.param("prefix", "/"),
  hermes.param("exclude", "/dev/,/proc/,/sys/,/lib/,/lib64/,/usr/lib/,/usr/lib64/,/etc/ld.so"))

function on_syscall(ev)
  if wanted(ev.fdpath) then
    hermes.delay(ms + jitter * hermes.rand())
  end
end
