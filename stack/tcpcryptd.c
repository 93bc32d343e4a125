/*
 * tcpcryptd: the daemon that gives unmodified applications tcpcrypt
 * (RFC 8548 over TCP-ENO, RFC 8547).  One process, one event loop, one lwIP
 * instance on one link; applications reach it through the control socket
 * (stack/ctl_proto.h) via libtcpcrypt_preload.so.
 *
 * This file: flags, setup, the event loop, clean shutdown.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/wire.h"
#include "lwip/init.h"
#include "lwip/timeouts.h"
#include "stack/conn.h"
#include "stack/ctl.h"
#include "stack/ctl_proto.h"
#include "stack/eno_lwip.h"
#include "stack/link.h"
#include "stack/log.h"
#include "stack/loop.h"
#include "stack/netif.h"
#include "tc_lwip_hooks.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define EPH_LIFETIME_DEFAULT_MS 1000
#define EPH_LIFETIME_MAX_MS 3600000
#define TICK_MS 1000
#define RESUME_ENTRIES_DEFAULT 4096
#define RESUME_ENTRIES_MAX 1000000
#define RESUME_LIFETIME_DEFAULT_S 3600
#define RESUME_LIFETIME_MAX_S 604800
#define RESUME_NONCE_DEFAULT 8
/* RFC 8548 sets no bound on the Init1/Init2 exchange; a peer that completes
 * TCP and then stays silent must not hold a listener's slot for long. */
#define HANDSHAKE_TIMEOUT_DEFAULT_MS 10000
#define HANDSHAKE_TIMEOUT_MIN_MS 100
#define HANDSHAKE_TIMEOUT_MAX_MS 600000

struct options {
    const char *tap;
    struct tc_link_dpdk_config dpdk; /* eal_args NULL: no --dpdk */
    const char *control;
    const char *keylog;
    struct tc_netif_config net;
    bool has_mac;
    uint64_t eph_lifetime_ms;
    uint64_t handshake_timeout_ms;
    size_t resume_entries;
    uint64_t resume_lifetime_s;
    size_t resume_nonce_len;
    struct tc_ctl_sockopts defaults; /* TCP_CRYPT_* for every connection */
    uint16_t plain_ports[TC_PLAIN_PORTS_MAX];
    size_t nplain_ports;
    uint8_t teps[4]; /* --teps, most preferred first */
    size_t nteps;
    bool eno;
    int log_level;
};

