/*
 * bench/peers/fanout-floor: the floor of a fan-out on this machine, the
 * peer of bench/streams.sh.  One process, one thread: it accepts clients
 * on 127.0.0.1:PORT, and when one of them sends a byte, it writes the same
 * small SSE chunk (as long as a list_changed event) to every client with
 * one send() each, as any server that pushes to N connections must.
 *
 *   cc -O2 -o floor floor.c && ./floor PORT
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXC  65536

static const char  event[] =
    "event: message\r\nid: g0123456789abcdef-1\r\ndata: "
    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}"
    "\r\n\r\n";

int
main(int argc, char **argv)
{
    int                 ls, ep, n, i, fd, one = 1, nc = 0, len;
    char                buf[256], chunk[512];
    static int          clients[MAXC];
    struct sockaddr_in  sa;
    struct epoll_event  ev, evs[256];

    if (argc < 2) {
        fprintf(stderr, "usage: floor PORT\n");
        return 2;
    }

    /* one chunk of HTTP/1.1 chunked encoding, as a stream writes it */

    len = snprintf(chunk, sizeof(chunk), "%zx\r\n%s\r\n",
                   sizeof(event) - 1, event);

    ls = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(atoi(argv[1]));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (bind(ls, (struct sockaddr *) &sa, sizeof(sa)) || listen(ls, 4096)) {
        perror("floor: bind/listen");
        return 1;
    }

    ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.fd = ls;
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);

    for ( ;; ) {
        n = epoll_wait(ep, evs, 256, -1);

        for (i = 0; i < n; i++) {
            fd = evs[i].data.fd;

            if (fd == ls) {
                fd = accept(ls, NULL, NULL);
                if (fd < 0 || nc == MAXC) {
                    continue;
                }

                fcntl(fd, F_SETFL, O_NONBLOCK);
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                clients[nc++] = fd;
                ev.events = EPOLLIN;
                ev.data.fd = fd;
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                continue;
            }

            if (read(fd, buf, sizeof(buf)) <= 0) {
                continue;
            }

            /* a trigger: the chunk to everyone */

            for (int k = 0; k < nc; k++) {
                if (clients[k] != fd) {
                    (void) send(clients[k], chunk, len, MSG_NOSIGNAL);
                }
            }
        }
    }
}
