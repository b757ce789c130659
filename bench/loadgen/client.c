/*
 * weft bench load generator: client connections. Everything here is non-blocking and correct under
 * partial reads and writes: the response head and frame headers may arrive split anywhere, and a
 * write may take any prefix of what is offered (the rest waits for EPOLLOUT).
 */
#include "client.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

run_t G;

void fail_note(const char *what) {
  if (G.errors++ == 0) snprintf(G.first_error, sizeof G.first_error, "%s", what);
}

static void set_events(conn *c, int out) {
  struct epoll_event ev;
  ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
  ev.data.u64 = (uint64_t)c->gen << 32 | (uint32_t)c->idx;
  epoll_ctl(G.epfd, EPOLL_CTL_MOD, c->fd, &ev);
  c->want_out = out;
}

int ctl_append(conn *c, const uint8_t *p, size_t n) {
  if (c->ctl_off == c->ctl_len) c->ctl_off = c->ctl_len = 0;
  if (c->ctl_len + n > CTL_CAP && c->ctl_off > 0) {
    memmove(c->ctl, c->ctl + c->ctl_off, (size_t)(c->ctl_len - c->ctl_off));
    c->ctl_len -= c->ctl_off;
    c->ctl_off = 0;
  }
  if (c->ctl_len + n > CTL_CAP) return -1;
  memcpy(c->ctl + c->ctl_len, p, n);
  c->ctl_len += (int)n;
  return 0;
}

int conn_start(conn *c) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fail_note("socket() failed (fd limit?)");
    return -1;
  }
  int one = 1;
  /* Small frames must leave at once: Nagle would add up to 40 ms to the latency we report. */
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (G.o.bind) {
    /* A source address of our own: its ephemeral ports are counted apart from other sources'.
     * IP_BIND_ADDRESS_NO_PORT leaves the port to connect(), which picks it per destination (a bind
     * with port 0 would reserve one for every destination, ~28k ports in all). */
    struct sockaddr_in src = {0};
    src.sin_family = AF_INET;
    inet_pton(AF_INET, G.o.bind, &src.sin_addr);
#ifdef IP_BIND_ADDRESS_NO_PORT
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
      fail_note(strerror(errno));
      close(fd);
      return -1;
    }
  }
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)G.o.port);
  inet_pton(AF_INET, G.o.host, &sa.sin_addr);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
    fail_note(strerror(errno));
    close(fd);
    return -1;
  }
  c->fd = fd;
  c->gen++;
  c->state = S_CONNECTING;
  c->t_start = G.now;
  c->head_len = 0;
  c->ctl_len = c->ctl_off = 0;
  c->next_seq = c->tx_queued = c->recv_seq = 0;
  c->tx_off = 0;
  c->msg_active = 0;
  c->got_close = 0;
  frame_rx_init(&c->rx);
  G.pending++;

  uint8_t raw[16];
  rng_fill(raw, 16);
  base64(raw, 16, c->key);
  char req[512];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                   G.o.path, G.o.host, G.o.port, c->key,
                   G.o.deflate ? "Sec-WebSocket-Extensions: permessage-deflate; "
                                 "client_no_context_takeover\r\n"
                               : "");
  ctl_append(c, (const uint8_t *)req, (size_t)n);

  struct epoll_event ev;
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u64 = (uint64_t)c->gen << 32 | (uint32_t)c->idx;
  epoll_ctl(G.epfd, EPOLL_CTL_ADD, fd, &ev);
  c->want_out = 1;
  return 0;
}

void conn_close(conn *c) {
  if (c->fd < 0) return;
  if (c->state == S_CONNECTING || c->state == S_HANDSHAKE) G.pending--;
  close(c->fd); /* also removes it from the epoll set */
  c->fd = -1;
  c->state = S_DONE;
#ifdef HAVE_ZLIB
  if (c->inf) {
    inflateEnd(c->inf);
    free(c->inf);
    c->inf = NULL;
  }
#endif
}

/* Closes after an error and tells the mode; always returns -1 so callers can `return drop(c)`. */
static int drop(conn *c) {
  conn_close(c);
  on_closed(c, 0);
  return -1;
}

static int proto_fail(conn *c, const char *what) {
  fail_note(what);
  return drop(c);
}

