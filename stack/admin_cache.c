/*
 * Resumption cache entries as tcpcryptctl lists them: what an operator
 * needs to recognise an entry (peer, TEP, AEAD, original role, index, age)
 * and nothing derived from the secret (ss[i] and the resume[i] identifier
 * halves never leave the daemon, RFC 8548 §3.5).
 */
#include "stack/admin.h"

#include <stdio.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/resume.h"

const char *tc_admin_tep_name(uint8_t tep)
{
    /* RFC 8548 §7 Table 4, short names. */
    switch (tep & (uint8_t)~TC_TEP_V_BIT) {
    case TC_TEP_P256:
        return "P-256";
    case TC_TEP_P521:
        return "P-521";
    case TC_TEP_X25519:
        return "X25519";
    case TC_TEP_X448:
        return "X448";
    default:
        return "?";
    }
}

size_t tc_admin_cache_records(const struct tc_resume_cache *c, uint64_t now,
                              struct tc_ctl_a_cache *out, size_t max)
{
    size_t n = 0;

    for (size_t k = 0; k < c->cap && n < max; k++) {
        const struct tc_resume_entry *e = &c->entries[k];
        struct tc_ctl_a_cache *r = &out[n];
        const struct tc_aead_alg *alg;

        if (!e->in_use || now >= e->expires) {
            continue;
        }
        memset(r, 0, sizeof(*r));
        r->id = e->id;
        r->peer_len = (uint32_t)(e->peer_len < sizeof(r->peer) ? e->peer_len : sizeof(r->peer));
        memcpy(r->peer, e->peer, r->peer_len);
        r->tep = e->tep;
        r->orig_a = e->orig_a;
        r->aead = e->aead;
        alg = tc_aead_find(e->aead);
        snprintf(r->tep_name, sizeof(r->tep_name), "%s", tc_admin_tep_name(e->tep));
        snprintf(r->aead_name, sizeof(r->aead_name), "%s", alg != NULL ? alg->name : "?");
        r->i = e->i;
        r->idle_ms = now > e->last_used ? now - e->last_used : 0;
        r->expires_in_ms = e->expires - now;
        n++;
    }
    return n;
}
