/*
 * weft bench load generator (C, epoll, one thread).
 *
 *   loadgen --mode=echo    --port=P --conns=50 --inflight=4 --size=32 [--text] [--deflate]
 *   loadgen --mode=echo    --port=P --conns=50 --pacing=threads --size=32 [--text]
 *                          one blocking thread per connection, one message in flight each: every
 *                          connection sends its next message as soon as its own echo is back
 *   loadgen --mode=echo    --port=P --conns=50 --pacing=threads --raw --size=32
 *                          the same with no WebSocket at all (a transport benchmark, bench/transport.js):
 *                          no upgrade, `size` raw bytes out, the same bytes back, checked
 *   loadgen --mode=connect --port=P --conns=C            connect/upgrade/close cycles, C at a time
 *   loadgen --mode=fanout  --port=P --conns=M [--inflight=2] [--size=32] [--publishers=1]
 *                          M subscribers and K publishers (connections of their own, which hear every
 *                          broadcast too); each publisher keeps --inflight publishes of its own in flight
 *                          and sends the next as soon as one has reached every subscriber
 *   loadgen --mode=idle    --port=P --conns=10000        open, report, hold until stdin says so
 *           [--prime --size=S [--deflate]]              ... after one echoed message per connection
 *   loadgen --mode=server  --port=0                      tiny echo server (client-side rows)
 *   common: --warmup=0.3 --duration=1.5 --max-time=60 --handshakes=256 --host=127.0.0.1
 *           --bind=ADDR (source address, e.g. 127.0.0.2: its own ~28k ephemeral ports per destination)
 *           --close-time=5 (seconds the closing handshakes may take at the end; idle mode counts
 *           those unfinished then as errors; the result's closed_clean counts those that finished)
 *
 * Output: one JSON line per phase change ({"event":"open"|"start"|"end"|"ready"}) so the harness
 * can open and close the server's measuring window at the same moments, then one JSON line with the
 * results of the measured window, including this process's own CPU time (getrusage), so a reader can
 * check that the load generator was not the bottleneck.
 *
 * Built by bench/run.js: cc -O2 -DHAVE_ZLIB bench/loadgen.c bench/loadgen/{util,client,server,paced}.c -lz -lpthread
 */
#include "loadgen/client.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

enum { PH_CONNECT, PH_PRIME, PH_WARMUP, PH_WINDOW, PH_DRAIN, PH_HOLD, PH_CLOSE, PH_END };
#define STDIN_TAG UINT64_MAX
#define FAN_SLOTS 64

static int phase;
static uint64_t t_next, t0, t1;
static double cpu0, cpu1;
static hist_t hist;
static uint64_t messages, bytes, self_deliveries;
static int opcode_want;
static int stdin_said;
static int primed;      /* idle --prime: connections whose one message came back */
static int closed_clean; /* connections whose close handshake completed in the close phase */
/* fanout: each publish in flight holds a slot (publisher p owns slots p*inflight .. p*inflight+inflight-1);
 * the payload's first 8 bytes say which: the slot in the top byte, the publish's sequence number below */
static uint64_t pub_seq, pub_done, pub_counted;
static uint64_t fan_ts[FAN_SLOTS], fan_seq[FAN_SLOTS];
static uint32_t fan_cnt[FAN_SLOTS];
#define FAN_SEQ_MASK ((1ULL << 56) - 1)
static uint8_t *fan_payload;

static int is(const char *m) { return strcmp(G.o.mode, m) == 0; }
/* idle --prime sends one message per connection (so that per-connection state such as zlib
 * contexts exists before memory is read) and checks its echo like the echo mode does */
static int echo_like(void) { return is("echo") || (is("idle") && G.o.prime); }

/* ---- payloads and prebuilt frames ---- */

static void make_payload(uint8_t *p, size_t n) {
  static const char *words[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
                                "hotel", "india", "juliet", "kilo", "lima", "mike", "november",
                                "oscar", "papa", "{\"id\":", "\"user\":", "\"text\":", "},"};
  if (G.o.deflate) { /* word salad: compresses about 3x, like JSON chatter */
    size_t i = 0;
    while (i < n) {
      const char *w = words[rng_next() % 20];
      for (; *w && i < n; w++) p[i++] = (uint8_t)*w;
      if (i < n) p[i++] = (uint8_t)(rng_next() % 3 ? ' ' : '0' + rng_next() % 10);
    }
  } else if (G.o.text) { /* printable ASCII: valid UTF-8 on every path */
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(' ' + rng_next() % 95);
  } else {
    rng_fill(p, n);
  }
}

