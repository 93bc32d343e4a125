/*
 * Connections and listeners: each TCP connection of lwIP is relayed to one
 * end of an AF_UNIX socketpair whose other end the application holds (see
 * stack/ctl_proto.h), plain or through a tcpcrypt session (stack/session.h).
 *
 * The control server (ctl.c) calls the tc_conn_* request functions; each
 * returns the reply's err (0, a positive errno value or TC_CTL_PASS) and
 * may hand back in *app_fd a descriptor to attach to the reply, which the
 * caller closes once the reply is sent.
 */
#ifndef TCPCRYPT_STACK_CONN_H
#define TCPCRYPT_STACK_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "stack/ctl_proto.h"
#include "stack/eno_lwip.h"
#include "stack/stats.h"

struct tcp_pcb;
struct tc_conn;
struct tc_listener;
struct tc_resume_cache;

#define TC_PLAIN_PORTS_MAX 32

struct tc_conn_config {
    bool eno;                 /* negotiate TCP-ENO (false: plain TCP only, --no-eno) */
    uint64_t eph_lifetime_ms; /* B's ephemeral key reuse (RFC 8548 §8), 0: never */
    /* Init1/Init2 not done this long after TCP came up: reset (0: 10 s). */
    uint64_t handshake_timeout_ms;
    /* The session-resumption cache (RFC 8548 §3.5), in memory only. */
    size_t resume_entries;       /* at most this many chains, LRU eviction */
    uint64_t resume_lifetime_ms; /* an unused secret is forgotten after this */
    size_t resume_nonce_len;     /* bytes of nonce in our resumption suboption, 0..8 */
    /* TCP_CRYPT_* defaults for what applications do not set themselves. */
    struct tc_ctl_sockopts defaults;
    /* Ports on which tcpcrypt is never offered (a connection's remote
     * port, a listener's local one), e.g. 443: TLS needs no second layer. */
    uint16_t plain_ports[TC_PLAIN_PORTS_MAX];
    size_t nplain_ports;
};

/* false when memory for the resumption cache is lacking. */
bool tc_conn_init(const struct tc_conn_config *cfg);
/* The daemon's resumption cache (shared by every connection; the control
 * server lists and flushes it). */
struct tc_resume_cache *tc_conn_resume_cache(void);
const struct tc_conn_config *tc_conn_get_config(void);
/* Shutdown: every connection and listener ends with RST, every fd closes. */
void tc_conn_fini(void);
/* Once a second: handshake timeouts, records of closed connections whose
 * application end is gone, expired ephemeral keys. */
void tc_conn_tick(void);
/* tc_eno_config.rst_ignored: an RST was dropped under TCP_CRYPT_SECURST. */
void tc_conn_rst_ignored(struct tcp_pcb *pcb);

int tc_conn_connect(const struct tc_ctl_connect *req, struct tc_ctl_r_connect *rep, int *app_fd);
int tc_conn_status(int fd, const struct tc_ctl_status *req, struct tc_ctl_r_status *rep);
int tc_conn_getopt(int fd, const struct tc_ctl_opt *req, struct tc_ctl_opt *rep);
int tc_conn_setopt(int fd, const struct tc_ctl_opt *req);
/* kfd: the application's bound, listening kernel socket (kept on success). */
int tc_listen(const struct tc_ctl_listen *req, int kfd, struct tc_ctl_r_listen *rep, int *app_fd);

/* One connection record, as tcpcryptctl lists it (no secrets). */
struct tc_conn_info {
    uint64_t id;
    struct tc_ctl_addr local, remote;
    const char *state; /* connecting, handshake, established, closing, closed, failed */
    bool passive, encrypted, is_b, has_sid;
    bool open; /* the TCP side or the daemon end is still there */
    uint8_t tep_byte;
    const char *aead;   /* NULL when unknown (plain, or the session is gone) */
    const uint8_t *sid; /* TC_SESSID_LEN bytes when has_sid */
    int read_error;
    struct tc_bytes bytes;
    uint64_t age_ms;
};
/* fn for every connection record, newest first. */
void tc_conn_foreach(void (*fn)(const struct tc_conn_info *info, void *arg), void *arg);

/* ---- between listener.c and conn.c ---- */

/*
 * The TCP_CRYPT_* options in force for a connection or a listener on port
 * (the remote port for connect(), the local one for listen()): what the
 * application set, else the daemon's defaults, and the never-encrypt ports.
 * false when they contradict: encryption mandatory where it is never offered.
 */
bool tc_conn_effective(const struct tc_ctl_sockopts *app, uint16_t port,
                       struct tc_ctl_sockopts *eff);
/* Effective options as TCP-ENO choices for an active or passive opener. */
void tc_conn_opts(const struct tc_ctl_sockopts *eff, bool passive, struct tc_eno_opts *eno,
                  bool *mandatory);
/* lwIP accepted pcb for listener l: a connection whose app end is *app_fd.
 * NULL when it failed; *aborted tells whether pcb was aborted (the accept
 * callback must then return ERR_ABRT; otherwise lwIP aborts it). */
struct tc_conn *tc_conn_accepted(struct tcp_pcb *pcb, struct tc_listener *l,
                                 const struct tc_ctl_sockopts *eff, bool v6_sock, int *app_fd,
                                 bool *aborted);
/* SETOPT TC_CTL_OPT_LISTENER on a listener's app end (fd); ENOENT when fd
 * is not one. */
int tc_listener_setopts(int fd, const struct tc_ctl_sockopts *app);
/* Ready to be handed to the application: established, and when encrypted,
 * the tcpcrypt session is open (so TCP_CRYPT_SESSID answers at once). */
bool tc_conn_ready(const struct tc_conn *c);
bool tc_conn_failed(const struct tc_conn *c);
/* The accepted message for c. */
void tc_conn_accepted_msg(const struct tc_conn *c, struct tc_ctl_accepted *m);
/* The listener handed c over (delivered: true) or dropped it (false: the
 * connection is reset). */
void tc_conn_dequeued(struct tc_conn *c, bool delivered);
/* c became ready or failed: its listener may deliver it now. */
void tc_listener_kick(struct tc_listener *l);
void tc_listeners_fini(void);

#endif
