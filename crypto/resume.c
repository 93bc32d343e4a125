#include "crypto/resume.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"

#define NIL UINT32_MAX

static size_t bucket(const struct tc_resume_cache *c, const uint8_t *in, size_t len)
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v;

    crypto_shorthash(h, in, len, c->hash_key);
    memcpy(&v, h, sizeof(v));
    return (size_t)(v & (c->nbuckets - 1));
}

/* Unlink entry k from the chain that starts at *head (next: the links). */
static void chain_del(uint32_t *head, uint32_t *next, uint32_t k)
{
    for (uint32_t *p = head; *p != NIL; p = &next[*p]) {
        if (*p == k) {
            *p = next[k];
            next[k] = NIL;
            return;
        }
    }
}

static void link_half(struct tc_resume_cache *c, uint32_t k)
{
    uint32_t *h = &c->half_head[bucket(c, c->entries[k].peer_half, TC_RESUME_HALF_LEN)];

    c->half_next[k] = *h;
    *h = k;
}

static void unlink_half(struct tc_resume_cache *c, uint32_t k)
{
    chain_del(&c->half_head[bucket(c, c->entries[k].peer_half, TC_RESUME_HALF_LEN)], c->half_next,
              k);
}

static void link_peer(struct tc_resume_cache *c, uint32_t k)
{
    const struct tc_resume_entry *e = &c->entries[k];
    uint32_t *h = &c->peer_head[bucket(c, e->peer, e->peer_len)];

    c->peer_next[k] = *h;
    *h = k;
}

static void unlink_peer(struct tc_resume_cache *c, uint32_t k)
{
    const struct tc_resume_entry *e = &c->entries[k];

    chain_del(&c->peer_head[bucket(c, e->peer, e->peer_len)], c->peer_next, k);
}

int tc_resume_cache_init(struct tc_resume_cache *c, size_t cap, uint64_t lifetime_ms)
{
    size_t nb = 16;

    memset(c, 0, sizeof(*c));
    if (cap == 0 || cap >= NIL) {
        return TC_E_INVALID;
    }
    while (nb < cap) {
        nb *= 2;
    }
    c->entries = calloc(cap, sizeof(*c->entries));
    c->half_head = malloc(nb * sizeof(uint32_t));
    c->peer_head = malloc(nb * sizeof(uint32_t));
    c->half_next = malloc(cap * sizeof(uint32_t));
    c->peer_next = malloc(cap * sizeof(uint32_t));
    c->free_slots = malloc(cap * sizeof(uint32_t));
    if (c->entries == NULL || c->half_head == NULL || c->peer_head == NULL ||
        c->half_next == NULL || c->peer_next == NULL || c->free_slots == NULL) {
        tc_resume_cache_destroy(c);
        return TC_E_NOMEM;
    }
    memset(c->half_head, 0xff, nb * sizeof(uint32_t));
    memset(c->peer_head, 0xff, nb * sizeof(uint32_t));
    memset(c->half_next, 0xff, cap * sizeof(uint32_t));
    memset(c->peer_next, 0xff, cap * sizeof(uint32_t));
    /* Popped in index order: entries fill the array from the start. */
    for (size_t k = 0; k < cap; k++) {
        c->free_slots[k] = (uint32_t)(cap - 1 - k);
    }
    c->nfree = cap;
    c->nbuckets = nb;
    c->cap = cap;
    c->lifetime_ms = lifetime_ms;
    c->next_id = 1;
    randombytes_buf(c->hash_key, sizeof(c->hash_key));
    return TC_OK;
}

static void entry_clear(struct tc_resume_entry *e)
{
    sodium_memzero(e, sizeof(*e));
}

/* Take entry k out of use: out of both indexes, secret erased, slot free. */
static void drop(struct tc_resume_cache *c, uint32_t k)
{
    if (!c->entries[k].in_use) {
        return;
    }
    unlink_half(c, k);
    unlink_peer(c, k);
    entry_clear(&c->entries[k]);
    c->free_slots[c->nfree++] = k;
}

