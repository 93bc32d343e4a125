/*
 * tcpcryptctl's listings: resumption cache entries become records without
 * secrets (stack/admin_cache.c), and records become text and JSON
 * (tools/ctl_format.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/resume.h"
#include "stack/admin.h"
#include "tests/check.h"
#include "tools/ctl_format.h"

/* The output of fn as a string (caller frees). */
#define CAPTURE(out, call)                       \
    do {                                         \
        size_t len_;                             \
        FILE *f = open_memstream(&(out), &len_); \
        call;                                    \
        fclose(f);                               \
    } while (0)

static bool contains(const void *hay, size_t n, const void *needle, size_t m)
{
    return memmem(hay, n, needle, m) != NULL;
}

static void test_cache(void)
{
    struct tc_resume_cache c;
    struct tc_ctl_a_cache rec[4];
    uint8_t ss[TC_K_LEN], v4[4] = {10, 0, 0, 2}, v6[17] = {6};
    uint64_t id1 = 0, id2 = 0;
    char *out = NULL, want[1024];
    size_t n;

    for (size_t i = 0; i < sizeof(ss); i++) {
        ss[i] = (uint8_t)(0xa0 ^ (i * 7));
    }
    inet_pton(AF_INET6, "fd00::1", v6 + 1);
    CHECK_INT(tc_resume_cache_init(&c, 4, 60000), TC_OK);
    CHECK_INT(tc_resume_store(&c, v4, sizeof(v4), TC_TEP_X25519, TC_AEAD_AES_128_GCM, true, 1, ss,
                              1000, &id1),
              TC_OK);
    CHECK_INT(tc_resume_store(&c, v6, sizeof(v6), TC_TEP_X448 | TC_TEP_V_BIT,
                              TC_AEAD_CHACHA20_POLY1305, false, 7, ss, 3000, &id2),
              TC_OK);

    memset(rec, 0, sizeof(rec));
    n = tc_admin_cache_records(&c, 6000, rec, 4);
    CHECK_INT(n, 2);
    CHECK_INT(rec[0].id, id1);
    CHECK_INT(rec[0].peer_len, 4);
    CHECK_MEM(rec[0].peer, v4, 4);
    CHECK_INT(rec[0].tep, TC_TEP_X25519);
    CHECK(strcmp(rec[0].tep_name, "X25519") == 0);
    CHECK(strcmp(rec[0].aead_name, "AEAD_AES_128_GCM") == 0);
    CHECK_INT(rec[0].orig_a, 1);
    CHECK_INT(rec[0].i, 1);
    CHECK_INT(rec[0].idle_ms, 5000);
    CHECK_INT(rec[0].expires_in_ms, 55000);
    CHECK_INT(rec[1].id, id2);
    CHECK_INT(rec[1].tep, TC_TEP_X448); /* v bit not part of the entry */
    CHECK(strcmp(rec[1].tep_name, "X448") == 0);
    CHECK(strcmp(rec[1].aead_name, "AEAD_CHACHA20_POLY1305") == 0);
    CHECK_INT(rec[1].orig_a, 0);
    CHECK_INT(rec[1].i, 7);
    CHECK_INT(rec[1].idle_ms, 3000);
    CHECK_INT(rec[1].expires_in_ms, 57000);
    /* Nothing of the secret, nor of the identifier halves derived from it. */
    CHECK(!contains(rec, sizeof(rec), ss, 8));
    CHECK(!contains(rec, sizeof(rec), c.entries[0].ss, 8));
    CHECK(!contains(rec, sizeof(rec), c.entries[0].my_half, 8));
    CHECK(!contains(rec, sizeof(rec), c.entries[0].peer_half, 8));
    CHECK(!contains(rec, sizeof(rec), c.entries[1].my_half, 8));

    /* max is honoured; expired entries are not listed. */
    CHECK_INT(tc_admin_cache_records(&c, 6000, rec, 1), 1);
    CHECK_INT(tc_admin_cache_records(&c, 61000, rec, 4), 1);
    CHECK_INT(rec[0].id, id2);
    CHECK_INT(tc_admin_cache_records(&c, 63000, rec, 4), 0);
    n = tc_admin_cache_records(&c, 6000, rec, 4);

    CAPTURE(out, tc_fmt_cache(f, rec, n, true));
    snprintf(want, sizeof(want),
             "[\n"
             "  {\"id\": %llu, \"peer\": \"10.0.0.2\", \"peer_hex\": \"0a000002\", \"tep\": 35, "
             "\"tep_name\": \"X25519\", \"aead\": 1, \"aead_name\": \"AEAD_AES_128_GCM\", "
             "\"orig_role\": \"A\", \"i\": 1, \"idle_ms\": 5000, \"expires_in_ms\": 55000},\n"
             "  {\"id\": %llu, \"peer\": \"fd00::1\", \"peer_hex\": "
             "\"06fd000000000000000000000000000001\", \"tep\": 36, \"tep_name\": \"X448\", "
             "\"aead\": 16, \"aead_name\": \"AEAD_CHACHA20_POLY1305\", \"orig_role\": \"B\", "
             "\"i\": 7, \"idle_ms\": 3000, \"expires_in_ms\": 57000}\n"
             "]\n",
             (unsigned long long)id1, (unsigned long long)id2);
    CHECK(strcmp(out, want) == 0);
    if (strcmp(out, want) != 0) {
        fprintf(stderr, "got:\n%swant:\n%s", out, want);
    }
    free(out);

    CAPTURE(out, tc_fmt_cache(f, rec, n, false));
    snprintf(want, sizeof(want),
             "ID  PEER      TEP     AEAD                    ORIG-ROLE  I  IDLE  EXPIRES-IN\n"
             "%-2llu  10.0.0.2  X25519  AEAD_AES_128_GCM        A          1  5s    55s\n"
             "%-2llu  fd00::1   X448    AEAD_CHACHA20_POLY1305  B          7  3s    57s\n"
             "2 entries\n",
             (unsigned long long)id1, (unsigned long long)id2);
    CHECK(strcmp(out, want) == 0);
    if (strcmp(out, want) != 0) {
        fprintf(stderr, "got:\n%swant:\n%s", out, want);
    }
    free(out);

    CHECK_INT(tc_resume_flush_all(&c), 2);
    CHECK_INT(tc_admin_cache_records(&c, 6000, rec, 4), 0);
    CAPTURE(out, tc_fmt_cache(f, rec, 0, true));
    CHECK(strcmp(out, "[]\n") == 0);
    free(out);
    tc_resume_cache_destroy(&c);
}

