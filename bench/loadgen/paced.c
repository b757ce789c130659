/*
 * weft bench load generator: the independent pacing (--pacing=threads, echo mode only).
 *
 * One blocking thread per connection, one message in flight: each connection sends its next message
 * the moment its echo has arrived, without waiting for any other connection. The server then wakes
 * for one or a few messages at a time, as it would with many unrelated clients, instead of the
 * bursts the epoll loop (--pacing=epoll, one thread, K in flight) produces when it answers every
 * ready connection in one pass. Same output lines as the epoll echo mode.
 */
#include "lg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RXBUF (256 * 1024)

typedef struct {
  const opts_t *o;
  int idx, fd;
  uint8_t *plain;  /* the payload this connection sends, unmasked */
  uint8_t *frame;  /* the masked frame, built once */
  size_t frame_len;
  uint8_t *rx;
  size_t rx_have, rx_off;
  char key[32];      /* Sec-WebSocket-Key (random bytes are drawn by the main thread only) */
  uint8_t close_key[4];
  hist_t hist;
  uint64_t messages, bytes, errors;
  char first_error[128];
} pconn;

static int g_opened, g_failed, g_sending, g_measuring, g_stop;

static int get(int *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void set(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

static void note(pconn *c, const char *what) {
  if (c->errors++ == 0) snprintf(c->first_error, sizeof c->first_error, "%s", what);
}

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* At least one more byte in c->rx (one read: whatever the socket holds, up to RXBUF). */
static int fill(pconn *c) {
  if (c->rx_off == c->rx_have) c->rx_off = c->rx_have = 0;
  for (;;) {
    ssize_t r = read(c->fd, c->rx + c->rx_have, RXBUF - c->rx_have);
    if (r > 0) {
      c->rx_have += (size_t)r;
      return 0;
    }
    if (r < 0 && errno == EINTR) continue;
    return -1; /* EOF, error or the receive timeout */
  }
}

/* --raw: reads exactly `size` bytes and checks them against what was sent. */
static int read_raw_echo(pconn *c) {
  size_t got = 0, size = c->o->size;
  while (got < size) {
    if (c->rx_off == c->rx_have && fill(c) < 0) return note(c, "read failed or EOF"), -1;
    size_t avail = c->rx_have - c->rx_off;
    size_t take = size - got < avail ? size - got : avail;
    if (memcmp(c->plain + got, c->rx + c->rx_off, take) != 0) return note(c, "echo payload differs"), -1;
    got += take;
    c->rx_off += take;
  }
  return 0;
}

/* Reads one whole echo and checks it against what was sent. */
static int read_echo(pconn *c) {
  const opts_t *o = c->o;
  if (o->raw) return read_raw_echo(c);
  frame_rx r;
  size_t got = 0;
  int want_op = o->text ? 1 : 2, first = 1;
  for (;;) {
    frame_rx_init(&r);
    while (!r.in_payload) {
      if (c->rx_off == c->rx_have && fill(c) < 0) return note(c, "read failed or EOF"), -1;
      long u = frame_rx_header(&r, c->rx + c->rx_off, c->rx_have - c->rx_off);
      if (u < 0) return note(c, "malformed frame header"), -1;
      c->rx_off += (size_t)u;
    }
    if (r.masked) return note(c, "server frame is masked"), -1;
    if (r.opcode >= 8) return note(c, "unexpected control frame"), -1;
    if (first ? r.opcode != want_op : r.opcode != 0) return note(c, "message type differs"), -1;
    if (got + r.len > o->size) return note(c, "echo longer than sent"), -1;
    while (r.remain > 0) {
      if (c->rx_off == c->rx_have && fill(c) < 0) return note(c, "read failed or EOF"), -1;
      size_t avail = c->rx_have - c->rx_off;
      size_t take = r.remain < avail ? (size_t)r.remain : avail;
      if (memcmp(c->plain + got, c->rx + c->rx_off, take) != 0) return note(c, "echo payload differs"), -1;
      got += take;
      c->rx_off += take;
      r.remain -= take;
    }
    first = 0;
    if (r.fin) break;
  }
  if (got != o->size) return note(c, "message length differs"), -1;
  return 0;
}

static int handshake(pconn *c) {
  const opts_t *o = c->o;
  if (o->raw) return 0; /* --raw: bytes from the first write on */
  const char *key = c->key;
  char req[512], want[29], accept[64];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                   o->path, o->host, o->port, key);
  if (write_all(c->fd, (const uint8_t *)req, (size_t)n) < 0) return note(c, "handshake write failed"), -1;
  char *end = NULL;
  while (!end) {
    if (c->rx_have >= 4096 || fill(c) < 0) return note(c, "no 101 response"), -1;
    c->rx[c->rx_have] = 0;
    end = strstr((char *)c->rx, "\r\n\r\n");
  }
  if (strncmp((char *)c->rx, "HTTP/1.1 101", 12) != 0) return note(c, "upgrade refused (no 101)"), -1;
  end[2] = 0;
  ws_accept_for(key, want);
  if (!http_header((char *)c->rx, "Sec-WebSocket-Accept", accept, sizeof accept) || strcmp(accept, want))
    return note(c, "bad Sec-WebSocket-Accept"), -1;
  c->rx_off = (size_t)(end + 4 - (char *)c->rx); /* the server sends nothing before our first frame */
  return 0;
}

static void *conn_main(void *arg) {
  pconn *c = arg;
  const opts_t *o = c->o;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct timeval tv = {10, 0}; /* a stuck server fails the run instead of hanging it */
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)o->port);
  inet_pton(AF_INET, o->host, &sa.sin_addr);
  if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    note(c, "connect failed");
    __atomic_add_fetch(&g_failed, 1, __ATOMIC_ACQ_REL);
    return NULL;
  }
  if (handshake(c) < 0) {
    __atomic_add_fetch(&g_failed, 1, __ATOMIC_ACQ_REL);
    return NULL;
  }
  __atomic_add_fetch(&g_opened, 1, __ATOMIC_ACQ_REL);
  while (!get(&g_sending) && !get(&g_stop)) sleep_s(0.001);
  while (get(&g_sending)) {
    uint64_t t = now_ns();
    if (write_all(c->fd, c->frame, c->frame_len) < 0) {
      note(c, "write failed");
      break;
    }
    if (read_echo(c) < 0) break;
    if (get(&g_measuring)) {
      hist_add(&c->hist, now_ns() - t);
      c->messages++;
      c->bytes += o->size;
    }
  }
  if (o->raw) {
    /* End our side and wait for the server to end its own. */
    shutdown(c->fd, SHUT_WR);
    while (fill(c) == 0) c->rx_off = c->rx_have;
    close(c->fd);
    return NULL;
  }
  /* Close politely (1000) and wait for the server to close TCP. */
  uint8_t frame[16], code[2] = {0x03, 0xE8};
  size_t n = ws_frame(frame, 1, 0, 8, code, 2, c->close_key);
  if (write_all(c->fd, frame, n) == 0) {
    while (fill(c) == 0) c->rx_off = c->rx_have;
  }
  close(c->fd);
  return NULL;
}

