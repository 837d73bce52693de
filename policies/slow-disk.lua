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
local prefix = hermes.param("prefix", "/")
local calls = {}
for name in hermes.param("syscalls", "read,write,pread64,pwrite64,readv,writev,fsync,fdatasync"):gmatch("[^,%s]+") do
  calls[#calls + 1] = name
end
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
  if wanted(ev.fdpath) then
    hermes.delay(ms + jitter * hermes.rand())
  end
end
