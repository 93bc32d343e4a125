/*
 * TCP-ENO option handling (RFC 8547 §4).
 */
#include "stack/eno.h"

#include <string.h>

#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1

size_t tc_eno_find(const uint8_t *opts, size_t len, const uint8_t **opt, size_t *optlen)
{
    size_t count = 0, i = 0;

    *opt = NULL;
    *optlen = 0;
    while (i < len) {
        size_t olen;

        if (opts[i] == TCP_OPT_EOL) {
            break;
        }
        if (opts[i] == TCP_OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= len) {
            break;
        }
        olen = opts[i + 1];
        if (olen < 2 || i + olen > len) {
            break; /* malformed: stop, as lwIP does */
        }
        if (opts[i] == TC_ENO_KIND) {
            if (count == 0) {
                *opt = opts + i;
                *optlen = olen;
            }
            count++;
        }
        i += olen;
    }
    return count;
}

int tc_eno_parse_syn(const uint8_t *p, size_t len, struct tc_eno_syn *out)
{
    size_t i = 0;

    memset(out, 0, sizeof(*out));
    /* Each byte is at most one suboption, and out has room for what a TCP
     * header can carry; a longer option can only come from a caller that
     * did not take it from a TCP header. */
    if (len > TC_ENO_OPT_MAX - 2) {
        return TC_E_ENO_MALFORMED;
    }
    while (i < len) {
        uint8_t b = p[i];

        if (b < 0x20) {
            /* "A receiver MUST ignore all but the first suboption in this
             * range" (§4.2). */
            if (!out->explicit_global) {
                out->global = b;
                out->explicit_global = true;
            }
            i++;
        } else if (b < 0x80) {
            out->teps[out->nteps++] = (struct tc_eno_tep){b, false, NULL, 0};
            i++;
        } else if (b < 0xa0) {
            /* A length byte: the next suboption has nnnnn + 1 data bytes.
             * "A host MUST ignore an ENO option in a SYN segment and MUST
             * disable encryption if ... A length byte indicates that
             * suboption data would extend beyond the end of the TCP ENO
             * option ... [or] is followed by an octet in the range
             * 0x00-0x9f" (§4.4). */
            size_t dlen = (size_t)(b & 0x1f) + 1;

            if (i + 1 >= len || p[i + 1] < 0xa0 || i + 2 + dlen > len) {
                return TC_E_ENO_MALFORMED;
            }
            out->teps[out->nteps++] = (struct tc_eno_tep){(uint8_t)(p[i + 1] & 0x7f), true,
                                                          p + i + 2, dlen};
            i += 2 + dlen;
        } else {
            /* v = 1 without a length byte: data to the end of the option. */
            out->teps[out->nteps++] =
                (struct tc_eno_tep){(uint8_t)(b & 0x7f), true, p + i + 1, len - i - 1};
            i = len;
        }
    }
    return TC_OK;
}

size_t tc_eno_build_syn(uint8_t *out, size_t cap, bool with_global, uint8_t global,
                        const struct tc_eno_offer *offers, size_t n)
{
    size_t pos = 2;

    if (cap < 2) {
        return 0;
    }
    if (with_global) {
        if (pos + 1 > cap) {
            return 0;
        }
        out[pos++] = global & TC_ENO_GOPT_MASK; /* z bits "MUST be set to zero" */
    }
    for (size_t k = 0; k < n; k++) {
        const struct tc_eno_offer *o = &offers[k];
        bool last = k + 1 == n;
        size_t need = 1 + (o->v ? o->len : 0) + (o->v && !last ? 1 : 0);

        if (o->id < TC_ENO_TEP_MIN || o->id > 0x7f || pos + need > cap) {
            return 0;
        }
        if (o->v && !last) {
            if (o->len < 1 || o->len > 32) {
                return 0;
            }
            out[pos++] = (uint8_t)(0x80 | (o->len - 1));
        }
        out[pos++] = (uint8_t)(o->id | (o->v ? 0x80 : 0));
        if (o->v && o->len > 0) {
            memcpy(out + pos, o->data, o->len);
            pos += o->len;
        }
    }
    if (pos > TC_ENO_OPT_MAX) {
        return 0;
    }
    out[0] = TC_ENO_KIND;
    out[1] = (uint8_t)pos;
    return pos;
}