int run_paced(const opts_t *o) {
  int n = o->conns;
  pconn *cs = calloc((size_t)n, sizeof(pconn));
  pthread_t *th = calloc((size_t)n, sizeof(pthread_t));
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 256 * 1024);
  raise_nofile(n + 1024L);
  for (int i = 0; i < n; i++) {
    pconn *c = &cs[i];
    c->o = o;
    c->idx = i;
    c->plain = malloc(o->size ? o->size : 1);
    if (o->text) {
      for (size_t j = 0; j < o->size; j++) c->plain[j] = (uint8_t)(' ' + rng_next() % 95);
    } else {
      rng_fill(c->plain, o->size);
    }
    uint8_t raw[16], key[4];
    rng_fill(raw, 16);
    base64(raw, 16, c->key);
    rng_fill(c->close_key, 4);
    rng_fill(key, 4);
    c->frame = malloc(o->size + 14);
    if (o->raw) {
      memcpy(c->frame, c->plain, o->size);
      c->frame_len = o->size;
    } else {
      c->frame_len = ws_frame(c->frame, 1, 0, o->text ? 1 : 2, c->plain, o->size, key);
    }
    c->rx = malloc(RXBUF + 1);
  }
  for (int i = 0; i < n; i++) pthread_create(&th[i], &at, conn_main, &cs[i]);

  uint64_t t_begin = now_ns();
  while (get(&g_opened) + get(&g_failed) < n && now_ns() - t_begin < (uint64_t)(o->max_time * 1e9)) sleep_s(0.002);
  int ok = get(&g_opened) == n;
  uint64_t t0 = 0, t1 = 0;
  double cpu0 = 0, cpu1 = 0;
  if (ok) {
    emit_event("open");
    set(&g_sending, 1);
    sleep_s(o->warmup);
    cpu0 = cpu_seconds();
    t0 = now_ns();
    set(&g_measuring, 1);
    emit_event("start");
    sleep_s(o->duration);
    set(&g_measuring, 0);
    cpu1 = cpu_seconds();
    t1 = now_ns();
    emit_event("end");
  }
  set(&g_sending, 0);
  set(&g_stop, 1);
  for (int i = 0; i < n; i++) pthread_join(th[i], NULL);

  hist_t *h = calloc(1, sizeof(hist_t));
  uint64_t messages = 0, bytes = 0, errors = 0;
  const char *first_error = "";
  for (int i = 0; i < n; i++) {
    pconn *c = &cs[i];
    for (int b = 0; b < HIST_BUCKETS; b++) h->count[b] += c->hist.count[b];
    h->n += c->hist.n;
    if (c->hist.max > h->max) h->max = c->hist.max;
    messages += c->messages;
    bytes += c->bytes;
    errors += c->errors;
    if (!first_error[0] && c->first_error[0]) first_error = c->first_error;
  }
  if (!ok && !first_error[0]) first_error = "not every connection opened";
  double secs = t1 > t0 ? (double)(t1 - t0) / 1e9 : 0;
  printf("{\"mode\":\"echo\",\"pacing\":\"threads\",\"conns\":%d,\"inflight\":1,\"size\":%zu,\"opened\":%d,"
         "\"seconds\":%.4f,\"messages\":%llu,\"bytes\":%llu,\"msg_per_s\":%.1f,"
         "\"p50_us\":%.2f,\"p99_us\":%.2f,\"max_us\":%.2f,\"cpu_s\":%.4f,\"cpu_pct\":%.1f,"
         "\"errors\":%llu,\"first_error\":\"%s\",\"extensions\":\"\"}\n",
         n, o->size, get(&g_opened), secs, (unsigned long long)messages, (unsigned long long)bytes,
         secs ? messages / secs : 0, hist_pct(h, 0.5) / 1e3, hist_pct(h, 0.99) / 1e3, h->max / 1e3,
         cpu1 - cpu0, secs ? (cpu1 - cpu0) / secs * 100 : 0, (unsigned long long)errors, first_error);
  fflush(stdout);
  return ok ? 0 : 3;
}