void tc_resume_cache_destroy(struct tc_resume_cache *c)
{
    if (c->entries != NULL) {
        for (size_t k = 0; k < c->cap; k++) {
            entry_clear(&c->entries[k]);
        }
        free(c->entries);
    }
    free(c->half_head);
    free(c->peer_head);
    free(c->half_next);
    free(c->peer_next);
    free(c->free_slots);
    sodium_memzero(c, sizeof(*c));
}

static bool entry_live(const struct tc_resume_entry *e, uint64_t now)
{
    return e->in_use && now < e->expires;
}

/* Like entry_live, but an expired entry's secret is erased on sight. */
static bool entry_check(struct tc_resume_cache *c, uint32_t k, uint64_t now)
{
    if (c->entries[k].in_use && now >= c->entries[k].expires) {
        drop(c, k);
    }
    return c->entries[k].in_use;
}

/* Load ss[i] into e and derive the halves of resume[i] (§3.5 Figures 2 and
 * 3): the host that was A sends bytes 0..8, the one that was B bytes 9..17. */
static int entry_load(struct tc_resume_entry *e, const uint8_t ss[TC_K_LEN], uint64_t i)
{
    uint8_t rid[TC_RESUME_ID_LEN];
    int err;

    err = tc_keys_resume_id(rid, ss);
    if (err == TC_OK) {
        memcpy(e->ss, ss, TC_K_LEN);
        e->i = i;
        memcpy(e->my_half, e->orig_a ? rid : rid + TC_RESUME_HALF_LEN, TC_RESUME_HALF_LEN);
        memcpy(e->peer_half, e->orig_a ? rid + TC_RESUME_HALF_LEN : rid, TC_RESUME_HALF_LEN);
    }
    sodium_memzero(rid, sizeof(rid));
    return err;
}

int tc_resume_store(struct tc_resume_cache *c, const uint8_t *peer, size_t peer_len, uint8_t tep,
                    uint16_t aead, bool orig_a, uint64_t i, const uint8_t ss[TC_K_LEN],
                    uint64_t now, uint64_t *id)
{
    struct tc_resume_entry *slot;
    uint32_t k;
    int err;

    if (peer_len > TC_PEER_ID_MAX || c->entries == NULL) {
        return TC_E_INVALID;
    }
    if (c->nfree == 0) {
        /* Full: an expired entry, else the least recently used one (a
         * scan, but only when the cache is full). */
        uint32_t victim = 0;

        for (uint32_t j = 0; j < c->cap; j++) {
            if (!entry_live(&c->entries[j], now)) {
                victim = j;
                break;
            }
            if (c->entries[j].last_used < c->entries[victim].last_used) {
                victim = j;
            }
        }
        drop(c, victim);
    }
    k = c->free_slots[--c->nfree];
    slot = &c->entries[k];
    entry_clear(slot);
    slot->tep = tep & (uint8_t)~TC_TEP_V_BIT;
    slot->aead = aead;
    slot->orig_a = orig_a;
    memcpy(slot->peer, peer, peer_len);
    slot->peer_len = peer_len;
    err = entry_load(slot, ss, i);
    if (err != TC_OK) {
        entry_clear(slot);
        c->free_slots[c->nfree++] = k;
        return err;
    }
    slot->in_use = true;
    slot->id = c->next_id++;
    slot->expires = now + c->lifetime_ms;
    slot->last_used = now;
    link_half(c, k);
    link_peer(c, k);
    if (id != NULL) {
        *id = slot->id;
    }
    return TC_OK;
}

/*
 * Move the entry's secret into the ticket and advance the entry to
 * ss[i+1], erasing ss[i]: from here on no other connection can get it, in
 * either role, whether or not this one succeeds.
 */
