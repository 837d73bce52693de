-- The benchmark's chaos script: fail one write in a thousand with EIO,
-- like strace -e inject=write:error=EIO:when=1000+1000.
hermes.trap{"write"}
function on_syscall(ev)
  if ev.nth % 1000 == 0 then
    return hermes.deny(hermes.EIO)
  end
end