static void test_helpers(void)
{
    char b[64];
    uint8_t p5[5] = {4, 192, 0, 2, 1}, p3[3] = {1, 2, 0xff}, p16[16] = {0};

    CHECK(strcmp(tc_fmt_peer(b, sizeof(b), p5, 5), "192.0.2.1") == 0);
    CHECK(strcmp(tc_fmt_peer(b, sizeof(b), p5 + 1, 4), "192.0.2.1") == 0);
    CHECK(strcmp(tc_fmt_peer(b, sizeof(b), p3, 3), "0102ff") == 0);
    p16[15] = 1;
    CHECK(strcmp(tc_fmt_peer(b, sizeof(b), p16, 16), "::1") == 0);
    CHECK(strcmp(tc_fmt_peer(b, 4, p3, 3), "?") == 0); /* no room for the hex */
    CHECK(strcmp(tc_fmt_duration(b, sizeof(b), 999), "0s") == 0);
    CHECK(strcmp(tc_fmt_duration(b, sizeof(b), 59999), "59s") == 0);
    CHECK(strcmp(tc_fmt_duration(b, sizeof(b), 187000), "3m07s") == 0);
    CHECK(strcmp(tc_fmt_duration(b, sizeof(b), 7500000), "2h05m") == 0);
    CHECK(strcmp(tc_fmt_duration(b, sizeof(b), 356400000), "4d03h") == 0);
}

/* Fields the daemon filled to the brim (no NUL) and characters JSON must
 * escape. */
