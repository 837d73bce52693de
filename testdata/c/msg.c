/*
 * msg: sendmsg and recvmsg over a socket pair.
 *
 * Usage: msg
 * Sends "hello, " and "msghdr\n" as two iovecs with one sendmsg(2), with
 * the sender's credentials as control data (SCM_CREDENTIALS), receives
 * them with one recvmsg(2) into one buffer and writes what it got to
 * stdout. Exits 0, or 1 if a call fails.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void)
{
	int sv[2], on = 1;
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
		return 1;
	if (setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0)
		return 1;
	struct iovec out[2] = {{"hello, ", 7}, {"msghdr\n", 7}};
	struct msghdr m = {.msg_iov = out, .msg_iovlen = 2};
	if (sendmsg(sv[0], &m, 0) != 14)
		return 1;
	char buf[64], ctl[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec in = {buf, sizeof buf};
	struct msghdr r = {.msg_iov = &in, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
	ssize_t n = recvmsg(sv[1], &r, 0);
	if (n != 14 || r.msg_controllen == 0)
		return 1;
	return write(1, buf, n) == n ? 0 : 1;
}
