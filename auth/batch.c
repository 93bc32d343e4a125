/*
 * Batch signing: the first connection to arrive opens a round that stays
 * open for window_us or until max_batch connections joined; its thread then
 * builds the tree, makes the round's one signature and wakes the others,
 * and every thread sends its own leaf's path.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/wire.h"

struct round {
    uint8_t (*leaves)[TC_AUTH_HASH_LEN];
    size_t count;
    int closed; /* no more joiners */
    int done;   /* signed (or failed: err) */
    int err;
    unsigned refs;
    uint8_t sig[TC_AUTH_SIG_MAX];
    size_t sig_len;
};

struct tcpcrypt_auth_batch {
    struct tcpcrypt_auth_signer *signer;
    unsigned window_us, max_batch;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct round *open; /* the round accepting joiners, or NULL */
    atomic_ulong sessions, signatures;
};

struct tcpcrypt_auth_batch *tcpcrypt_auth_batch_new(struct tcpcrypt_auth_signer *signer,
                                                    unsigned window_us, unsigned max_batch,
                                                    int *err)
{
    struct tcpcrypt_auth_batch *b;
    pthread_condattr_t ca;

    if (signer == NULL || max_batch == 0 || max_batch > TC_AUTH_TREE_MAX ||
        window_us > 10u * 1000 * 1000) {
        if (err != NULL) {
            *err = TCPCRYPT_AUTH_ECONFIG;
        }
        return NULL;
    }
    b = calloc(1, sizeof(*b));
    if (b == NULL || pthread_condattr_init(&ca) != 0) {
        free(b);
        if (err != NULL) {
            *err = TCPCRYPT_AUTH_EINTERNAL;
        }
        return NULL;
    }
    b->signer = signer;
    b->window_us = window_us;
    b->max_batch = max_batch;
    atomic_init(&b->sessions, 0);
    atomic_init(&b->signatures, 0);
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_mutex_init(&b->lock, NULL) != 0) {
        pthread_condattr_destroy(&ca);
        free(b);
        if (err != NULL) {
            *err = TCPCRYPT_AUTH_EINTERNAL;
        }
        return NULL;
    }
    if (pthread_cond_init(&b->cond, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        pthread_mutex_destroy(&b->lock);
        free(b);
        if (err != NULL) {
            *err = TCPCRYPT_AUTH_EINTERNAL;
        }
        return NULL;
    }
    pthread_condattr_destroy(&ca);
    if (err != NULL) {
        *err = TCPCRYPT_AUTH_OK;
    }
    return b;
}

void tcpcrypt_auth_batch_stats(const struct tcpcrypt_auth_batch *batch, unsigned long *sessions,
                               unsigned long *signatures)
{
    if (sessions != NULL) {
        *sessions = batch != NULL ? atomic_load(&batch->sessions) : 0;
    }
    if (signatures != NULL) {
        *signatures = batch != NULL ? atomic_load(&batch->signatures) : 0;
    }
}

/* Frees the batch; no thread may still be inside
 * tcpcrypt_auth_cert_server_batch() (the caller joins them first). */
void tcpcrypt_auth_batch_free(struct tcpcrypt_auth_batch *batch)
{
    if (batch == NULL) {
        return;
    }
    pthread_cond_destroy(&batch->cond);
    pthread_mutex_destroy(&batch->lock);
    free(batch);
}

static void round_put(struct round *r)
{
    if (--r->refs == 0) {
        free(r->leaves);
        free(r);
    }
}

/* Signs a closed round (called without the lock: the leaves no longer
 * change). */
static int round_sign(struct tcpcrypt_auth_batch *b, struct round *r)
{
    uint8_t root[TC_AUTH_HASH_LEN], tbs[128];
    size_t tbs_len;

    tc_auth_merkle_root((const uint8_t(*)[TC_AUTH_HASH_LEN])r->leaves, r->count, root);
    tbs_len = tc_auth_root_tbs(root, (uint32_t)r->count, tbs, sizeof(tbs));
    return tc_auth_sign(b->signer, tbs, tbs_len, r->sig, &r->sig_len);
}

int tcpcrypt_auth_cert_server_batch(int fd, const struct tcpcrypt_session *s,
                                    struct tcpcrypt_auth_batch *batch)
{
    uint8_t leaf[TC_AUTH_HASH_LEN], path[TC_AUTH_PATH_MAX][TC_AUTH_HASH_LEN];
    uint8_t sig[TC_AUTH_SIG_MAX];
    struct tcpcrypt_session ses;
    struct tc_auth_io io;
    struct round *r;
    size_t index, count, path_len, sig_len;
    int err, leader = 0;

    if (batch == NULL) {
        return TCPCRYPT_AUTH_ECONFIG;
    }
    err = tc_auth_begin(&io, fd, TC_AUTH_M_CERT, s, &ses);
    if (err != TCPCRYPT_AUTH_OK) {
        return err;
    }
    tc_auth_leaf(&ses, leaf);

    pthread_mutex_lock(&batch->lock);
    r = batch->open;
    if (r == NULL) {
        r = calloc(1, sizeof(*r));
        if (r == NULL || (r->leaves = calloc(batch->max_batch, TC_AUTH_HASH_LEN)) == NULL) {
            free(r);
            pthread_mutex_unlock(&batch->lock);
            return TCPCRYPT_AUTH_EINTERNAL;
        }
        batch->open = r;
        leader = 1;
    }
    r->refs++;
    index = r->count++;
    memcpy(r->leaves[index], leaf, TC_AUTH_HASH_LEN);
    if (r->count == batch->max_batch) {
        r->closed = 1;
        batch->open = NULL;
        pthread_cond_broadcast(&batch->cond);
    }
    if (leader) {
        struct timespec deadline;

        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += batch->window_us / 1000000;
        deadline.tv_nsec += (long)(batch->window_us % 1000000) * 1000;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        while (!r->closed) {
            if (pthread_cond_timedwait(&batch->cond, &batch->lock, &deadline) == ETIMEDOUT) {
                break;
            }
        }
        if (batch->open == r) {
            batch->open = NULL;
        }
        r->closed = 1;
        pthread_mutex_unlock(&batch->lock);
        err = round_sign(batch, r);
        pthread_mutex_lock(&batch->lock);
        r->err = err;
        r->done = 1;
        if (err == TCPCRYPT_AUTH_OK) {
            atomic_fetch_add(&batch->signatures, 1);
            atomic_fetch_add(&batch->sessions, r->count);
        }
        pthread_cond_broadcast(&batch->cond);
    } else {
        while (!r->done) {
            pthread_cond_wait(&batch->cond, &batch->lock);
        }
    }
    err = r->err;
    count = r->count;
    sig_len = r->sig_len;
    memcpy(sig, r->sig, sig_len);
    pthread_mutex_unlock(&batch->lock);
    /* The round is complete and no longer changes: read its leaves
     * without the lock, then drop this thread's reference. */
    path_len =
        tc_auth_merkle_path((const uint8_t(*)[TC_AUTH_HASH_LEN])r->leaves, count, index, path);
    pthread_mutex_lock(&batch->lock);
    round_put(r);
    pthread_mutex_unlock(&batch->lock);
    if (err != TCPCRYPT_AUTH_OK) {
        return err;
    }
    return tc_auth_cert_send(&io, &ses, batch->signer, (uint32_t)count, (uint32_t)index, path,
                             path_len, sig, sig_len);
}
