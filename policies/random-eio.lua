-- random-eio: a flaky disk: EIO on a random fraction of reads and writes, repeatable with --seed.
--
-- Parameters (--param key=value):
--   probability  chance that one call fails, 0..1 (default 0.01)
--   syscalls     comma-separated calls to consider (default
--                read,pread64,readv,preadv,preadv2,@write; @write is every
--                call that writes file data: write, pwrite64, writev,
--                pwritev, pwritev2, copy_file_range, sendfile, splice,
--                fallocate, an ftruncate that grows the file, ioctl
--                FICLONE/FICLONERANGE)
--   prefix       only descriptors whose path starts with this (default
--                "/": files, not pipes or sockets); for a call that writes
--                file data, the descriptor it writes to (ev.iopath)
--   errno        errno to fail with (default EIO)
--   exclude      comma-separated path prefixes left alone (default
--                /dev/,/proc/,/sys/,/lib/,/lib64/,/usr/lib/,/usr/lib64/,/etc/ld.so:
--                devices, and the dynamic loader reading the libraries);
--                an entry that covers prefix itself is ignored
--   stdio        true: also fail calls on the standard descriptors the run
--                started with (default false)
--   comm, exe    only processes whose name (/proc/PID/comm), or whose
--                executable (a glob with a /: the whole path; without: its
--                base name), matches one of these comma-separated globs
--                (default: every process)
--
-- The draws come from hermes.rand, seeded by --seed: the same seed, the
-- same program and the same inputs fail the same calls.
local probability = hermes.param("probability", 0.01)
local errno = hermes.param("errno", "EIO")
hermes.trap(hermes.split(hermes.param("syscalls", "read,pread64,readv,preadv,preadv2,@write")))
local wanted = hermes.path_filter(hermes.param("prefix", "/"),
  hermes.param("exclude", "/dev/,/proc/,/sys/,/lib/,/lib64/,/usr/lib/,/usr/lib64/,/etc/ld.so"))
local stdio = hermes.param("stdio", false)
local program = hermes.program_filter(hermes.param("comm", ""), hermes.param("exe", ""))

function on_syscall(ev)
  if not wanted(ev.iopath) or (ev.stdio and not stdio) or not program(ev) then
    return
  end
  if hermes.rand() < probability then
    hermes.deny(errno)
  end
end