static void build_pool(void) {
  for (int f = 0; f < POOL; f++) {
    size_t n = G.o.size;
    G.plain[f] = malloc(n ? n : 1);
    make_payload(G.plain[f], n);
    uint8_t key[4];
    rng_fill(key, 4);
    const uint8_t *body = G.plain[f];
    size_t blen = n;
    uint8_t *z = NULL;
#ifdef HAVE_ZLIB
    if (G.o.deflate) { /* compressed once: client_no_context_takeover makes every message standalone */
      z_stream s = {0};
      deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
      size_t cap = deflateBound(&s, n) + 16;
      z = malloc(cap);
      s.next_in = G.plain[f];
      s.avail_in = (uInt)n;
      s.next_out = z;
      s.avail_out = (uInt)cap;
      deflate(&s, Z_SYNC_FLUSH);
      blen = cap - s.avail_out - 4; /* strip 00 00 ff ff (RFC 7692 7.2.1) */
      deflateEnd(&s);
      body = z;
    }
#endif
    G.frames[f] = malloc(blen + 14);
    G.frame_len[f] = ws_frame(G.frames[f], 1, G.o.deflate, opcode_want, body, blen, key);
    free(z);
  }
}

/* ---- mode hooks (see client.h) ---- */

static void enqueue(conn *c) {
  c->ts[c->next_seq % (uint64_t)G.o.inflight] = G.now;
  c->next_seq++;
  c->tx_queued++;
}

/* a publish from the publisher that owns `slot` */
static void publish(int slot) {
  conn *pub = &G.conns[slot / G.o.inflight];
  if (pub->state != S_OPEN) return;
  uint64_t seq = pub_seq++, tag = seq | (uint64_t)slot << 56;
  memcpy(fan_payload, &tag, 8);
  uint8_t frame[512], key[4];
  rng_fill(key, 4);
  size_t n = ws_frame(frame, 1, 0, opcode_want, fan_payload, G.o.size, key);
  fan_ts[slot] = G.now;
  fan_seq[slot] = seq;
  fan_cnt[slot] = 0;
  if (ctl_append(pub, frame, n) < 0) fail_note("publisher queue full");
  conn_flush(pub);
}

void on_open(conn *c) {
  if (is("connect")) conn_send_close(c);
}

int on_data(conn *c, const uint8_t *p, size_t n) {
  if (echo_like()) {
    const uint8_t *want = G.plain[c->recv_seq % POOL];
    if (c->msg_off + n > G.o.size) return fail_note("echo longer than sent"), -1;
    if (memcmp(want + c->msg_off, p, n) != 0) return fail_note("echo payload differs"), -1;
  } else if (is("fanout")) {
    if (c->msg_off < 8) memcpy(c->head8 + c->msg_off, p, n < 8 - c->msg_off ? n : 8 - c->msg_off);
  } else {
    return fail_note("unexpected data message"), -1;
  }
  c->msg_off += n;
  return 0;
}

int on_message(conn *c) {
  if (c->msg_off != G.o.size) return fail_note("message length differs"), -1;
  if (c->msg_opcode != opcode_want) return fail_note("message type differs"), -1;
  if (echo_like()) {
    uint64_t seq = c->recv_seq++;
    primed++;
    if (G.measuring) {
      hist_add(&hist, G.now - c->ts[seq % (uint64_t)G.o.inflight]);
      messages++;
      bytes += G.o.size;
    }
    if (G.sending) enqueue(c); /* flushed once per read, with whatever else this read freed */
    return 0;
  }
  /* fanout */
  uint64_t tag;
  memcpy(&tag, c->head8, 8);
  uint64_t seq = tag & FAN_SEQ_MASK;
  int slot = (int)(tag >> 56), subscribers = G.nconns - G.o.publishers;
  if (seq >= pub_seq || slot >= G.o.publishers * G.o.inflight) return fail_note("fanout sequence unknown"), -1;
  if (G.measuring) messages++, bytes += G.o.size;
  if (c->idx < G.o.publishers) { /* publishers hear every broadcast too (ws README loop) */
    self_deliveries++;
    return 0;
  }
  /* a subscriber gets each publish once, and a slot is reused only when all have it */
  if (fan_seq[slot] != seq) return fail_note("fanout sequence unknown"), -1;
  if (++fan_cnt[slot] == (uint32_t)subscribers) {
    pub_done++;
    if (G.measuring) pub_counted++, hist_add(&hist, G.now - fan_ts[slot]);
    if (G.sending) publish(slot);
  }
  return 0;
}