/*
 * The TCP header holds at most 40 option bytes (RFC 9293 §3.1), and a SYN
 * must stay valid whatever we wish to offer.  RFC 8548 §3.5 lets the nonce be
 * anything from 0 to 8 bytes ("MUST have a minimum length of zero bytes and
 * maximum length of eight bytes") and asks for 8 by default only where the
 * reuse of session secrets cannot be prohibited; our cache is memory only and
 * takes each secret out before it is used, so a nonce shortened to fit still
 * has both ends' randomness in sn[i] = nonce_a | nonce_b.  Below the floor we
 * prefer a fresh key exchange to a weaker nonce than the operator expects.
 */
bool tc_eno_fit_resume(size_t room, size_t fixed, size_t nfresh, size_t want, size_t *keep,
                       size_t *nonce_len)
{
    size_t floor = want < TC_ENO_RESUME_NONCE_FLOOR ? want : TC_ENO_RESUME_NONCE_FLOOR;
    size_t base;

    if (want > TC_RESUME_NONCE_MAX) {
        want = TC_RESUME_NONCE_MAX;
    }
    if (room > TC_ENO_OPT_MAX) {
        room = TC_ENO_OPT_MAX;
    }
    /* Fresh offers give way first, the nonce keeps its length. */
    for (size_t k = nfresh + 1; k-- > 0;) {
        base = fixed + k + 1 + TC_RESUME_HALF_LEN;
        if (base + want <= room) {
            *keep = k;
            *nonce_len = want;
            return true;
        }
    }
    /* Then the nonce shrinks, down to the floor. */
    base = fixed + 1 + TC_RESUME_HALF_LEN;
    if (base + floor <= room) {
        *keep = 0;
        *nonce_len = room - base < want ? room - base : want;
        return true;
    }
    *keep = nfresh;
    *nonce_len = 0;
    return false;
}

static const struct tc_eno_tep *find_tep(const struct tc_eno_syn *s, uint8_t id)
{
    for (size_t k = 0; k < s->nteps; k++) {
        if (s->teps[k].id == id) {
            return &s->teps[k];
        }
    }
    return NULL;
}

int tc_eno_negotiate(const struct tc_eno_syn *mine, const struct tc_eno_syn *peer,
                     bool aa_mandatory, tc_eno_tep_valid_fn valid, void *ctx,
                     struct tc_eno_result *res)
{
    bool my_b = (mine->global & TC_ENO_GOPT_B) != 0;
    bool peer_b = (peer->global & TC_ENO_GOPT_B) != 0;
    const struct tc_eno_syn *a, *b;

    memset(res, 0, sizeof(*res));
    res->peer_global = peer->global;
    /* "incompatible" means the two hosts set the same "b" value, or the
     * connection is in mandatory application-aware mode and the remote host
     * set a = 0 (§4.6). */
    if (my_b == peer_b) {
        return TC_E_ENO_SAME_ROLE;
    }
    if (aa_mandatory && (peer->global & TC_ENO_GOPT_A) == 0) {
        return TC_E_ENO_NOT_AWARE;
    }
    res->we_are_b = my_b;
    a = my_b ? peer : mine;
    b = my_b ? mine : peer;
    /* "the negotiated TEP is defined as the last valid TEP identifier in
     * host B's SYN-form ENO option" (§4.5): scan B's list from its end. */
    for (size_t k = b->nteps; k-- > 0;) {
        const struct tc_eno_tep *bt = &b->teps[k];
        const struct tc_eno_tep *at = find_tep(a, bt->id);

        if (at == NULL) {
            continue;
        }
        if (valid != NULL && !valid(ctx, at, bt)) {
            continue;
        }
        res->a_tep = at;
        res->b_tep = bt;
        return TC_OK;
    }
    return TC_E_ENO_NO_TEP;
}
