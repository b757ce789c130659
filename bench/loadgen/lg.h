/*
 * weft bench load generator: shared declarations.
 *
 * The load generator is written in C (epoll, one thread) so that it costs a fraction of what the
 * Node server under test costs per message: on a 2-core machine a Node load generator would compete
 * with the server for CPU and become the bottleneck it is supposed to measure.
 */
#ifndef LG_H
#define LG_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif

/* ---- time, cpu, randomness (util.c) ---- */
uint64_t now_ns(void);
double cpu_seconds(void);            /* user + system of this process, via getrusage */
uint64_t rng_next(void);             /* xorshift64*, seeded from getrandom() */
void rng_fill(uint8_t *p, size_t n);
void raise_nofile(long want);        /* setrlimit(RLIMIT_NOFILE); we run as root in the bench box */

/* ---- latency histogram: log-linear buckets, ~3% precision, fixed memory ---- */
#define HIST_SUB 32                  /* sub-buckets per power of two */
#define HIST_BUCKETS (64 * HIST_SUB)
typedef struct {
  uint64_t count[HIST_BUCKETS];
  uint64_t n;
  uint64_t max;
} hist_t;
void hist_add(hist_t *h, uint64_t v);
uint64_t hist_pct(const hist_t *h, double p); /* p in [0,1]; returns a bucket midpoint */

/* ---- handshake helpers ---- */
void sha1(const uint8_t *data, size_t len, uint8_t out[20]);
size_t base64(const uint8_t *in, size_t len, char *out); /* out needs 4*ceil(len/3)+1 bytes */
void ws_accept_for(const char *key, char out[29]);       /* Sec-WebSocket-Accept for a key */
/* Case-insensitive search of a header value in an HTTP head; copies it (trimmed) into out. */
int http_header(const char *head, const char *name, char *out, size_t outlen);

/* ---- framing ---- */
/* Writes a frame (header + payload, masked when key != NULL) into out; returns its length.
 * out must hold len + 14 bytes. With payload NULL only the header is written (its length returned). */
size_t ws_frame(uint8_t *out, int fin, int rsv1, int opcode, const uint8_t *payload, size_t len,
                const uint8_t *key);
/* XOR with a 4-byte key starting at key offset `phase`: used for streaming unmasking. */
void ws_mask(uint8_t *p, size_t n, const uint8_t key[4], size_t phase);

/* Incremental frame header parser state, shared by the client (unmasked frames in) and the
 * server mode (masked frames in). The header may arrive split across reads, so up to 14 bytes are
 * collected before a frame is decoded. */
typedef struct {
  uint8_t hdr[14];
  int have;          /* header bytes collected */
  int need;          /* header bytes needed (2 until byte 1 is known) */
  int in_payload;    /* 1 while payload bytes are expected */
  uint64_t remain;   /* payload bytes still to come in this frame */
  uint64_t len;      /* payload length of this frame */
  int fin, rsv1, opcode, masked;
  uint8_t key[4];
  uint64_t pos;      /* payload bytes seen so far in this frame (for mask phase) */
} frame_rx;
void frame_rx_init(frame_rx *r);
/* Feeds header bytes; returns bytes consumed, with r->in_payload set once the header is complete.
 * Returns -1 on a malformed header (reserved opcode, oversized control frame, 64-bit length MSB). */
long frame_rx_header(frame_rx *r, const uint8_t *p, size_t n);

/* ---- JSON output: one line per event, flushed, so the harness can act at once ---- */
void emit_event(const char *name);

/* ---- modes ---- */
typedef struct {
  const char *mode;
  const char *host;
  const char *bind;   /* source address of client connections (NULL: the kernel's choice) */
  int port;
  int conns;          /* echo: connections; connect: concurrent slots; fanout: subscribers; idle: N */
  int inflight;       /* messages in flight per connection (echo) or per publisher (fanout) */
  int publishers;     /* fanout: connections that publish (the first ones), 1 by default */
  size_t size;        /* payload bytes */
  int text;           /* opcode 1 instead of 2 */
  int deflate;        /* offer permessage-deflate (client_no_context_takeover) */
  int prime;          /* idle: one echoed message per connection before 'ready' */
  double warmup;      /* seconds before the measured window */
  double duration;    /* seconds of the measured window */
  double max_time;    /* hard cap on the whole run, seconds */
  double close_time;  /* how long the closing handshakes may take at the end, seconds */
  int handshakes;     /* max concurrent handshakes while connecting many sockets */
  const char *path;   /* request path */
  int threads;        /* echo: --pacing=threads, one blocking thread per connection (paced.c) */
  int raw;            /* echo with threads: no upgrade, no frames: `size` bytes out, the same back */
} opts_t;

int run_server(const opts_t *o);      /* server.c: tiny epoll echo server for the client-side rows */
int run_clients(const opts_t *o);     /* loadgen.c: echo / connect / fanout / idle */
int run_paced(const opts_t *o);       /* paced.c: echo with one thread per connection */

#endif