static volatile bool stopping;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tcpcryptd (--tap NAME | --dpdk \"EAL ARGS\") --addr ADDR/PREFIX [options]\n"
            "\n"
            "Opportunistic encryption (tcpcrypt, RFC 8548, over TCP-ENO, RFC 8547) for the TCP\n"
            "connections of programs run with libtcpcrypt_preload.so (see tcpcrypt-run).\n"
            "Runs in the foreground and logs to stderr.\n"
            "\n"
            "  --tap NAME           the TAP device to use (created if absent, brought up)\n"
            "  --dpdk \"EAL ARGS\"    instead of --tap: the one Ethernet port of a DPDK\n"
            "                       poll-mode driver, e.g. \"-a 0000:01:00.0\" or \"--no-pci\n"
            "                       --no-huge -m 256 --file-prefix tc --vdev=net_tap0\"\n"
            "  --dpdk-mbufs N       DPDK packet buffers (default %d, %d to %d)\n"
            "  --busy-poll          DPDK: poll without pause (one core at 100%%); by\n"
            "                       default the poll sleeps up to 1 ms when idle\n"
            "  --addr ADDR/PREFIX   an address of the daemon, IPv4 or IPv6 (repeatable: one\n"
            "                       IPv4, two IPv6; an IPv6 link-local one is added itself)\n"
            "  --gw ADDR            default gateway, IPv4 and/or IPv6 (repeatable)\n"
            "  --mac XX:XX:XX:XX:XX:XX\n"
            "                       the daemon's MAC on a tap (default: random, locally\n"
            "                       administered); with --dpdk, the port's own\n"
            "  --control PATH       control socket (default %s)\n"
            "  --keylog FILE        append session secrets for decrypting captures (also\n"
            "                       $TCPCRYPT_KEYLOGFILE); debugging only\n"
            "  --eph-lifetime MS    how long a passive opener reuses an ephemeral key\n"
            "                       (default %d, 0: a fresh key for every connection)\n"
            "  --handshake-timeout MS\n"
            "                       a connection whose tcpcrypt handshake (Init1, Init2)\n"
            "                       has not finished this long after TCP is established\n"
            "                       is reset (default %d, %d to %d)\n"
            "  --resume-cache N     session-resumption cache entries, in memory only\n"
            "                       (default %d, 0: no resumption)\n"
            "  --resume-lifetime S  seconds an unused resumption secret is kept (default %d)\n"
            "  --resume-nonce N     nonce bytes in our resumption offers, 0 to 8 (default %d)\n"
            "  --teps LIST          key exchanges to negotiate, most preferred first, from\n"
            "                       x25519, x448, p256, p521 (default x25519,x448)\n"
            "  --aeads LIST         AEADs offered as A and preferred as B, in order, from\n"
            "                       aes128gcm, aes256gcm, chacha20poly1305 (default: all)\n"
            "  --plain-port PORT    never offer tcpcrypt on this port (a connection's remote\n"
            "                       port, a listener's own; repeatable), e.g. 443\n"
            "  --mandatory          refuse plain TCP unless an application allows it\n"
            "  --app-aware          set the application-aware bit a (RFC 8547 §4.2)\n"
            "  --cmode MODE         default, always (only role A), never (only role B)\n"
            "  --nocache            no session resumption for any connection by default\n"
            "  --securst            ignore unauthenticated RST on encrypted connections\n"
            "                       (defaults for the TCP_CRYPT_* socket options, which\n"
            "                       applications override per socket)\n"
            "  --syn-retries N      SYN retransmissions before connect() times out, 1 to 12\n"
            "                       (default 6, lwIP's own)\n"
            "  --config FILE        read options from FILE first: one per line, \"name\n"
            "                       value\" or \"name = value\" for --name value, # comments\n"
            "  --no-eno             no TCP-ENO: plain TCP only (for tests)\n"
            "  -q, --quiet          errors only\n"
            "  -v, --verbose        more detail\n"
            "  -h, --help           this text\n"
            "  -V, --version        the version\n",
            TC_LINK_DPDK_MBUFS_DEFAULT, TC_LINK_DPDK_MBUFS_MIN, TC_LINK_DPDK_MBUFS_MAX,
            TC_CTL_DEFAULT_PATH, EPH_LIFETIME_DEFAULT_MS, HANDSHAKE_TIMEOUT_DEFAULT_MS,
            HANDSHAKE_TIMEOUT_MIN_MS, HANDSHAKE_TIMEOUT_MAX_MS, RESUME_ENTRIES_DEFAULT,
            RESUME_LIFETIME_DEFAULT_S, RESUME_NONCE_DEFAULT);
}

static void __attribute__((noreturn, format(printf, 1, 2))) bad_usage(const char *fmt, ...)
{
    va_list ap;

    fputs("tcpcryptd: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see --help)\n", stderr);
    exit(2);
}

static void __attribute__((noreturn)) fatal(const char *msg)
{
    tc_error("%s", msg);
    exit(1);
}

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;

    if (s[0] < '0' || s[0] > '9') {
        return false;
    }
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno == 0 && *end == '\0' && *out <= max;
}