int conn_flush(conn *c) {
  for (int rounds = 0; rounds < 64; rounds++) {
    struct iovec iov[64];
    int cnt = 0;
    if (c->ctl_off < c->ctl_len)
      iov[cnt++] = (struct iovec){c->ctl + c->ctl_off, (size_t)(c->ctl_len - c->ctl_off)};
    uint64_t seq = c->next_seq - c->tx_queued;
    size_t off = c->tx_off;
    /* Several frames per writev: with K messages in flight one syscall carries them all. */
    for (uint64_t i = 0; i < c->tx_queued && cnt < 64; i++, seq++) {
      int f = (int)(seq % POOL);
      iov[cnt++] = (struct iovec){G.frames[f] + off, G.frame_len[f] - off};
      off = 0;
    }
    if (cnt == 0) break;
    ssize_t w = writev(c->fd, iov, cnt);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        if (!c->want_out) set_events(c, 1);
        return 0;
      }
      return proto_fail(c, strerror(errno));
    }
    size_t left = (size_t)w;
    if (c->ctl_off < c->ctl_len) {
      size_t r = (size_t)(c->ctl_len - c->ctl_off);
      size_t t = left < r ? left : r;
      c->ctl_off += (int)t;
      left -= t;
    }
    while (left > 0 && c->tx_queued > 0) {
      int f = (int)((c->next_seq - c->tx_queued) % POOL);
      size_t r = G.frame_len[f] - c->tx_off;
      if (left >= r) {
        left -= r;
        c->tx_off = 0;
        c->tx_queued--;
      } else {
        c->tx_off += left;
        left = 0;
      }
    }
  }
  int more = c->ctl_off < c->ctl_len || c->tx_queued > 0;
  if (more != c->want_out) set_events(c, more);
  return 0;
}

void conn_send_close(conn *c) {
  uint8_t frame[16], key[4], code[2] = {0x03, 0xE8}; /* 1000 */
  rng_fill(key, 4);
  size_t n = ws_frame(frame, 1, 0, 8, code, 2, key);
  ctl_append(c, frame, n);
  c->state = S_CLOSING;
  conn_flush(c);
}

#ifdef HAVE_ZLIB
/* Inflates part of a compressed message and hands the output to the mode, piece by piece. */
static int inflate_feed(conn *c, const uint8_t *p, size_t n) {
  static uint8_t out[65536];
  z_stream *z = c->inf;
  z->next_in = (Bytef *)p;
  z->avail_in = (uInt)n;
  for (int guard = 0; guard < 1 << 20; guard++) {
    z->next_out = out;
    z->avail_out = sizeof out;
    int r = inflate(z, Z_SYNC_FLUSH);
    if (r != Z_OK && r != Z_BUF_ERROR && r != Z_STREAM_END) return proto_fail(c, "inflate error");
    size_t got = sizeof out - z->avail_out;
    if (got && on_data(c, out, got) < 0) return drop(c);
    if (r == Z_STREAM_END) inflateReset(z);
    if (z->avail_in == 0 && z->avail_out != 0) break;
    if (r == Z_BUF_ERROR && got == 0) break;
  }
  return 0;
}
#endif

static int frame_begin(conn *c) {
  frame_rx *r = &c->rx;
  if (r->opcode >= 8) {
    if (r->rsv1) return proto_fail(c, "RSV1 on a control frame");
    c->ctrl_len = 0;
    return 0;
  }
  if (r->opcode == 0) {
    if (!c->msg_active) return proto_fail(c, "continuation without a message");
    if (r->rsv1) return proto_fail(c, "RSV1 on a continuation frame");
    return 0;
  }
  if (c->msg_active) return proto_fail(c, "new message inside a fragmented one");
#ifdef HAVE_ZLIB
  if (r->rsv1 && !c->inf) return proto_fail(c, "RSV1 without permessage-deflate");
#else
  if (r->rsv1) return proto_fail(c, "RSV1 without permessage-deflate");
#endif
  c->msg_active = 1;
  c->msg_opcode = r->opcode;
  c->msg_compressed = r->rsv1;
  c->msg_off = 0;
  return 0;
}

static int frame_data(conn *c, const uint8_t *p, size_t n) {
  if (c->rx.opcode >= 8) {
    memcpy(c->ctrl_buf + c->ctrl_len, p, n); /* <= 125 bytes, checked by the header parser */
    c->ctrl_len += (int)n;
    return 0;
  }
#ifdef HAVE_ZLIB
  if (c->msg_compressed) return inflate_feed(c, p, n);
#endif
  if (on_data(c, p, n) < 0) return drop(c);
  return 0;
}

static int frame_end(conn *c) {
  frame_rx *r = &c->rx;
  if (r->opcode == 8) {
    c->got_close = 1;
    if (c->state != S_CLOSING) return proto_fail(c, "server closed the connection");
    return 0; /* the server closes TCP next: waiting for its EOF keeps TIME_WAIT off our ports */
  }
  if (r->opcode == 9) { /* ping: answer with a masked pong carrying the same payload */
    uint8_t frame[160], key[4];
    rng_fill(key, 4);
    size_t n = ws_frame(frame, 1, 0, 10, c->ctrl_buf, (size_t)c->ctrl_len, key);
    if (ctl_append(c, frame, n) < 0) return proto_fail(c, "control queue full");
    return 0;
  }
  if (r->opcode == 10) return 0;
  if (!r->fin) return 0;
#ifdef HAVE_ZLIB
  if (c->msg_compressed) {
    /* RFC 7692 7.2.2: the sender strips the 00 00 ff ff tail of a sync flush; put it back. */
    static const uint8_t tail[4] = {0, 0, 0xff, 0xff};
    if (inflate_feed(c, tail, 4) < 0) return -1;
    if (G.server_no_ctx) inflateReset(c->inf);
  }
#endif
  c->msg_active = 0;
  if (on_message(c) < 0) return drop(c);
  return 0;
}

