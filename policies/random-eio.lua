-- random-eio: a flaky disk: EIO on a random fraction of reads and writes, repeatable with --seed.
--
-- Parameters (--param key=value):
--   probability  chance that one call fails, 0..1 (default 0.01)
--   syscalls     comma-separated calls to consider (default
--                read,write,pread64,pwrite64,readv,writev)
--   prefix       only descriptors whose path starts with this (default
--                "/": files, not pipes or sockets)
--   errno        errno to fail with (default EIO)
--   exclude      comma-separated path prefixes left alone (default
--                /dev/,/proc/,/sys/,/lib/,/lib64/,/usr/lib/,/usr/lib64/,/etc/ld.so:
--                devices, and the dynamic loader reading the libraries);
--                an entry that covers prefix itself is ignored
--
-- The draws come from hermes.rand, seeded by --seed: the same seed, the
-- same program and the same inputs fail the same calls.
local probability = hermes.param("probability", 0.01)
local errno = hermes.param("errno", "EIO")
hermes.trap(hermes.split(hermes.param("syscalls", "read,write,pread64,pwrite64,readv,writev")))
local wanted = hermes.path_filter(hermes.param("prefix", "/"),
  hermes.param("exclude", "/dev/,/proc/,/sys/,/lib/,/lib64/,/usr/lib/,/usr/lib64/,/etc/ld.so"))

function on_syscall(ev)
  if not wanted(ev.fdpath) then
    return
  end
  if hermes.rand() < probability then
    hermes.deny(errno)
  end
end