static void parse_addr(struct options *o, const char *arg)
{
    char buf[INET6_ADDRSTRLEN + 8];
    char *slash;
    struct tc_prefix p;
    unsigned long long len;
    size_t nv4 = 0, nv6 = 0;

    memset(&p, 0, sizeof(p));
    if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf) ||
        (slash = strchr(buf, '/')) == NULL) {
        bad_usage("--addr %s: expected ADDRESS/PREFIX, e.g. 10.0.0.1/24 or fd00::1/64", arg);
    }
    *slash = '\0';
    if (inet_pton(AF_INET, buf, &p.a.v4) == 1) {
        p.family = AF_INET;
    } else if (inet_pton(AF_INET6, buf, &p.a.v6) == 1) {
        p.family = AF_INET6;
    } else {
        bad_usage("--addr %s: '%s' is not an IPv4 or IPv6 address", arg, buf);
    }
    if (!parse_uint(slash + 1, p.family == AF_INET ? 32 : 128, &len) || len < 1) {
        bad_usage("--addr %s: prefix length must be 1 to %d", arg, p.family == AF_INET ? 32 : 128);
    }
    p.len = (unsigned)len;
    if (p.family == AF_INET) {
        uint32_t h = ntohl(p.a.v4.s_addr);

        if (h == 0 || (h >> 24) == 127 || (h >> 28) == 14 || h == 0xffffffffu) {
            bad_usage("--addr %s: not a unicast host address", arg);
        }
    } else if (IN6_IS_ADDR_UNSPECIFIED(&p.a.v6) || IN6_IS_ADDR_LOOPBACK(&p.a.v6) ||
               IN6_IS_ADDR_MULTICAST(&p.a.v6) || IN6_IS_ADDR_V4MAPPED(&p.a.v6) ||
               IN6_IS_ADDR_LINKLOCAL(&p.a.v6)) {
        bad_usage("--addr %s: not a global or unique-local unicast address (the link-local "
                  "one is automatic)",
                  arg);
    }
    for (size_t i = 0; i < o->net.naddrs; i++) {
        if (o->net.addrs[i].family == AF_INET) {
            nv4++;
        } else {
            nv6++;
        }
    }
    if (p.family == AF_INET && nv4 >= 1) {
        bad_usage("--addr %s: only one IPv4 address per link (lwIP 2.1.3)", arg);
    }
    if (p.family == AF_INET6 && nv6 >= TC_NETIF_MAX_V6) {
        bad_usage("--addr %s: at most %d IPv6 addresses", arg, TC_NETIF_MAX_V6);
    }
    o->net.addrs[o->net.naddrs++] = p;
}

static void parse_gw(struct options *o, const char *arg)
{
    if (inet_pton(AF_INET, arg, &o->net.gw4) == 1) {
        if (o->net.has_gw4) {
            bad_usage("--gw %s: an IPv4 gateway was already given", arg);
        }
        o->net.has_gw4 = true;
    } else if (inet_pton(AF_INET6, arg, &o->net.gw6) == 1) {
        if (o->net.has_gw6) {
            bad_usage("--gw %s: an IPv6 gateway was already given", arg);
        }
        o->net.has_gw6 = true;
    } else {
        bad_usage("--gw %s: not an IPv4 or IPv6 address", arg);
    }
}

static void parse_mac(struct options *o, const char *arg)
{
    unsigned b[6];
    char end;

    if (sscanf(arg, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) !=
            6 ||
        strlen(arg) != 17) {
        bad_usage("--mac %s: expected six hex bytes, XX:XX:XX:XX:XX:XX", arg);
    }
    for (int i = 0; i < 6; i++) {
        o->net.mac[i] = (uint8_t)b[i];
    }
    if (o->net.mac[0] & 0x01) {
        bad_usage("--mac %s: a multicast address cannot be a host's", arg);
    }
    if ((b[0] | b[1] | b[2] | b[3] | b[4] | b[5]) == 0) {
        bad_usage("--mac %s: the all-zero address is not a host's", arg);
    }
    o->has_mac = true;
}

static const struct {
    const char *name;
    uint16_t id;
} tep_names[] = {{"x25519", TC_TEP_X25519}, {"x448", TC_TEP_X448}, {"p256", TC_TEP_P256},
                 {"p521", TC_TEP_P521}},
  aead_names[] = {{"aes128gcm", TC_AEAD_AES_128_GCM},
                  {"aes256gcm", TC_AEAD_AES_256_GCM},
                  {"chacha20poly1305", TC_AEAD_CHACHA20_POLY1305}};