static void test_sessions_and_status(void)
{
    struct tc_ctl_a_conn v[1];
    struct tc_ctl_a_status *s = calloc(1, sizeof(*s));
    struct sockaddr_in *sin = (struct sockaddr_in *)&v[0].local.ss;
    char *out = NULL;

    memset(v, 0, sizeof(v));
    v[0].id = 9;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(80);
    inet_pton(AF_INET, "10.0.0.1", &sin->sin_addr);
    v[0].local.len = sizeof(*sin);
    memset(v[0].state, 'x', sizeof(v[0].state));
    memset(v[0].tep_name, 'T', sizeof(v[0].tep_name));
    snprintf(v[0].aead_name, sizeof(v[0].aead_name), "AEAD_AES_256_GCM");
    v[0].flags = TC_CTL_A_F_ENCRYPTED | TC_CTL_A_F_ROLE_B | TC_CTL_A_F_SID | TC_CTL_A_F_RESUMED;
    v[0].sid_len = 3;
    v[0].sid[0] = 0xa3;
    v[0].sid[1] = 0x01;
    v[0].sid[2] = 0xff;
    v[0].error = EBADMSG;
    v[0].app_in = 5;
    CAPTURE(out, tc_fmt_sessions(f, v, 1, true));
    CHECK(strstr(out, "\"local\": \"10.0.0.1:80\", \"remote\": \"-\"") != NULL);
    CHECK(strstr(out, "\"state\": \"xxxxxxxxxxxxxxxx\",") != NULL);
    CHECK(strstr(out, "\"tep_name\": \"TTTTTTTTTTTTTTTT\",") != NULL);
    CHECK(strstr(out, "\"role\": \"B\", \"resumed\": true, \"session_id\": \"a301ff\"") != NULL);
    CHECK(strstr(out, "\"error\": \"EBADMSG\"}") != NULL);
    free(out);
    CAPTURE(out, tc_fmt_sessions(f, v, 1, false));
    CHECK(strstr(out,
                 "xxxxxxxxxxxxxxxx (EBADMSG)  encrypted  TTTTTTTTTTTTTTTT  AEAD_AES_256_GCM  B") !=
          NULL);
    CHECK(strstr(out, "yes      5   0    0s   a301ff\n") != NULL);
    free(out);

    if (s == NULL) {
        CHECK(s != NULL);
        return;
    }
    s->keylog_on = 1;
    snprintf(s->keylog, sizeof(s->keylog), "/tmp/a \"b\"\\c\n");
    s->nfallback = 1;
    snprintf(s->fallback[0].key, sizeof(s->fallback[0].key), "no_eno");
    s->fallback[0].count = 3;
    s->plain = 3;
    CAPTURE(out, tc_fmt_status(f, s, true));
    CHECK(strstr(out, "\"keylog\": \"/tmp/a \\\"b\\\"\\\\c\\u000a\"") != NULL);
    CHECK(strstr(out, "\"plain_reasons\": {\"no_eno\": 3}, \"failed_reasons\": {}") != NULL);
    free(out);
    /* lwIP's memory: the heap and each pool. */
    s->heap_used = 1536;
    s->heap_max = 4096;
    s->tcp_active = 3;
    s->tcp_half_open = 2;
    s->syn_evicted = 29745;
    s->tcp_time_wait = 128;
    s->tcp_listen = 1;
    s->npools = 2;
    snprintf(s->pools[0].name, sizeof(s->pools[0].name), "TCP_PCB");
    s->pools[0].used = 2;
    s->pools[0].max = 7;
    s->pools[0].avail = 16384;
    snprintf(s->pools[1].name, sizeof(s->pools[1].name), "PBUF_POOL");
    s->pools[1].avail = 4096;
    s->pools[1].err = 1;
    CAPTURE(out, tc_fmt_status(f, s, true));
    CHECK(strstr(out, ", \"lwip\": {\"tcp\": {\"active\": 3, \"half_open\": 2, \"time_wait\": 128, \"listen\": 1, \"syn_evicted\": 29745}, \"heap\": {\"used\": 1536, \"max\": 4096, \"err\": 0}, "
                      "\"pools\": {\"TCP_PCB\": {\"used\": 2, \"max\": 7, \"avail\": 16384, "
                      "\"err\": 0}, \"PBUF_POOL\": {\"used\": 0, \"max\": 0, \"avail\": 4096, "
                      "\"err\": 1}}}}\n") != NULL);
    free(out);
    CAPTURE(out, tc_fmt_status(f, s, false));
    CHECK(strstr(out, "lwip tcp pcbs                  3 active (2 half-open), 128 time-wait, 1 listening\n") != NULL);
    CHECK(strstr(out, "SYN backlog evictions          29745\n") != NULL);
    CHECK(strstr(out, "lwip heap                      1536 bytes (peak 4096, refused 0)\n") != NULL);
    CHECK(strstr(out, "lwip TCP_PCB                   2 of 16384 (peak 7, refused 0)\n") != NULL);
    CHECK(strstr(out, "lwip PBUF_POOL                 0 of 4096 (peak 0, refused 1)\n") != NULL);
    free(out);
    free(s);
}

int main(void)
{
    test_cache();
    test_helpers();
    test_sessions_and_status();
    return tc_check_exit("test_ctlfmt");
}