void on_closed(conn *c, int clean) {
  if (clean && phase == PH_CLOSE) closed_clean++;
  if (!is("connect")) return;
  if (clean && G.measuring) {
    messages++;
    hist_add(&hist, G.now - c->t_start);
  }
  if (G.sending) conn_start(c); /* next cycle in the same slot */
}

/* ---- phases ---- */

static void begin_warmup(void) {
  phase = PH_WARMUP;
  G.sending = 1;
  t_next = G.now + (uint64_t)(G.o.warmup * 1e9);
  if (is("echo")) {
    for (int i = 0; i < G.nconns; i++) {
      conn *c = &G.conns[i];
      if (c->state != S_OPEN) continue;
      for (int k = 0; k < G.o.inflight; k++) enqueue(c);
      conn_flush(c);
    }
  } else if (is("fanout")) {
    for (int k = 0; k < G.o.publishers * G.o.inflight; k++) publish(k);
  } else if (is("connect")) {
    for (int i = 0; i < G.nconns; i++) conn_start(&G.conns[i]);
  }
}

static int drained(void) {
  if (is("fanout")) return pub_done == pub_seq;
  for (int i = 0; i < G.nconns; i++) {
    conn *c = &G.conns[i];
    if (c->fd < 0) continue;
    if (is("connect") || c->next_seq != c->recv_seq) return 0;
  }
  return 1;
}

static void begin_close(void) {
  phase = PH_CLOSE;
  t_next = G.now + (uint64_t)(G.o.close_time * 1e9);
  for (int i = 0; i < G.nconns; i++) {
    conn *c = &G.conns[i];
    if (c->fd < 0) continue;
    if (c->state == S_OPEN && c->tx_queued == 0) conn_send_close(c);
    else conn_close(c); /* never opened, or stuck mid-frame: nothing polite left to do */
  }
}

static int all_closed(void) {
  for (int i = 0; i < G.nconns; i++)
    if (G.conns[i].fd >= 0) return 0;
  return 1;
}

/* connect mode: restart slots whose cycle failed or stalled */
static void sweep_slots(void) {
  static uint64_t last;
  if (G.now - last < 200000000ull) return;
  last = G.now;
  for (int i = 0; i < G.nconns; i++) {
    conn *c = &G.conns[i];
    if (c->fd >= 0 && G.now - c->t_start > 5000000000ull) {
      fail_note("connect cycle stalled > 5 s");
      conn_close(c);
    }
    if (c->fd < 0 && G.sending) conn_start(c);
  }
}

static void print_result(void) {
  double secs = t1 > t0 ? (double)(t1 - t0) / 1e9 : 0;
  printf("{\"mode\":\"%s\",\"conns\":%d,\"inflight\":%d,\"size\":%zu,\"opened\":%d,"
         "\"seconds\":%.4f,\"messages\":%llu,\"bytes\":%llu,\"msg_per_s\":%.1f,"
         "\"p50_us\":%.2f,\"p99_us\":%.2f,\"max_us\":%.2f,\"cpu_s\":%.4f,\"cpu_pct\":%.1f,"
         "\"publishes\":%llu,\"self_deliveries\":%llu,\"closed_clean\":%d,\"errors\":%llu,"
         "\"first_error\":\"%s\",\"extensions\":\"%s\"}\n",
         G.o.mode, G.nconns, G.o.inflight, G.o.size, G.opened, secs,
         (unsigned long long)messages, (unsigned long long)bytes, secs ? messages / secs : 0,
         hist_pct(&hist, 0.5) / 1e3, hist_pct(&hist, 0.99) / 1e3, hist.max / 1e3, cpu1 - cpu0,
         secs ? (cpu1 - cpu0) / secs * 100 : 0, (unsigned long long)pub_counted,
         (unsigned long long)self_deliveries, closed_clean, (unsigned long long)G.errors, G.first_error,
         G.extensions);
  fflush(stdout);
}