/* A comma-separated list of names from table into ids (no repeats). */
static size_t parse_names(const char *flag, const char *arg, const void *table, size_t ntable,
                          uint16_t *ids, size_t max)
{
    const struct {
        const char *name;
        uint16_t id;
    } *t = table;
    char buf[256], *save = NULL, *tok;
    size_t n = 0;

    if (strlen(arg) >= sizeof(buf) || arg[0] == '\0') {
        bad_usage("%s %s: a comma-separated list", flag, arg);
    }
    strcpy(buf, arg);
    for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        size_t k;

        for (k = 0; k < ntable && strcmp(t[k].name, tok) != 0; k++) {
        }
        if (k == ntable) {
            bad_usage("%s: unknown name '%s'", flag, tok);
        }
        for (size_t j = 0; j < n; j++) {
            if (ids[j] == t[k].id) {
                bad_usage("%s: '%s' twice", flag, tok);
            }
        }
        if (n == max) {
            bad_usage("%s: at most %zu names", flag, max);
        }
        ids[n++] = t[k].id;
    }
    return n;
}

static void parse_teps(struct options *o, const char *arg)
{
    uint16_t ids[4];

    o->nteps = parse_names("--teps", arg, tep_names, 4, ids, 4);
    for (size_t i = 0; i < o->nteps; i++) {
        o->teps[i] = (uint8_t)ids[i];
    }
}

static void parse_aeads(struct options *o, const char *arg)
{
    uint16_t ids[3];
    size_t n = parse_names("--aeads", arg, aead_names, 3, ids, 3);

    o->defaults.ncaeads = o->defaults.nsaeads = (uint8_t)n;
    memcpy(o->defaults.caeads, ids, n * sizeof(ids[0]));
    memcpy(o->defaults.saeads, ids, n * sizeof(ids[0]));
}

/*
 * --config FILE: its lines become options placed before the command line's
 * (so the command line wins for single-valued options).  "name value",
 * "name = value" or "name"; blank lines and # comments are skipped.  The
 * strings are kept for the life of the process.
 */
static char **config_args(int argc, char **argv, int *nargc)
{
    const char *path = NULL;
    char **out, line[1024];
    size_t n = 0, cap = 16;
    unsigned lineno = 0;
    FILE *f;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            break;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            path = argv[i + 1];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            path = argv[i] + 9;
        }
    }
    *nargc = argc;
    if (path == NULL) {
        return argv;
    }
    f = fopen(path, "re");
    if (f == NULL) {
        bad_usage("--config %s: %s", path, strerror(errno));
    }
    out = calloc(cap, sizeof(*out));
    if (out == NULL) {
        fatal("out of memory");
    }
    out[n++] = argv[0];
    while (fgets(line, sizeof(line), f) != NULL) {
        char *p = line, *name, *val, *end;

        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            bad_usage("--config %s:%u: line too long", path, lineno);
        }
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p == '#' || *p == '\n' || *p == '\0') {
            continue;
        }
        end = p + strlen(p);
        while (end > p && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) {
            *--end = '\0';
        }
        name = p;
        p += strcspn(p, " \t=");
        val = p;
        if (*p != '\0') {
            *p++ = '\0';
            while (*p == ' ' || *p == '\t' || *p == '=') {
                p++;
            }
            val = p;
        }
        if (strcmp(name, "config") == 0) {
            bad_usage("--config %s:%u: config files do not nest", path, lineno);
        }
        if (n + 3 + (size_t)argc >= cap) {
            char **bigger = realloc(out, 2 * cap * sizeof(*out));

            if (bigger == NULL) {
                fatal("out of memory");
            }
            out = bigger;
            cap *= 2;
        }
        out[n] = malloc(strlen(name) + 3);
        if (out[n] == NULL) {
            fatal("out of memory");
        }
        sprintf(out[n++], "--%s", name);
        if (*val != '\0') {
            out[n] = strdup(val);
            if (out[n++] == NULL) {
                fatal("out of memory");
            }
        }
    }
    fclose(f);
    if (n + (size_t)argc >= cap) {
        char **bigger = realloc(out, (n + (size_t)argc + 1) * sizeof(*out));

        if (bigger == NULL) {
            fatal("out of memory");
        }
        out = bigger;
    }
    for (int i = 1; i < argc; i++) {
        out[n++] = argv[i];
    }
    out[n] = NULL;
    *nargc = (int)n;
    return out;
}