static int take(struct tc_resume_cache *c, uint32_t k, uint64_t now, struct tc_resume_ticket *t)
{
    struct tc_resume_entry *e = &c->entries[k];
    uint8_t next[TC_K_LEN];
    int err;

    memset(t, 0, sizeof(*t));
    t->tep = e->tep;
    t->aead = e->aead;
    t->orig_a = e->orig_a;
    t->i = e->i;
    t->entry_id = e->id;
    memcpy(t->ss, e->ss, TC_K_LEN);
    memcpy(t->my_half, e->my_half, TC_RESUME_HALF_LEN);
    memcpy(t->peer_half, e->peer_half, TC_RESUME_HALF_LEN);

    /* The halves change with i: out of the half index while they do. */
    unlink_half(c, k);
    err = e->i == UINT64_MAX ? TC_E_EXHAUSTED : tc_keys_next_ss(next, e->ss);
    if (err == TC_OK) {
        err = entry_load(e, next, e->i + 1);
    }
    link_half(c, k);
    if (err != TC_OK) {
        drop(c, k); /* a chain that cannot advance must not be reused */
    } else {
        e->last_used = now;
    }
    sodium_memzero(next, sizeof(next));
    return err;
}

static int fresh_nonce(struct tc_resume_ticket *t, size_t nonce_len, const struct tc_rng *rng)
{
    if (nonce_len > TC_RESUME_NONCE_MAX) {
        return TC_E_INVALID;
    }
    t->my_nonce_len = nonce_len;
    return nonce_len == 0 ? TC_OK : tc_random(rng, t->my_nonce, nonce_len);
}

int tc_resume_offer(struct tc_resume_cache *c, const uint8_t *peer, size_t peer_len, uint8_t tep,
                    size_t nonce_len, const struct tc_rng *rng, uint64_t now,
                    struct tc_resume_ticket *t)
{
    uint32_t best = NIL;
    int err;

    if (nonce_len > TC_RESUME_NONCE_MAX || c->entries == NULL || peer_len > TC_PEER_ID_MAX) {
        return TC_E_INVALID;
    }
    tep &= (uint8_t)~TC_TEP_V_BIT;
    for (uint32_t k = c->peer_head[bucket(c, peer, peer_len)], next; k != NIL; k = next) {
        const struct tc_resume_entry *e = &c->entries[k];

        next = c->peer_next[k];
        /* Peer names are public: a plain compare is fine. */
        if (!entry_check(c, k, now) || e->tep != tep || e->peer_len != peer_len ||
            memcmp(e->peer, peer, peer_len) != 0) {
            continue;
        }
        if (best == NIL || e->id > c->entries[best].id) {
            best = k;
        }
    }
    if (best == NIL) {
        return TC_E_NOT_FOUND;
    }
    err = take(c, best, now, t);
    if (err == TC_OK) {
        err = fresh_nonce(t, nonce_len, rng);
    }
    if (err != TC_OK) {
        tc_resume_ticket_wipe(t);
    }
    return err;
}

int tc_resume_accept(struct tc_resume_cache *c, uint8_t tep, const uint8_t *data, size_t len,
                     size_t nonce_len, const struct tc_rng *rng, uint64_t now,
                     struct tc_resume_ticket *t)
{
    uint32_t found = NIL;
    int err;

    if (c->entries == NULL) {
        return TC_E_INVALID;
    }
    /* "If a passive opener receives an ENO suboption with a TEP identifier
     * and v = 1, but the suboption data is less than 9 bytes in length, it
     * MUST behave as if the same TEP had been sent with v = 0."  More than
     * 9 + 8 bytes is no valid resumption suboption either. */
    if (len < TC_RESUME_HALF_LEN || len > TC_RESUME_HALF_LEN + TC_RESUME_NONCE_MAX) {
        return TC_E_NOT_FOUND;
    }
    tep &= (uint8_t)~TC_TEP_V_BIT;
    /* Identifier halves derive from secrets: compare each in constant time,
     * and only within one bucket of a keyed hash (see struct
     * tc_resume_cache), so neither timing nor the bucket tells anything
     * about the cached halves. */
    for (uint32_t k = c->half_head[bucket(c, data, TC_RESUME_HALF_LEN)], next; k != NIL; k = next) {
        const struct tc_resume_entry *e = &c->entries[k];
        bool match = sodium_memcmp(e->peer_half, data, TC_RESUME_HALF_LEN) == 0;

        next = c->half_next[k];
        if (entry_check(c, k, now) && match && e->tep == tep && found == NIL) {
            found = k;
        }
    }
    if (found == NIL) {
        return TC_E_NOT_FOUND;
    }
    err = take(c, found, now, t);
    if (err == TC_OK) {
        memcpy(t->peer_nonce, data + TC_RESUME_HALF_LEN, len - TC_RESUME_HALF_LEN);
        t->peer_nonce_len = len - TC_RESUME_HALF_LEN;
        err = fresh_nonce(t, nonce_len, rng);
    }
    if (err != TC_OK) {
        tc_resume_ticket_wipe(t);
    }
    return err;
}

