/* bench-httpd: a minimal loopback HTTP/1.1 server for the fetch benchmark.
 * One thread, epoll, keep-alive; every GET gets the same page of SIZE bytes
 * (default 10000) with a Content-Length. Binds 127.0.0.1 on a free port,
 * prints the port, and exits after SECONDS (default 300). Not a general
 * server: it exists so the benchmark measures the clients, not Python. */
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
#include <time.h>
#include <unistd.h>

#define MAX_FD 65536

struct conn {
    char in[8192];
    size_t in_len;
    size_t out_off;   /* bytes of the current response already sent */
    unsigned pending; /* responses owed */
};

static struct conn *conns[MAX_FD];
static char *resp;
static size_t resp_len;

static void drop(int ep, int fd)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    free(conns[fd]);
    conns[fd] = NULL;
}

/* Sends what is owed; 0, or -1 if the connection must go. */
static int flush_out(int ep, int fd, struct conn *c)
{
    while (c->pending > 0) {
        ssize_t n = write(fd, resp + c->out_off, resp_len - c->out_off);
        if (n < 0) {
            if (errno == EAGAIN) {
                struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.fd = fd};
                epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
                return 0;
            }
            return -1;
        }
        c->out_off += (size_t)n;
        if (c->out_off == resp_len) {
            c->out_off = 0;
            c->pending--;
        }
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
    return 0;
}

int main(int argc, char **argv)
{
    size_t size = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    int secs = argc > 2 ? atoi(argv[2]) : 300;
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);
    int one = 1, ls, ep;
    time_t end = time(NULL) + secs;

    resp = malloc(size + 256);
    if (resp == NULL) {
        return 1;
    }
    resp_len = (size_t)snprintf(resp, 256,
                                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                                "Content-Length: %zu\r\n\r\n",
                                size);
    for (size_t i = 0; i < size; i++) {
        resp[resp_len + i] = "<p>lorem ipsum dolor sit amet</p>\n"[i % 35];
    }
    resp_len += size;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 4096) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &alen) != 0) {
        perror("bench-httpd");
        return 1;
    }
    printf("%d\n", ntohs(a.sin_port));
    fflush(stdout);
    ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    while (time(NULL) < end) {
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, 1000);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int cfd;
                while ((cfd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (cfd >= MAX_FD) {
                        close(cfd);
                        continue;
                    }
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    conns[cfd] = calloc(1, sizeof(struct conn));
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = cfd};
                    epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev);
                }
                continue;
            }
            struct conn *c = conns[fd];
            if (c == NULL) {
                continue;
            }
            if (evs[i].events & EPOLLIN) {
                ssize_t r = read(fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
                if (r <= 0) {
                    if (r < 0 && errno == EAGAIN) {
                        continue;
                    }
                    drop(ep, fd);
                    continue;
                }
                c->in_len += (size_t)r;
                char *p;
                while ((p = memmem(c->in, c->in_len, "\r\n\r\n", 4)) != NULL) {
                    size_t used = (size_t)(p - c->in) + 4;
                    memmove(c->in, c->in + used, c->in_len - used);
                    c->in_len -= used;
                    c->pending++;
                }
                if (c->in_len == sizeof(c->in)) {
                    drop(ep, fd);
                    continue;
                }
            }
            if (flush_out(ep, fd, c) != 0) {
                drop(ep, fd);
            }
        }
    }
    return 0;
}