static void parse_flags(int argc, char **argv, struct options *o)
{
    enum { OPT_TAP = 256, OPT_ADDR, OPT_GW, OPT_MAC, OPT_CONTROL, OPT_KEYLOG, OPT_EPH, OPT_NO_ENO,
           OPT_RESUME_CACHE, OPT_RESUME_LIFETIME, OPT_RESUME_NONCE, OPT_TEPS, OPT_AEADS,
           OPT_PLAIN_PORT, OPT_MANDATORY, OPT_APP_AWARE, OPT_CMODE, OPT_NOCACHE, OPT_SECURST,
           OPT_CONFIG, OPT_DPDK, OPT_DPDK_MBUFS, OPT_BUSY_POLL, OPT_SYN_RETRIES,
           OPT_HANDSHAKE_TIMEOUT };
    static const struct option longopts[] = {
        {"tap", required_argument, NULL, OPT_TAP},
        {"addr", required_argument, NULL, OPT_ADDR},
        {"gw", required_argument, NULL, OPT_GW},
        {"mac", required_argument, NULL, OPT_MAC},
        {"control", required_argument, NULL, OPT_CONTROL},
        {"keylog", required_argument, NULL, OPT_KEYLOG},
        {"eph-lifetime", required_argument, NULL, OPT_EPH},
        {"no-eno", no_argument, NULL, OPT_NO_ENO},
        {"resume-cache", required_argument, NULL, OPT_RESUME_CACHE},
        {"resume-lifetime", required_argument, NULL, OPT_RESUME_LIFETIME},
        {"resume-nonce", required_argument, NULL, OPT_RESUME_NONCE},
        {"teps", required_argument, NULL, OPT_TEPS},
        {"aeads", required_argument, NULL, OPT_AEADS},
        {"plain-port", required_argument, NULL, OPT_PLAIN_PORT},
        {"mandatory", no_argument, NULL, OPT_MANDATORY},
        {"app-aware", no_argument, NULL, OPT_APP_AWARE},
        {"cmode", required_argument, NULL, OPT_CMODE},
        {"nocache", no_argument, NULL, OPT_NOCACHE},
        {"securst", no_argument, NULL, OPT_SECURST},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"syn-retries", required_argument, NULL, OPT_SYN_RETRIES},
        {"handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT},
        {"dpdk", required_argument, NULL, OPT_DPDK},
        {"dpdk-mbufs", required_argument, NULL, OPT_DPDK_MBUFS},
        {"busy-poll", no_argument, NULL, OPT_BUSY_POLL},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    unsigned long long v;
    int c;

    memset(o, 0, sizeof(*o));
    argv = config_args(argc, argv, &argc);
    o->control = TC_CTL_DEFAULT_PATH;
    o->keylog = getenv("TCPCRYPT_KEYLOGFILE");
    if (o->keylog != NULL && o->keylog[0] == '\0') {
        o->keylog = NULL;
    }
    o->eph_lifetime_ms = EPH_LIFETIME_DEFAULT_MS;
    o->handshake_timeout_ms = HANDSHAKE_TIMEOUT_DEFAULT_MS;
    o->resume_entries = RESUME_ENTRIES_DEFAULT;
    o->resume_lifetime_s = RESUME_LIFETIME_DEFAULT_S;
    o->resume_nonce_len = RESUME_NONCE_DEFAULT;
    o->eno = true;
    o->log_level = TC_LOG_INFO;
    o->dpdk.mbufs = TC_LINK_DPDK_MBUFS_DEFAULT;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":qvhV", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_TAP:
            o->tap = optarg;
            break;
        case OPT_ADDR:
            parse_addr(o, optarg);
            break;
        case OPT_GW:
            parse_gw(o, optarg);
            break;
        case OPT_MAC:
            parse_mac(o, optarg);
            break;
        case OPT_CONTROL:
            if (optarg[0] == '\0') {
                bad_usage("--control: empty path");
            }
            o->control = optarg;
            break;
        case OPT_KEYLOG:
            if (optarg[0] == '\0') {
                bad_usage("--keylog: empty path");
            }
            o->keylog = optarg;
            break;
        case OPT_EPH:
            if (!parse_uint(optarg, EPH_LIFETIME_MAX_MS, &v)) {
                bad_usage("--eph-lifetime %s: milliseconds, 0 to %d", optarg, EPH_LIFETIME_MAX_MS);
            }
            o->eph_lifetime_ms = v;
            break;
        case OPT_HANDSHAKE_TIMEOUT:
            if (!parse_uint(optarg, HANDSHAKE_TIMEOUT_MAX_MS, &v) || v < HANDSHAKE_TIMEOUT_MIN_MS) {
                bad_usage("--handshake-timeout %s: milliseconds, %d to %d", optarg,
                          HANDSHAKE_TIMEOUT_MIN_MS, HANDSHAKE_TIMEOUT_MAX_MS);
            }
            o->handshake_timeout_ms = v;
            break;
        case OPT_NO_ENO:
            o->eno = false;
            break;
        case OPT_RESUME_CACHE:
            if (!parse_uint(optarg, RESUME_ENTRIES_MAX, &v)) {
                bad_usage("--resume-cache %s: entries, 0 to %d", optarg, RESUME_ENTRIES_MAX);
            }
            o->resume_entries = v;
            break;
        case OPT_RESUME_LIFETIME:
            if (!parse_uint(optarg, RESUME_LIFETIME_MAX_S, &v) || v == 0) {
                bad_usage("--resume-lifetime %s: seconds, 1 to %d", optarg, RESUME_LIFETIME_MAX_S);
            }
            o->resume_lifetime_s = v;
            break;
        case OPT_RESUME_NONCE:
            if (!parse_uint(optarg, 8, &v)) {
                bad_usage("--resume-nonce %s: bytes, 0 to 8", optarg);
            }
            o->resume_nonce_len = v;
            break;
        case OPT_TEPS:
            parse_teps(o, optarg);
            break;
        case OPT_AEADS:
            parse_aeads(o, optarg);
            break;
        case OPT_PLAIN_PORT:
            if (!parse_uint(optarg, 65535, &v) || v == 0) {
                bad_usage("--plain-port %s: a port, 1 to 65535", optarg);
            }
            if (o->nplain_ports == TC_PLAIN_PORTS_MAX) {
                bad_usage("--plain-port: at most %d ports", TC_PLAIN_PORTS_MAX);
            }
            o->plain_ports[o->nplain_ports++] = (uint16_t)v;
            break;
        case OPT_MANDATORY:
            o->defaults.flags |= TC_CTL_O_MANDATORY;
            break;
        case OPT_APP_AWARE:
            o->defaults.flags |= TC_CTL_O_APP_AWARE;
            break;
        case OPT_CMODE:
            o->defaults.flags &= ~(uint32_t)(TC_CTL_O_ONLY_A | TC_CTL_O_ROLE_B);
            if (strcmp(optarg, "always") == 0) {
                o->defaults.flags |= TC_CTL_O_ONLY_A;
            } else if (strcmp(optarg, "never") == 0) {
                o->defaults.flags |= TC_CTL_O_ROLE_B;
            } else if (strcmp(optarg, "default") != 0) {
                bad_usage("--cmode %s: default, always or never", optarg);
            }
            break;
        case OPT_NOCACHE:
            o->defaults.flags |= TC_CTL_O_NOCACHE;
            break;
        case OPT_SECURST:
            o->defaults.flags |= TC_CTL_O_SECURST;
            break;
        case OPT_CONFIG:
            break; /* read before the command line (see config_args) */
        case OPT_SYN_RETRIES:
            /* lwIP's backoff table has 13 steps */
            if (!parse_uint(optarg, 12, &v) || v == 0) {
                bad_usage("--syn-retries %s: 1 to 12", optarg);
            }
            tc_syn_max_rtx = (unsigned char)v;
            break;
        case OPT_DPDK:
            o->dpdk.eal_args = optarg;
            break;
        case OPT_DPDK_MBUFS:
            if (!parse_uint(optarg, TC_LINK_DPDK_MBUFS_MAX, &v) || v < TC_LINK_DPDK_MBUFS_MIN) {
                bad_usage("--dpdk-mbufs %s: %d to %d", optarg, TC_LINK_DPDK_MBUFS_MIN,
                          TC_LINK_DPDK_MBUFS_MAX);
            }
            o->dpdk.mbufs = (unsigned)v;
            break;
        case OPT_BUSY_POLL:
            o->dpdk.busy_poll = true;
            break;
        case 'q':
            o->log_level = TC_LOG_ERR;
            break;
        case 'v':
            o->log_level = TC_LOG_DEBUG;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf("tcpcryptd %s\n", PACKAGE_VERSION);
            exit(0);
        case ':':
            bad_usage("option '%s' needs an argument", argv[optind - 1]);
        default:
            if (optopt != 0 && optopt < 256) {
                bad_usage("unknown option '-%c'", optopt);
            }
            bad_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        bad_usage("unexpected argument '%s'", argv[optind]);
    }
    if ((o->tap == NULL) == (o->dpdk.eal_args == NULL)) {
        bad_usage("exactly one of --tap NAME and --dpdk \"EAL ARGS\" is required");
    }
    if (o->net.naddrs == 0) {
        bad_usage("--addr ADDR/PREFIX is required (at least one address)");
    }
    for (int fam = 0; fam < 2; fam++) {
        bool has_gw = fam == 0 ? o->net.has_gw4 : o->net.has_gw6, has_addr = false;

        for (size_t i = 0; i < o->net.naddrs; i++) {
            has_addr |= o->net.addrs[i].family == (fam == 0 ? AF_INET : AF_INET6);
        }
        if (has_gw && !has_addr) {
            bad_usage("--gw: an IPv%d gateway needs an IPv%d --addr", fam == 0 ? 4 : 6,
                      fam == 0 ? 4 : 6);
        }
    }
    if (!o->has_mac) {
        /* A random locally administered unicast MAC (IEEE 802: bit 1 of the
         * first byte set, bit 0 clear). */
        randombytes_buf(o->net.mac, sizeof(o->net.mac));
        o->net.mac[0] = (uint8_t)((o->net.mac[0] & 0xfc) | 0x02);
    }
}

