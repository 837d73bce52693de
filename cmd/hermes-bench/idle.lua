-- Traps a syscall the benchmark's loop never makes: the cost of a script
-- that is loaded but never called.
hermes.trap{"mkdirat"}
function on_syscall(ev)
  return hermes.deny(hermes.EACCES)
end