int run_clients(const opts_t *o) {
  G.o = *o;
  opcode_want = (o->text || o->deflate) ? 1 : 2;
  G.nconns = is("fanout") ? o->conns + o->publishers : o->conns; /* fanout: publishers first */
  if (is("fanout") && (o->size < 8 || o->size > 400)) {
    fprintf(stderr, "fanout --size must be 8..400\n");
    return 2;
  }
  if (is("fanout")) fan_payload = calloc(1, o->size), make_payload(fan_payload, o->size);
  raise_nofile(G.nconns + 1024L);
  G.conns = calloc((size_t)G.nconns, sizeof(conn));
  for (int i = 0; i < G.nconns; i++) {
    G.conns[i].fd = -1;
    G.conns[i].idx = i;
    if (echo_like()) G.conns[i].ts = calloc((size_t)o->inflight, sizeof(uint64_t));
  }
  if (echo_like()) build_pool();
  G.epfd = epoll_create1(EPOLL_CLOEXEC);
  G.now = now_ns();
  uint64_t t_begin = G.now, t_limit = t_begin + (uint64_t)(o->max_time * 1e9);
  if (is("idle")) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = STDIN_TAG};
    epoll_ctl(G.epfd, EPOLL_CTL_ADD, 0, &ev);
  }
  if (is("connect")) begin_warmup();
  else phase = PH_CONNECT;

  static struct epoll_event evs[1024];
  while (phase != PH_END) {
    int n = epoll_wait(G.epfd, evs, 1024, 10);
    G.now = now_ns();
    for (int i = 0; i < n; i++) {
      uint64_t tag = evs[i].data.u64;
      if (tag == STDIN_TAG) { /* idle: any line or EOF on stdin ends the hold */
        char b[64];
        if (read(0, b, sizeof b) <= 0) epoll_ctl(G.epfd, EPOLL_CTL_DEL, 0, NULL);
        stdin_said = 1; /* may come before we are ready: acted on when the hold begins */
        continue;
      }
      conn *c = &G.conns[(uint32_t)tag];
      uint32_t gen = (uint32_t)(tag >> 32);
      if (c->fd < 0 || c->gen != gen) continue; /* a socket closed earlier in this batch */
      if (evs[i].events & EPOLLOUT) conn_writable(c);
      if (c->fd >= 0 && c->gen == gen && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        conn_readable(c);
    }
    if (G.fatal) break;
    if (G.now > t_limit) {
      fail_note("max-time reached");
      break;
    }
    switch (phase) {
    case PH_CONNECT:
      /* Ramp up a bounded number of handshakes at a time: 10,000 SYNs at once overflow the
       * listen backlog and turn into 1 s retransmits. */
      while (G.next_start < G.nconns && G.pending < o->handshakes) {
        if (conn_start(&G.conns[G.next_start++]) < 0) break;
      }
      if (G.opened == G.nconns) {
        if (is("idle")) {
          phase = PH_PRIME;
          for (int i = 0; G.o.prime && i < G.nconns; i++) {
            enqueue(&G.conns[i]);
            conn_flush(&G.conns[i]);
          }
        } else {
          emit_event("open");
          begin_warmup();
        }
      } else if (G.next_start == G.nconns && G.pending == 0) {
        fail_note("not every connection opened");
        G.fatal = 1;
      }
      break;
    case PH_WARMUP:
      if (is("connect")) sweep_slots();
      if (G.now >= t_next) {
        memset(&hist, 0, sizeof hist);
        messages = bytes = self_deliveries = pub_counted = 0;
        G.measuring = 1;
        cpu0 = cpu_seconds();
        t0 = G.now;
        emit_event("start");
        phase = PH_WINDOW;
        t_next = G.now + (uint64_t)(o->duration * 1e9);
      }
      break;
    case PH_WINDOW:
      if (is("connect")) sweep_slots();
      if (G.now >= t_next) {
        cpu1 = cpu_seconds();
        t1 = G.now;
        G.measuring = 0;
        G.sending = 0;
        emit_event("end");
        phase = PH_DRAIN;
        t_next = G.now + 10000000000ull;
      }
      break;
    case PH_DRAIN:
      if (drained() || G.now >= t_next) {
        if (!drained()) fail_note("replies still missing 10 s after the window");
        begin_close();
      }
      break;
    case PH_PRIME:
      if (!G.o.prime || primed == G.nconns) {
        printf("{\"event\":\"ready\",\"open\":%d,\"primed\":%d}\n", G.opened, primed);
        fflush(stdout);
        phase = PH_HOLD;
      }
      break;
    case PH_HOLD:
      if (stdin_said) begin_close();
      break;
    case PH_CLOSE:
      if (!all_closed() && G.now >= t_next && is("idle")) fail_note("close handshakes unfinished after --close-time");
      if (all_closed() || G.now >= t_next) phase = PH_END;
      break;
    }
    G.fatal |= G.errors > 1000; /* something is badly wrong: stop rather than spin */
  }
  for (int i = 0; i < G.nconns; i++) conn_close(&G.conns[i]);
  if (t1 == 0) t1 = G.now, cpu1 = cpu_seconds(), t0 = t0 ? t0 : t1, cpu0 = cpu0 ? cpu0 : cpu1;
  print_result();
  return G.fatal ? 3 : 0;
}