/* ------------------------------------------------------------ the loop */

/* Every connection holds a descriptor (its daemon end): take all the
 * descriptors the hard limit allows. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void on_signal(struct tc_watch *w, uint32_t events)
{
    struct signalfd_siginfo si;

    (void)events;
    while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
            stopping = true;
        }
    }
}

static void on_link(struct tc_watch *w, uint32_t events)
{
    (void)w;
    (void)events;
    tc_netif_rx();
}

/* One line a second while SYNs evict half-open connections (a SYN flood,
 * see tc_lwip_set_syn_evict). */
static void syn_flood_note(void)
{
    static u32_t seen;
    u32_t n = tc_lwip_syn_evicted();

    if (n != seen) {
        tc_info("SYN flood: %" PRIu32 " half-open connections evicted in the last second (%" PRIu32
                " in all)",
                (u32_t)(n - seen), n);
        seen = n;
    }
}

static void tick(void *arg)
{
    (void)arg;
    syn_flood_note();
    tc_netif_tick();
    tc_conn_tick();
    tc_ctl_tick();
    sys_timeout(TICK_MS, tick, NULL);
}

int main(int argc, char **argv)
{
    struct options o;
    struct tc_conn_config cc;
    struct tc_link *link;
    struct tc_watch sigw = {.fd = -1}, linkw = {.fd = -1};
    struct tc_link_idle idle = {0};
    char err[TC_LINK_ERR_MAX + 256], desc[512];
    sigset_t sigs;
    int sfd, rc = 0;
    bool loop_pending = false;

    if (sodium_init() < 0) {
        fprintf(stderr, "tcpcryptd: libsodium failed to initialise\n");
        return 1;
    }
    parse_flags(argc, argv, &o);
    tc_log_set_level(o.log_level);
    raise_fd_limit();

    /* SIGINT/SIGTERM arrive as events; a vanished peer of a socket is an
     * error return, never a signal. */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &sigs, NULL) != 0 ||
        (sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        fatal("cannot set up signal handling");
    }
    if (tc_loop_init() != 0) {
        fatal("epoll_create1 failed");
    }
    link = o.tap != NULL ? tc_link_tap_open(o.tap, err) : tc_link_dpdk_open(&o.dpdk, err);
    if (link == NULL) {
        fatal(err);
    }
    tc_stats_start(link);
    lwip_init();
    tc_lwip_set_syn_evict(true);
    if (tc_netif_start(link, &o.net, err, sizeof(err)) != 0) {
        fatal(err);
    }
    if (o.eno) {
        /* TEPs in increasing preference (RFC 8547 §4.5): X25519 first of all,
         * then X448; the P-curves are implemented but not offered. */
        struct tc_eno_config ec = {.teps = {TC_TEP_X448, TC_TEP_X25519},
                                   .nteps = 2,
                                   .rst_ignored = tc_conn_rst_ignored};

        if (o.nteps > 0) {
            /* --teps lists the most preferred first; ENO the other way round */
            for (size_t i = 0; i < o.nteps; i++) {
                ec.teps[i] = o.teps[o.nteps - 1 - i];
            }
            ec.nteps = o.nteps;
        }
        tc_eno_lwip_init(&ec);
    }
    if (o.keylog != NULL && tc_keylog_open(o.keylog) != 0) {
        snprintf(err, sizeof(err), "key log %s: %s", o.keylog, strerror(errno));
        fatal(err);
    }
    memset(&cc, 0, sizeof(cc));
    cc.eno = o.eno;
    cc.eph_lifetime_ms = o.eph_lifetime_ms;
    cc.handshake_timeout_ms = o.handshake_timeout_ms;
    cc.resume_entries = o.resume_entries;
    cc.resume_lifetime_ms = o.resume_lifetime_s * 1000;
    cc.resume_nonce_len = o.resume_nonce_len;
    cc.defaults = o.defaults;
    memcpy(cc.plain_ports, o.plain_ports, sizeof(cc.plain_ports));
    cc.nplain_ports = o.nplain_ports;
    if (!tc_conn_init(&cc)) {
        fatal("out of memory for the resumption cache");
    }
    if (tc_ctl_open(o.control, err, sizeof(err)) != 0) {
        fatal(err);
    }
    if (tc_loop_add(&sigw, sfd, EPOLLIN, on_signal) != 0 ||
        (link->fd >= 0 && tc_loop_add(&linkw, link->fd, EPOLLIN, on_link) != 0)) {
        tc_ctl_close();
        fatal("cannot watch the link");
    }
    sys_timeout(TICK_MS, tick, NULL);
    tc_netif_describe(desc, sizeof(desc));
    tc_info("listening on %s, %s %s, addresses %s; %s", o.control, link->ops->kind, link->name,
            desc, o.eno ? "TCP-ENO with tcpcrypt (X25519, X448)" : "plain TCP only (--no-eno)");
    link->ops->status(link, err, sizeof(err));
    tc_info("link: %s", err);
    if (o.keylog != NULL) {
        tc_info("key log %s: session secrets are written to disk (debugging only)", o.keylog);
    }

    while (!stopping) {
        u32_t sleep = sys_timeouts_sleeptime();
        int timeout = loop_pending                               ? 0
                      : sleep == SYS_TIMEOUTS_SLEEPTIME_INFINITE ? -1
                      : sleep > INT_MAX                          ? INT_MAX
                                                                 : (int)sleep;

        /* A polled link (fd -1): poll every round, sleep only when idle. */
        long wait_us = timeout < 0 ? -1 : 1000L * timeout;
        int nev;
        bool worked;

        if (link->fd < 0 && (wait_us < 0 || wait_us > (long)idle.sleep_us)) {
            wait_us = idle.sleep_us;
        }
        if ((nev = tc_loop_once_us(wait_us)) < 0) {
            tc_error("epoll_wait: %s", strerror(errno));
            rc = 1;
            break;
        }
        worked = link->fd < 0 && (tc_netif_rx() > 0 || nev > 0);
        sys_check_timeouts();
        loop_pending = tc_netif_poll();
        worked |= tc_netif_flush();
        if (link->fd < 0) {
            (void)tc_link_idle_next(link, &idle, worked);
        }
        tc_loop_reap();
    }

    tc_info("shutting down");
    tc_conn_fini();
    tc_ctl_close();
    tc_loop_del(&linkw);
    tc_loop_del(&sigw);
    close(sfd);
    tc_netif_stop();
    tc_link_close(link);
    tc_keylog_close();
    tc_loop_fini();
    return rc;
}
