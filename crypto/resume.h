/*
 * The session-resumption cache of RFC 8548 §3.5, in memory only.
 *
 * Each entry is one chain ss[0], ss[1], ... shared with one peer: it holds
 * the next unused secret ss[i] and the two halves of resume[i].  Taking a
 * secret, as the active opener offering it or as the passive opener agreeing
 * to it, advances the entry to ss[i+1] at once and erases ss[i], so "a given
 * session secret ss[i] MUST NOT be used to secure more than one TCP
 * connection" and the active opener always offers "the lowest value of i that
 * has not already been used (successfully or not)".
 *
 * Time is injected (now, in milliseconds of any monotonic clock).
 */
#ifndef TCPCRYPT_CRYPTO_RESUME_H
#define TCPCRYPT_CRYPTO_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/err.h"
#include "crypto/rng.h"
#include "crypto/wire.h"

#define TC_PEER_ID_MAX 20 /* opaque peer name: address family, address, ... */
#define TC_RESUME_SUBOPT_MAX (1 + TC_RESUME_HALF_LEN + TC_RESUME_NONCE_MAX)

struct tc_resume_entry {
    bool in_use;
    uint8_t tep;   /* v = 0 identifier of the original session */
    uint16_t aead; /* negotiated in the original session */
    bool orig_a;   /* this host played A when ss[0] was made */
    uint64_t i;    /* index of ss below */
    uint8_t ss[TC_K_LEN];
    uint8_t my_half[TC_RESUME_HALF_LEN];   /* the half this host sends */
    uint8_t peer_half[TC_RESUME_HALF_LEN]; /* the half the peer sends */
    uint8_t peer[TC_PEER_ID_MAX];
    size_t peer_len;
    uint64_t id;      /* handle for flushing, never 0 */
    uint64_t expires; /* ms */
    uint64_t last_used;
};

/*
 * Entries live in one array (entries[0..cap)); two hash indexes find them
 * without visiting the others: by the identifier half the peer sends (the
 * passive opener's lookup, once per resumption SYN) and by the peer's name
 * (the active opener's).  Buckets are chosen with a keyed hash (SipHash,
 * random key), so bucket occupancy tells an observer nothing about the
 * halves.  Free slots are kept on a stack.
 */
struct tc_resume_cache {
    struct tc_resume_entry *entries;
    size_t cap;
    uint64_t lifetime_ms;
    uint64_t next_id;
    size_t nbuckets;               /* a power of two */
    uint32_t *half_head, *half_next; /* chains by peer_half; UINT32_MAX ends */
    uint32_t *peer_head, *peer_next; /* chains by peer */
    uint32_t *free_slots;          /* stack of unused indexes */
    size_t nfree;
    uint8_t hash_key[16];
};

/* A secret taken from the cache for one connection, and what to send. */
struct tc_resume_ticket {
    uint8_t tep;
    uint16_t aead;
    bool orig_a;
    uint64_t i;
    uint64_t entry_id;
    uint8_t ss[TC_K_LEN];
    uint8_t my_half[TC_RESUME_HALF_LEN];
    uint8_t peer_half[TC_RESUME_HALF_LEN];
    uint8_t my_nonce[TC_RESUME_NONCE_MAX];
    size_t my_nonce_len;
    uint8_t peer_nonce[TC_RESUME_NONCE_MAX];
    size_t peer_nonce_len;
};

TC_MUST_CHECK int tc_resume_cache_init(struct tc_resume_cache *c, size_t cap, uint64_t lifetime_ms);
/* Wipe every secret and free the entries. */
void tc_resume_cache_destroy(struct tc_resume_cache *c);

/*
 * Remember the next secret of a chain after a connection was set up with
 * ss[i]: pass ss[i+1] and i+1.  A full cache evicts its least recently used
 * entry.  *id (may be NULL) names the entry for tc_resume_flush_id.
 */
TC_MUST_CHECK int tc_resume_store(struct tc_resume_cache *c, const uint8_t *peer, size_t peer_len,
                                  uint8_t tep, uint16_t aead, bool orig_a, uint64_t i,
                                  const uint8_t ss[TC_K_LEN], uint64_t now, uint64_t *id);

/*
 * Active opener: take the lowest unused secret cached for this peer and TEP
 * (the most recently stored chain when there are several), with a fresh
 * nonce of nonce_len (0..8) bytes.  TC_E_NOT_FOUND when there is none.
 */
TC_MUST_CHECK int tc_resume_offer(struct tc_resume_cache *c, const uint8_t *peer, size_t peer_len,
                                  uint8_t tep, size_t nonce_len, const struct tc_rng *rng,
                                  uint64_t now, struct tc_resume_ticket *t);

/*
 * Passive opener: the data of a received resumption suboption (its TEP byte
 * without v, then identifier half and nonce).  Agrees only when the half
 * names a cached secret of the same TEP; otherwise TC_E_NOT_FOUND and the
 * caller proceeds as for a fresh offer (§3.5: "Otherwise, it MUST NOT agree
 * to resumption").  Data shorter than 9 bytes is not a resumption offer at
 * all (TC_E_NOT_FOUND; the caller treats it as v = 0).
 */
TC_MUST_CHECK int tc_resume_accept(struct tc_resume_cache *c, uint8_t tep, const uint8_t *data,
                                   size_t len, size_t nonce_len, const struct tc_rng *rng,
                                   uint64_t now, struct tc_resume_ticket *t);

/*
 * Active opener: the passive opener's resumption suboption data.  TC_OK when
 * it carries the other half of our identifier (and records its nonce);
 * TC_E_NOT_FOUND when the half does not match, in which case the suboption
 * "MUST be ignored" (§3.5).
 */
TC_MUST_CHECK int tc_resume_check_reply(struct tc_resume_ticket *t, const uint8_t *data,
                                        size_t len);

/* The suboption this host sends: TEP|v, its half, its nonce.  Returns its
 * length (at most TC_RESUME_SUBOPT_MAX). */
size_t tc_resume_subopt(const struct tc_resume_ticket *t, uint8_t out[TC_RESUME_SUBOPT_MAX]);

/* sn[i] = nonce_a | nonce_b, ordered by the roles of the original session. */
size_t tc_resume_sn(const struct tc_resume_ticket *t, uint8_t sn[2 * TC_RESUME_NONCE_MAX]);

/* Cache control (RFC 8548 §3.5 MUST): drop one entry, every entry of a
 * peer, or everything.  Returns how many entries were removed. */
size_t tc_resume_flush_id(struct tc_resume_cache *c, uint64_t id);
size_t tc_resume_flush_peer(struct tc_resume_cache *c, const uint8_t *peer, size_t peer_len);
size_t tc_resume_flush_all(struct tc_resume_cache *c);
size_t tc_resume_count(const struct tc_resume_cache *c, uint64_t now);

/* Wipe the secret in a ticket once mk[0] and ss[i+1] are derived. */
void tc_resume_ticket_wipe(struct tc_resume_ticket *t);

#endif