int tc_resume_check_reply(struct tc_resume_ticket *t, const uint8_t *data, size_t len)
{
    if (len < TC_RESUME_HALF_LEN || len > TC_RESUME_HALF_LEN + TC_RESUME_NONCE_MAX) {
        return TC_E_NOT_FOUND;
    }
    if (sodium_memcmp(t->peer_half, data, TC_RESUME_HALF_LEN) != 0) {
        return TC_E_NOT_FOUND;
    }
    memcpy(t->peer_nonce, data + TC_RESUME_HALF_LEN, len - TC_RESUME_HALF_LEN);
    t->peer_nonce_len = len - TC_RESUME_HALF_LEN;
    return TC_OK;
}

size_t tc_resume_subopt(const struct tc_resume_ticket *t, uint8_t out[TC_RESUME_SUBOPT_MAX])
{
    out[0] = t->tep | TC_TEP_V_BIT;
    memcpy(out + 1, t->my_half, TC_RESUME_HALF_LEN);
    memcpy(out + 1 + TC_RESUME_HALF_LEN, t->my_nonce, t->my_nonce_len);
    return 1 + TC_RESUME_HALF_LEN + t->my_nonce_len;
}

size_t tc_resume_sn(const struct tc_resume_ticket *t, uint8_t sn[2 * TC_RESUME_NONCE_MAX])
{
    /* "sn[i] = nonce_a | nonce_b": nonce_a is sent by the host that played
     * A in the original session (Figure 2), nonce_b by the other. */
    const uint8_t *a = t->orig_a ? t->my_nonce : t->peer_nonce;
    const uint8_t *b = t->orig_a ? t->peer_nonce : t->my_nonce;
    size_t alen = t->orig_a ? t->my_nonce_len : t->peer_nonce_len;
    size_t blen = t->orig_a ? t->peer_nonce_len : t->my_nonce_len;

    memcpy(sn, a, alen);
    memcpy(sn + alen, b, blen);
    return alen + blen;
}

size_t tc_resume_flush_id(struct tc_resume_cache *c, uint64_t id)
{
    for (uint32_t k = 0; k < c->cap; k++) {
        if (c->entries[k].in_use && c->entries[k].id == id) {
            drop(c, k);
            return 1;
        }
    }
    return 0;
}

size_t tc_resume_flush_peer(struct tc_resume_cache *c, const uint8_t *peer, size_t peer_len)
{
    size_t n = 0;

    for (uint32_t k = 0; k < c->cap; k++) {
        struct tc_resume_entry *e = &c->entries[k];

        if (e->in_use && e->peer_len == peer_len && memcmp(e->peer, peer, peer_len) == 0) {
            drop(c, k);
            n++;
        }
    }
    return n;
}

size_t tc_resume_flush_all(struct tc_resume_cache *c)
{
    size_t n = 0;

    for (uint32_t k = 0; k < c->cap; k++) {
        n += c->entries[k].in_use;
        drop(c, k);
    }
    return n;
}

size_t tc_resume_count(const struct tc_resume_cache *c, uint64_t now)
{
    size_t n = 0;

    for (size_t k = 0; k < c->cap; k++) {
        n += entry_live(&c->entries[k], now);
    }
    return n;
}

void tc_resume_ticket_wipe(struct tc_resume_ticket *t)
{
    sodium_memzero(t, sizeof(*t));
}
