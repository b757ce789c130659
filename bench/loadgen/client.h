/*
 * weft bench load generator: the client connection machinery (non-blocking connect, opening
 * handshake, batched writes, incremental frame reading) shared by the echo / connect / fanout / idle
 * modes in loadgen.c. The modes plug in through the hooks declared at the bottom.
 */
#ifndef LG_CLIENT_H
#define LG_CLIENT_H

#include "lg.h"

enum { S_IDLE, S_CONNECTING, S_HANDSHAKE, S_OPEN, S_CLOSING, S_DONE };

#define CTL_CAP 1024   /* handshake request, close frames, fanout publishes */
#define HEAD_CAP 2048  /* the server's 101 response head */
#define POOL 8         /* distinct prebuilt frames per workload (different masks and payloads) */

typedef struct conn {
  int fd, idx, state;
  uint32_t gen;          /* bumped per socket: epoll events of a closed socket are ignored */
  int want_out;          /* EPOLLOUT currently registered */
  uint64_t t_start;      /* connect mode: when this cycle began */
  char key[32];          /* Sec-WebSocket-Key sent */
  char head[HEAD_CAP];
  int head_len;
  uint8_t ctl[CTL_CAP];  /* small writes that go before the data frames */
  int ctl_len, ctl_off;
  /* Data frames: sequence numbers pick the prebuilt frame (seq % POOL). `tx_queued` frames from
   * seq (next_seq - tx_queued) on are still (partly) unwritten; tx_off is how far into the head
   * frame the socket has taken. */
  uint64_t next_seq, tx_queued, recv_seq;
  size_t tx_off;
  uint64_t *ts;          /* send time of each message in flight, by seq % inflight */
  frame_rx rx;
  int msg_active, msg_opcode, msg_compressed;
  uint64_t msg_off;      /* payload bytes of the current message seen (after inflate) */
  uint8_t ctrl_buf[128];
  int ctrl_len;
  uint8_t head8[8];      /* fanout: the sequence number at the start of each payload */
  int got_close;
#ifdef HAVE_ZLIB
  z_stream *inf;
#endif
} conn;

/* Global run state that client.c and the modes share. */
typedef struct {
  opts_t o;
  int epfd;
  conn *conns;
  int nconns;
  int pending;            /* sockets in CONNECTING / HANDSHAKE */
  int next_start;         /* next connection index to start while ramping up */
  int opened;             /* connections that completed the handshake */
  int measuring;          /* inside the measured window */
  int sending;            /* new messages may be queued (warmup + window) */
  uint64_t now;           /* clock sampled once per wakeup: every frame of one read arrived together */
  uint64_t errors;
  int fatal;              /* stop the run now (e.g. the extension we need was not negotiated) */
  char first_error[160];
  char extensions[160];   /* Sec-WebSocket-Extensions of the first response */
  int server_no_ctx;      /* server_no_context_takeover negotiated */
  uint8_t *frames[POOL];  /* prebuilt masked frames */
  size_t frame_len[POOL];
  uint8_t *plain[POOL];   /* the payload each frame carries, as the echo must bring it back */
} run_t;

extern run_t G;

void fail_note(const char *what);                  /* counts an error and keeps the first text */
int conn_start(conn *c);                           /* socket + connect + queue the upgrade request */
void conn_close(conn *c);                          /* close the fd, release per-connection state */
int conn_flush(conn *c);                           /* write ctl + queued frames; -1 on error */
int ctl_append(conn *c, const uint8_t *p, size_t n);
void conn_send_close(conn *c);                     /* queue a masked close(1000) and go CLOSING */
void conn_readable(conn *c);                       /* read everything available and dispatch */
void conn_writable(conn *c);

/* ---- hooks implemented by the modes (loadgen.c) ---- */
void on_open(conn *c);                                  /* handshake done */
int on_data(conn *c, const uint8_t *p, size_t n);       /* payload bytes of a data frame */
int on_message(conn *c);                                /* a whole data message arrived */
void on_closed(conn *c, int clean);                     /* fd closed (clean: close handshake + EOF) */

#endif