static const char *arg(const char *a, const char *name) {
  size_t n = strlen(name);
  return strncmp(a, name, n) == 0 && a[n] == '=' ? a + n + 1 : NULL;
}

int main(int argc, char **argv) {
  opts_t o = {.mode = "echo", .host = "127.0.0.1", .port = 0, .conns = 50, .inflight = 4, .publishers = 1,
              .size = 32, .warmup = 0.3, .duration = 1.5, .max_time = 60, .close_time = 5,
              .handshakes = 256,
              .path = "/"};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if ((v = arg(a, "--mode"))) o.mode = v;
    else if ((v = arg(a, "--host"))) o.host = v;
    else if ((v = arg(a, "--bind"))) o.bind = v;
    else if ((v = arg(a, "--close-time"))) o.close_time = atof(v);
    else if ((v = arg(a, "--port"))) o.port = atoi(v);
    else if ((v = arg(a, "--conns"))) o.conns = atoi(v);
    else if ((v = arg(a, "--inflight"))) o.inflight = atoi(v);
    else if ((v = arg(a, "--publishers"))) o.publishers = atoi(v);
    else if ((v = arg(a, "--size"))) o.size = (size_t)strtoull(v, NULL, 10);
    else if ((v = arg(a, "--warmup"))) o.warmup = atof(v);
    else if ((v = arg(a, "--duration"))) o.duration = atof(v);
    else if ((v = arg(a, "--max-time"))) o.max_time = atof(v);
    else if ((v = arg(a, "--handshakes"))) o.handshakes = atoi(v);
    else if ((v = arg(a, "--path"))) o.path = v;
    else if ((v = arg(a, "--pacing"))) {
      if (strcmp(v, "threads") == 0) o.threads = 1;
      else if (strcmp(v, "epoll") != 0) {
        fprintf(stderr, "loadgen: --pacing is epoll or threads\n");
        return 2;
      }
    } else if (strcmp(a, "--text") == 0) o.text = 1;
    else if (strcmp(a, "--deflate") == 0) o.deflate = 1;
    else if (strcmp(a, "--prime") == 0) o.prime = 1;
    else if (strcmp(a, "--raw") == 0) o.raw = 1;
    else {
      fprintf(stderr, "loadgen: unknown argument %s\n", a);
      return 2;
    }
  }
#ifndef HAVE_ZLIB
  if (o.deflate) {
    printf("{\"error\":\"built without zlib\"}\n");
    return 3;
  }
#endif
  if (o.conns < 1 || o.inflight < 1 || o.inflight > 32) {
    fprintf(stderr, "loadgen: need --conns >= 1 and 1 <= --inflight <= 32\n");
    return 2;
  }
  if (o.publishers < 1 || o.publishers * o.inflight > FAN_SLOTS) {
    fprintf(stderr, "loadgen: need --publishers >= 1 and --publishers x --inflight <= %d\n", FAN_SLOTS);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN); /* a peer that goes away is an error we count, not a reason to die */
  if (strcmp(o.mode, "server") == 0) return run_server(&o);
  if (strcmp(o.mode, "echo") && strcmp(o.mode, "connect") && strcmp(o.mode, "fanout") &&
      strcmp(o.mode, "idle")) {
    fprintf(stderr, "loadgen: unknown mode %s\n", o.mode);
    return 2;
  }
  if (o.port <= 0) {
    fprintf(stderr, "loadgen: --port is required\n");
    return 2;
  }
  if (o.raw && (!o.threads || strcmp(o.mode, "echo") || o.deflate || o.size == 0)) {
    fprintf(stderr, "loadgen: --raw is for the echo mode with --pacing=threads and --size >= 1\n");
    return 2;
  }
  if (o.threads) {
    if (o.bind) {
      fprintf(stderr, "loadgen: --bind is not for --pacing=threads\n");
      return 2;
    }
    if (strcmp(o.mode, "echo") || o.deflate) {
      fprintf(stderr, "loadgen: --pacing=threads is for the uncompressed echo mode\n");
      return 2;
    }
    return run_paced(&o);
  }
  return run_clients(&o);
}