/* Feeds frame bytes; returns -1 if the connection was dropped. */
static int frames_read(conn *c, const uint8_t *p, size_t n) {
  for (;;) {
    frame_rx *r = &c->rx;
    if (!r->in_payload) {
      if (n == 0) return 0;
      long u = frame_rx_header(r, p, n);
      if (u < 0) return proto_fail(c, "malformed frame header");
      p += u;
      n -= (size_t)u;
      if (!r->in_payload) return 0;
      if (r->masked) return proto_fail(c, "server frame is masked");
      if (frame_begin(c) < 0) return -1;
    }
    size_t take = r->remain < n ? (size_t)r->remain : n;
    if (take) {
      if (frame_data(c, p, take) < 0) return -1;
      p += take;
      n -= take;
      r->remain -= take;
      r->pos += take;
    }
    if (r->remain) return 0;
    int rc = frame_end(c);
    if (rc < 0) return -1;
    frame_rx_init(r);
  }
}

/* Collects the 101 response head; returns bytes consumed, or -1 if the connection was dropped. */
static long handshake_read(conn *c, const uint8_t *p, size_t n) {
  int old = c->head_len;
  size_t room = HEAD_CAP - 1 - (size_t)old;
  size_t take = n < room ? n : room;
  memcpy(c->head + old, p, take);
  c->head_len += (int)take;
  c->head[c->head_len] = 0;
  char *end = strstr(c->head + (old > 3 ? old - 3 : 0), "\r\n\r\n");
  if (!end) {
    if (c->head_len >= HEAD_CAP - 1) return proto_fail(c, "response head too long");
    return (long)take;
  }
  int hlen = (int)(end + 4 - c->head);
  c->head[hlen] = 0;
  if (strncmp(c->head, "HTTP/1.1 101", 12) != 0) return proto_fail(c, "upgrade refused (no 101)");
  char accept[64], want[29], ext[160] = "";
  ws_accept_for(c->key, want);
  if (!http_header(c->head, "Sec-WebSocket-Accept", accept, sizeof accept) || strcmp(accept, want))
    return proto_fail(c, "bad Sec-WebSocket-Accept");
  http_header(c->head, "Sec-WebSocket-Extensions", ext, sizeof ext);
  if (G.extensions[0] == 0 && ext[0]) {
    snprintf(G.extensions, sizeof G.extensions, "%s", ext);
    G.server_no_ctx = strstr(ext, "server_no_context_takeover") != NULL;
  }
  if (G.o.deflate) {
    if (!strstr(ext, "permessage-deflate")) {
      G.fatal = 1;
      return proto_fail(c, "permessage-deflate not negotiated");
    }
#ifdef HAVE_ZLIB
    c->inf = calloc(1, sizeof(z_stream));
    if (!c->inf || inflateInit2(c->inf, -15) != Z_OK) return proto_fail(c, "inflateInit2 failed");
#endif
  } else if (ext[0]) {
    return proto_fail(c, "server accepted an extension we did not offer");
  }
  c->state = S_OPEN;
  G.pending--;
  G.opened++;
  on_open(c);
  if (c->fd < 0) return -1;
  return (long)(hlen - old);
}

void conn_readable(conn *c) {
  static uint8_t buf[256 * 1024];
  if (c->state == S_CONNECTING) return; /* wait for writability, which reports the connect result */
  for (int i = 0; i < 8; i++) {
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n > 0) {
      const uint8_t *p = buf;
      size_t left = (size_t)n;
      if (c->state == S_HANDSHAKE) {
        long u = handshake_read(c, p, left);
        if (u < 0) return;
        p += u;
        left -= (size_t)u;
      }
      if (left && frames_read(c, p, left) < 0) return;
      if ((size_t)n < sizeof buf) break; /* drained: no need for a read that says EAGAIN */
      continue;
    }
    if (n == 0) {
      int clean = c->state == S_CLOSING && c->got_close;
      if (!clean) fail_note(c->state == S_CLOSING ? "EOF before the close frame" : "unexpected EOF");
      conn_close(c);
      on_closed(c, clean);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) break;
    proto_fail(c, strerror(errno));
    return;
  }
  if (c->ctl_off < c->ctl_len || c->tx_queued > 0) conn_flush(c);
}

void conn_writable(conn *c) {
  if (c->state == S_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      proto_fail(c, strerror(err));
      return;
    }
    c->state = S_HANDSHAKE;
  }
  conn_flush(c);
}
