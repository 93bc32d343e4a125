/*
 * Inside a connection: shared by conn.c (life cycle, control requests, lwIP
 * callbacks) and relay.c (the byte pump, plain or tcpcrypt).
 */
#ifndef TCPCRYPT_STACK_CONN_PRIV_H
#define TCPCRYPT_STACK_CONN_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lwip/ip_addr.h"
#include "stack/conn.h"
#include "stack/loop.h"
#include "crypto/resume.h"
#include "stack/session.h"

struct pbuf;

struct tc_conn {
    struct tc_watch w;           /* the daemon end, while watched */
    int fd;                      /* the daemon end, -1 once closed */
    struct tc_conn *hnext;       /* same inode bucket */
    struct tc_conn *prev, *next; /* every connection record */
    ino_t ino;                   /* the application end's inode */
    uint64_t id;                 /* for logs */
    struct tcp_pcb *pcb;         /* NULL once lwIP freed it or we let go */
    uint32_t state;              /* TC_CTL_S_* */
    int so_error, read_error;
    bool v6_sock; /* answer addresses as AF_INET6 */
    bool passive, mandatory, encrypted;
    bool tcp_up;      /* TCP established */
    bool ready;       /* handed to (or usable by) the application */
    bool gating;      /* connect gating still on (see ctl_proto.h) */
    bool app_eof;     /* read EOF from the application */
    bool app_gone;    /* every application copy is closed (or both sides shut down) */
    bool app_closed;  /* ... surely closed, not just shut down */
    bool finp_sealed; /* tcpcrypt: the FINp frame is written */
    bool tx_fin;      /* our FIN is queued */
    bool peer_fin;    /* the peer's FIN arrived */
    bool fin_checked; /* tcpcrypt: tc_sess_peer_fin() done */
    bool eof_sent;    /* shutdown(fd, SHUT_WR): the application sees EOF */
    bool linger_rst;  /* SO_LINGER 0: the application's close() resets */
    bool zombie;      /* over: only the record stays, for STATUS */
    bool dropped;     /* unlinked, freed after this round */
    ip_addr_t local_ip, remote_ip;
    uint16_t local_port, remote_port;
    uint64_t up_ms;    /* when TCP was established (handshake timeout) */
    uint64_t start_ms; /* connect() (EHOSTUNREACH detection) */
    uint64_t gone_ms;  /* when the application closed (linger timeout) */
    /* connect gating */
    int gate_fd; /* a dup of the application end, -1 when done */
    size_t gate_fill;
    int gate_sndbuf;
    /* listener that will hand this connection over, while queued there */
    struct tc_listener *listener;
    /* application -> TCP: bytes tcp_write refused (ERR_MEM), sent first */
    uint8_t *carry;
    size_t carry_len;
    /* TCP -> application */
    struct pbuf *rxq, *rxq_tail; /* received, not yet passed on */
    uint16_t rx_off;             /* consumed bytes of rxq's first pbuf */
    const uint8_t *plain;        /* tcpcrypt: opened frame data not yet written */
    size_t plain_len;
    bool plain_fin; /* ... and it carried FINp */
    /* tcpcrypt */
    struct tc_sess *sess;
    bool has_sid;
    uint8_t sid[TC_SESSID_LEN];
    bool is_b;
    uint8_t tep_byte, peer_global;
    struct tc_ctl_sockopts sopts; /* effective TCP_CRYPT_* options */
    struct tc_bytes bytes; /* stack/stats.h */
};

/* relay.c: move bytes both ways until blocked, update the events watched on
 * the daemon end, and send what lwIP has queued. */
void tc_relay_pump(struct tc_conn *c);
/* relay.c: the peer's data, in stream order (takes p). */
void tc_relay_rx(struct tc_conn *c, struct pbuf *p);
void tc_relay_free(struct tc_conn *c);

/* conn.c, for listener.c */
bool tc_conn_eno_enabled(void);
/* A socketpair: *app for the application, *mine (non-blocking) for us, and
 * the application end's inode.  0 or an errno value. */
int tc_conn_make_pair(int type, int *app, int *mine, ino_t *ino);

/* conn.c, for relay.c */
/* Abort: RST to the peer, err for STATUS (so_error and read_error). */
void tc_conn_abort(struct tc_conn *c, int err, const char *why);
/* The application end of every copy is closed: nothing more to deliver. */
void tc_conn_app_gone(struct tc_conn *c);
/* The tcpcrypt session just opened (or the plain connection is up). */
void tc_conn_became_ready(struct tc_conn *c);
/* Both directions are finished: let lwIP finish the TCP close alone. */
void tc_conn_release_pcb(struct tc_conn *c);
/* Everything is finished: close the daemon end, keep or drop the record. */
void tc_conn_check_done(struct tc_conn *c);

#endif
