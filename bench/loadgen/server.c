/*
 * weft bench load generator: `--mode=server`, a tiny epoll WebSocket echo server.
 *
 * The client-side rows measure a Node client's CPU per message, so the server on the other end
 * must be fixed (the same for weft's and ws's client) and cheap (it shares the 2 cores). This one
 * echoes frame by frame as bytes arrive: a frame header is answered with an unmasked header of the
 * same length, and payload bytes are unmasked straight into the output buffer, so a 1 MiB message
 * is never held whole. Pings get pongs; a close gets a close back, then the server ends TCP first.
 * No extensions are negotiated.
 */
#include "lg.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 70000
#define OUT_HIGH (8u << 20) /* stop reading a peer that does not read its echoes */

typedef struct {
  int open, upgraded, closing, reading, want_out;
  char head[4096];
  int head_len;
  frame_rx rx;
  uint8_t ctrl[128];
  int ctrl_len;
  uint8_t *out;
  size_t out_len, out_off, out_cap;
} sconn;

static sconn *S[MAX_FD];
static int epfd;

static void update_events(int fd, sconn *s) {
  int out = s->out_off < s->out_len;
  int in = s->reading && !s->closing;
  struct epoll_event ev = {.events = (in ? EPOLLIN : 0) | (out ? EPOLLOUT : 0) | EPOLLRDHUP,
                           .data.fd = fd};
  if (s->closing) ev.events |= EPOLLIN; /* still read, to see the peer's EOF */
  epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
  s->want_out = out;
}

static uint8_t *out_reserve(sconn *s, size_t n) {
  if (s->out_off == s->out_len) s->out_off = s->out_len = 0;
  if (s->out_len + n > s->out_cap) {
    if (s->out_off > 0) { /* compact before growing */
      memmove(s->out, s->out + s->out_off, s->out_len - s->out_off);
      s->out_len -= s->out_off;
      s->out_off = 0;
    }
    size_t cap = s->out_cap ? s->out_cap : 65536;
    while (cap < s->out_len + n) cap *= 2;
    if (cap != s->out_cap) {
      s->out = realloc(s->out, cap);
      s->out_cap = cap;
    }
  }
  uint8_t *p = s->out + s->out_len;
  s->out_len += n;
  return p;
}

static void sclose(int fd) {
  sconn *s = S[fd];
  if (!s) return;
  close(fd);
  free(s->out);
  free(s);
  S[fd] = NULL;
}

static int sflush(int fd, sconn *s) {
  while (s->out_off < s->out_len) {
    ssize_t w = write(fd, s->out + s->out_off, s->out_len - s->out_off);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return -1;
    }
    s->out_off += (size_t)w;
  }
  if (s->out_off == s->out_len) {
    s->out_off = s->out_len = 0;
    if (s->out_cap > (1u << 20)) { /* give back memory after a burst of large frames */
      free(s->out);
      s->out = NULL;
      s->out_cap = 0;
    }
    if (s->closing == 1) {
      shutdown(fd, SHUT_WR); /* close frame sent: the server ends TCP first (RFC 6455 7.1.1) */
      s->closing = 2;
    }
  }
  int reading = s->out_len - s->out_off < OUT_HIGH;
  int want_out = s->out_off < s->out_len;
  if (reading != s->reading || want_out != s->want_out) {
    s->reading = reading;
    update_events(fd, s);
  }
  return 0;
}

static int handshake(sconn *s, const uint8_t *p, size_t n, size_t *used) {
  int old = s->head_len;
  size_t room = sizeof s->head - 1 - (size_t)old, take = n < room ? n : room;
  memcpy(s->head + old, p, take);
  s->head_len += (int)take;
  s->head[s->head_len] = 0;
  char *end = strstr(s->head, "\r\n\r\n");
  if (!end) {
    *used = take;
    return s->head_len >= (int)sizeof s->head - 1 ? -1 : 0;
  }
  int hlen = (int)(end + 4 - s->head);
  s->head[hlen] = 0;
  *used = (size_t)(hlen - old);
  char key[64], accept[29];
  if (!http_header(s->head, "Sec-WebSocket-Key", key, sizeof key)) return -1;
  ws_accept_for(key, accept);
  char resp[256];
  int m = snprintf(resp, sizeof resp,
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                   accept);
  memcpy(out_reserve(s, (size_t)m), resp, (size_t)m);
  s->upgraded = 1;
  return 1;
}

