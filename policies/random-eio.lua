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
local prefix = hermes.param("prefix", "/")
local errno = hermes.param("errno", "EIO")
local calls = {}
for name in hermes.param("syscalls", "read,write,pread64,pwrite64,readv,writev"):gmatch("[^,%s]+") do
  calls[#calls + 1] = name
end
hermes.errno(errno)
hermes.trap(calls)

local excludes = {}
for e in hermes.param("exclude", "/dev/,/proc/,/sys/,/lib/,/lib64/,/usr/lib/,/usr/lib64/,/etc/ld.so"):gmatch("[^,%s]+") do
  if prefix:sub(1, #e) ~= e then
    excludes[#excludes + 1] = e
  end
end

local function wanted(path)
  if path == nil or path:sub(1, #prefix) ~= prefix then
    return false
  end
  for _, e in ipairs(excludes) do
    if path:sub(1, #e) == e then
      return false
    end
  end
  return true
end

function on_syscall(ev)
  if not wanted(ev.fdpath) then
    return
  end
  if hermes.rand() < probability then
    hermes.deny(errno)
  end
end