static int frames(sconn *s, const uint8_t *p, size_t n) {
  for (;;) {
    frame_rx *r = &s->rx;
    if (!r->in_payload) {
      if (n == 0) return 0;
      long u = frame_rx_header(r, p, n);
      if (u < 0 || (r->in_payload && (!r->masked || r->rsv1))) return -1;
      p += u;
      n -= (size_t)u;
      if (!r->in_payload) return 0;
      s->ctrl_len = 0;
      if (r->opcode < 8) { /* echo the header now; the payload follows as it arrives */
        uint8_t *h = out_reserve(s, 14);
        size_t hl = ws_frame(h, r->fin, 0, r->opcode, NULL, r->len, NULL);
        s->out_len -= 14 - hl;
      }
    }
    size_t take = r->remain < n ? (size_t)r->remain : n;
    if (take) {
      if (r->opcode < 8) {
        uint8_t *d = out_reserve(s, take);
        memcpy(d, p, take);
        ws_mask(d, take, r->key, (size_t)(r->pos & 3));
      } else {
        memcpy(s->ctrl + s->ctrl_len, p, take);
        ws_mask(s->ctrl + s->ctrl_len, take, r->key, (size_t)(r->pos & 3));
        s->ctrl_len += (int)take;
      }
      p += take;
      n -= take;
      r->remain -= take;
      r->pos += take;
    }
    if (r->remain) return 0;
    if (r->opcode == 9 || r->opcode == 8) { /* ping -> pong, close -> close with the same code */
      uint8_t *h = out_reserve(s, 2 + (size_t)s->ctrl_len);
      ws_frame(h, 1, 0, r->opcode == 9 ? 10 : 8, s->ctrl, (size_t)s->ctrl_len, NULL);
      if (r->opcode == 8) {
        s->closing = 1;
        frame_rx_init(r);
        return 0; /* nothing after a close frame is read */
      }
    }
    frame_rx_init(r);
  }
}

static void on_read(int fd, sconn *s) {
  static uint8_t buf[256 * 1024];
  for (int i = 0; i < 8; i++) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0) {
      sclose(fd);
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      sclose(fd);
      return;
    }
    if (s->closing) continue; /* discard until EOF */
    const uint8_t *p = buf;
    size_t left = (size_t)n, used = 0;
    if (!s->upgraded) {
      int h = handshake(s, p, left, &used);
      if (h < 0) {
        sclose(fd);
        return;
      }
      p += used;
      left -= used;
    }
    if (left && frames(s, p, left) < 0) {
      sclose(fd);
      return;
    }
    if ((size_t)n < sizeof buf || s->out_len - s->out_off >= OUT_HIGH) break;
  }
  if (sflush(fd, s) < 0) sclose(fd);
}

int run_server(const opts_t *o) {
  raise_nofile(MAX_FD);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)o->port);
  inet_pton(AF_INET, o->host, &sa.sin_addr);
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 4096) != 0) {
    perror("loadgen server: bind/listen");
    return 1;
  }
  socklen_t sl = sizeof sa;
  getsockname(lfd, (struct sockaddr *)&sa, &sl);
  printf("{\"event\":\"listening\",\"port\":%d}\n", ntohs(sa.sin_port));
  fflush(stdout);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event lev = {.events = EPOLLIN, .data.fd = lfd};
  epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);
  struct epoll_event ev0 = {.events = EPOLLIN, .data.fd = 0}; /* stdin EOF = harness is gone */
  int watch_stdin = epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev0) == 0;
  uint64_t t_limit = now_ns() + (uint64_t)(o->max_time * 1e9);
  static struct epoll_event evs[1024];
  while (now_ns() < t_limit) {
    int n = epoll_wait(epfd, evs, 1024, 200);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == 0 && watch_stdin) {
        char b[64];
        if (read(0, b, sizeof b) <= 0) return 0;
        continue;
      }
      if (fd == lfd) {
        for (int k = 0; k < 256; k++) {
          int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (cfd < 0) break;
          if (cfd >= MAX_FD) {
            close(cfd);
            continue;
          }
          setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          sconn *s = calloc(1, sizeof *s);
          frame_rx_init(&s->rx);
          s->open = s->reading = 1;
          S[cfd] = s;
          struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = cfd};
          epoll_ctl(epfd, EPOLL_CTL_ADD, cfd, &ev);
        }
        continue;
      }
      sconn *s = S[fd];
      if (!s) continue;
      if (evs[i].events & EPOLLOUT) {
        if (sflush(fd, s) < 0) {
          sclose(fd);
          continue;
        }
      }
      if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_read(fd, s);
    }
  }
  return 0;
}
