/*
 * tcpcrypt-run: run a program with its TCP connections handed to tcpcryptd
 * (LD_PRELOAD=libtcpcrypt_preload.so), like onload or torsocks.
 *
 *   tcpcrypt-run --tap NAME --addr A/P [--addr A/P ...] [--gw G] [--keylog FILE] -- prog args
 *       starts a private tcpcryptd on a control socket in a fresh temporary
 *       directory, runs prog, stops the daemon when prog exits
 *   tcpcrypt-run --daemon SOCKET -- prog args
 *       joins the daemon at SOCKET
 *   tcpcrypt-run -- prog args
 *       joins $TCPCRYPT_SOCKET or the default control path
 *
 * The exit status is prog's (128 + signal if a signal killed it); 126/127
 * when prog cannot be run, 2 for bad flags, 1 when the daemon cannot be
 * started or reached.
 *
 * Found relative to this program first (the build tree: ../preload and
 * ../stack), then where make install puts them; TCPCRYPT_DAEMON and
 * TCPCRYPT_PRELOAD_LIB override.  TCPCRYPT_RUN_TIMEOUT: seconds to wait for
 * the daemon's control socket (default 10).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stack/ctl_proto.h"

#ifndef TC_PKGLIBDIR
#define TC_PKGLIBDIR "/usr/local/lib/tcpcrypt"
#endif
#ifndef TC_BINDIR
#define TC_BINDIR "/usr/local/bin"
#endif
#ifndef TC_SBINDIR
#define TC_SBINDIR "/usr/local/sbin"
#endif

#define PRELOAD_NAME "libtcpcrypt_preload.so"
#define DAEMON_NAME "tcpcryptd"
#define MAX_ADDRS 16
#define STOP_WAIT_MS 5000

static const char usage_text[] =
    "usage: tcpcrypt-run [--tap NAME --addr ADDR/PREFIX [--addr ...] [--gw GW] [--keylog FILE]\n"
    "                     | --daemon SOCKET] [--] program [args...]\n"
    "\n"
    "Runs program with its TCP connections encrypted by tcpcryptd (RFC 8548 tcpcrypt,\n"
    "falling back to plain TCP with peers that do not speak it).\n"
    "  --tap NAME       start a private tcpcryptd on TAP device NAME for this program\n"
    "  --addr A/P       its address(es) on that link (IPv4 and/or IPv6)\n"
    "  --gw G           its default gateway\n"
    "  --keylog FILE    its key log, for decrypting captures (debugging only)\n"
    "  --daemon SOCKET  use the running tcpcryptd listening at SOCKET\n"
    "Without --tap or --daemon: $TCPCRYPT_SOCKET, else " TC_CTL_DEFAULT_PATH ".\n";

struct run {
    const char *tap, *gw, *keylog, *daemon_sock;
    const char *addrs[MAX_ADDRS];
    int naddrs;
    char **argv; /* the program and its arguments */
};

/* The control socket's path must fit a sockaddr_un: so must the directory. */
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char tmpdir[sizeof(sock_path)];
static char log_path[sizeof(sock_path) + 32];
static pid_t daemon_pid = -1;
static volatile sig_atomic_t child_pid = -1;
static volatile sig_atomic_t got_signal;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;

    fputs("tcpcrypt-run: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void __attribute__((noreturn)) usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("tcpcrypt-run: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see --help)\n", stderr);
    exit(2);
}

/* ------------------------------------------------------------ arguments */

static void parse(int argc, char **argv, struct run *r)
{
    enum { O_TAP = 256, O_ADDR, O_GW, O_KEYLOG, O_DAEMON };
    static const struct option longopts[] = {
        {"tap", required_argument, NULL, O_TAP},
        {"addr", required_argument, NULL, O_ADDR},
        {"gw", required_argument, NULL, O_GW},
        {"keylog", required_argument, NULL, O_KEYLOG},
        {"daemon", required_argument, NULL, O_DAEMON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(r, 0, sizeof(*r));
    opterr = 0;
    /* '+': options end at the program's name, which keeps its own flags. */
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (c) {
        case O_TAP:
            r->tap = optarg;
            break;
        case O_ADDR:
            if (r->naddrs == MAX_ADDRS) {
                usage_error("at most %d --addr", MAX_ADDRS);
            }
            if (strchr(optarg, '/') == NULL) {
                usage_error("--addr %s: expected ADDRESS/PREFIX", optarg);
            }
            r->addrs[r->naddrs++] = optarg;
            break;
        case O_GW:
            r->gw = optarg;
            break;
        case O_KEYLOG:
            r->keylog = optarg;
            break;
        case O_DAEMON:
            r->daemon_sock = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            exit(0);
        case ':':
            usage_error("option %s needs a value", argv[optind - 1]);
        default:
            usage_error("unknown option %s", argv[optind - 1]);
        }
    }
    if (r->tap != NULL && r->daemon_sock != NULL) {
        usage_error("--tap and --daemon exclude each other");
    }
    if (r->tap == NULL && (r->naddrs > 0 || r->gw != NULL || r->keylog != NULL)) {
        usage_error("--addr, --gw and --keylog go with --tap");
    }
    if (r->tap != NULL && r->naddrs == 0) {
        usage_error("--tap needs at least one --addr ADDRESS/PREFIX");
    }
    if (r->daemon_sock != NULL &&
        (r->daemon_sock[0] == '\0' || strlen(r->daemon_sock) >= sizeof(sock_path))) {
        usage_error("--daemon %s: a socket path of 1 to %zu characters", r->daemon_sock,
                    sizeof(sock_path) - 1);
    }
    if (optind >= argc) {
        usage_error("no program to run");
    }
    r->argv = argv + optind;
}

/* ------------------------------------------------------------ finding things */

static bool is_file(const char *path, int mode)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, mode) == 0;
}

/* This program's directory (for the build tree layout). */
static bool exe_dir(char *out, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", out, len - 1);
    char *slash;

    if (n <= 0) {
        return false;
    }
    out[n] = '\0';
    slash = strrchr(out, '/');
    if (slash == NULL) {
        return false;
    }
    *slash = '\0';
    return true;
}

/* The first of the candidates that exists, as an absolute path. */
static bool find(const char *env, const char *rel, const char *const installed[], int mode,
                 bool search_path, char *out, size_t len)
{
    char dir[PATH_MAX], cand[PATH_MAX + 64];
    const char *v = getenv(env);

    if (v != NULL && v[0] != '\0') {
        if (!is_file(v, mode) || realpath(v, out) == NULL) {
            say("%s=%s: %s", env, v, errno != 0 ? strerror(errno) : "not usable");
            exit(1);
        }
        return true;
    }
    if (exe_dir(dir, sizeof(dir))) {
        snprintf(cand, sizeof(cand), "%s/%s", dir, rel);
        if (is_file(cand, mode) && realpath(cand, out) != NULL) {
            return true;
        }
    }
    for (int i = 0; installed[i] != NULL; i++) {
        if (is_file(installed[i], mode) && strlen(installed[i]) < len) {
            snprintf(out, len, "%s", installed[i]);
            return true;
        }
    }
    if (search_path && (v = getenv("PATH")) != NULL) {
        const char *name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
        while (*v != '\0') {
            size_t n = strcspn(v, ":");
            snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, n == 0 ? "." : v, name);
            if (is_file(cand, mode) && realpath(cand, out) != NULL) {
                return true;
            }
            v += n + (v[n] == ':');
        }
    }
    return false;
}

/* ------------------------------------------------------------ the daemon */

static bool probe(const char *path)
{
    struct sockaddr_un sa;
    int fd, rc;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    close(fd);
    return rc == 0;
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* The last non-empty line the daemon wrote to its log. */
static void last_line(char *out, size_t len)
{
    char buf[4096];
    ssize_t n = 0;
    int fd = open(log_path, O_RDONLY | O_CLOEXEC);
    char *end, *start;

    snprintf(out, len, "(no message)");
    if (fd < 0) {
        return;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    if (size > 0) {
        off_t from = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
        n = pread(fd, buf, sizeof(buf) - 1, from);
    }
    close(fd);
    if (n <= 0) {
        return;
    }
    buf[n] = '\0';
    end = buf + n;
    while (end > buf && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ')) {
        *--end = '\0';
    }
    start = end;
    while (start > buf && start[-1] != '\n') {
        start--;
    }
    if (*start != '\0') {
        size_t k = strlen(start) < len - 1 ? strlen(start) : len - 1;
        memcpy(out, start, k); /* a long line is cut, not an error */
        out[k] = '\0';
    }
}

/* LD_PRELOAD without our library: the daemon must never be preloaded with it
 * (its own sockets would be handed to itself). */
static void strip_preload(const char *lib)
{
    const char *v = getenv("LD_PRELOAD");
    const size_t nl = strlen(PRELOAD_NAME);
    char out[4096];
    size_t used = 0;

    if (v == NULL) {
        return;
    }
    out[0] = '\0';
    while (*v != '\0') {
        size_t n = strcspn(v, ": ");
        bool ours = (n == strlen(lib) && strncmp(v, lib, n) == 0) ||
                    (n >= nl && strncmp(v + n - nl, PRELOAD_NAME, nl) == 0 &&
                     (n == nl || v[n - nl - 1] == '/'));
        if (n > 0 && !ours && used + n + 2 < sizeof(out)) {
            if (used > 0) {
                out[used++] = ':';
            }
            memcpy(out + used, v, n);
            used += n;
            out[used] = '\0';
        }
        v += n + (v[n] != '\0');
    }
    if (used == 0) {
        unsetenv("LD_PRELOAD");
    } else {
        setenv("LD_PRELOAD", out, 1);
    }
}

static void cleanup_tmp(void)
{
    if (tmpdir[0] == '\0') {
        return;
    }
    unlink(sock_path);
    unlink(log_path);
    rmdir(tmpdir);
    tmpdir[0] = '\0';
}

/* SIGTERM, then a bounded wait, then SIGKILL. */
static void stop_daemon(bool report)
{
    char line[512];
    int status = 0;
    long deadline;
    pid_t w;

    if (daemon_pid <= 0) {
        return;
    }
    w = waitpid(daemon_pid, &status, WNOHANG);
    if (w == daemon_pid) {
        if (report) {
            last_line(line, sizeof(line));
            say("tcpcryptd exited while the program ran (%s %d): %s",
                WIFSIGNALED(status) ? "signal" : "status",
                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), line);
        }
        daemon_pid = -1;
        return;
    }
    kill(daemon_pid, SIGTERM);
    deadline = now_ms() + STOP_WAIT_MS;
    while ((w = waitpid(daemon_pid, &status, WNOHANG)) == 0 && now_ms() < deadline) {
        nap_ms(10);
    }
    if (w == 0) {
        say("tcpcryptd did not stop within %d s: killed", STOP_WAIT_MS / 1000);
        kill(daemon_pid, SIGKILL);
        while (waitpid(daemon_pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    daemon_pid = -1;
}

static void __attribute__((noreturn)) fail_cleanup(int code)
{
    stop_daemon(false);
    cleanup_tmp();
    exit(code);
}

static void start_daemon(const struct run *r, const char *daemon, const char *lib, int timeout_s)
{
    const char *argv[2 * MAX_ADDRS + 16];
    const char *tmp = getenv("TMPDIR");
    char line[512];
    long deadline;
    int n = 0, status, fd;
    pid_t w, parent;

    tmp = tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp";
    if ((size_t)snprintf(tmpdir, sizeof(tmpdir), "%s/tcpcrypt-run.XXXXXX", tmp) >=
        sizeof(tmpdir) - sizeof("/ctl.sock")) {
        say("TMPDIR %s: too long for a control socket path", tmp);
        tmpdir[0] = '\0';
        exit(1);
    }
    if (mkdtemp(tmpdir) == NULL) {
        say("cannot create a temporary directory in %s: %s", tmp, strerror(errno));
        tmpdir[0] = '\0';
        exit(1);
    }
    /* Searchable, not listable: workers that drop privileges (nginx's user,
     * memcached -u) must still reach the control socket inside. */
    if (chmod(tmpdir, 0711) != 0) {
        say("cannot set the mode of %s: %s", tmpdir, strerror(errno));
        exit(1);
    }
    memcpy(sock_path, tmpdir, strlen(tmpdir));
    memcpy(sock_path + strlen(tmpdir), "/ctl.sock", sizeof("/ctl.sock"));
    memcpy(log_path, tmpdir, strlen(tmpdir));
    memcpy(log_path + strlen(tmpdir), "/tcpcryptd.log", sizeof("/tcpcryptd.log"));

    argv[n++] = daemon;
    argv[n++] = "--tap";
    argv[n++] = r->tap;
    for (int i = 0; i < r->naddrs; i++) {
        argv[n++] = "--addr";
        argv[n++] = r->addrs[i];
    }
    if (r->gw != NULL) {
        argv[n++] = "--gw";
        argv[n++] = r->gw;
    }
    if (r->keylog != NULL) {
        argv[n++] = "--keylog";
        argv[n++] = r->keylog;
    }
    argv[n++] = "--control";
    argv[n++] = sock_path;
    argv[n] = NULL;

    parent = getpid();
    daemon_pid = fork();
    if (daemon_pid < 0) {
        say("fork: %s", strerror(errno));
        fail_cleanup(1);
    }
    if (daemon_pid == 0) {
        const char *dbg = getenv("TCPCRYPT_DEBUG");
        /* Its own process group: a ^C meant for the program does not stop
         * the daemon under it; we stop it after the program. */
        setpgid(0, 0);
        /* Should we die without stopping it (SIGKILL), it stops itself. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) {
            _exit(1);
        }
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        strip_preload(lib);
        fd = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, STDIN_FILENO);
            close(fd);
        }
        if (dbg == NULL || strcmp(dbg, "1") != 0) {
            fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
                close(fd);
            }
        }
        execv(daemon, (char *const *)argv);
        dprintf(STDERR_FILENO, "cannot run %s: %s\n", daemon, strerror(errno));
        _exit(127);
    }

    deadline = now_ms() + (long)timeout_s * 1000;
    for (;;) {
        w = waitpid(daemon_pid, &status, WNOHANG);
        if (w == daemon_pid) {
            daemon_pid = -1;
            last_line(line, sizeof(line));
            say("tcpcryptd failed to start: %s", line);
            fail_cleanup(1);
        }
        if (probe(sock_path)) {
            return;
        }
        if (got_signal) {
            fail_cleanup(128 + got_signal);
        }
        if (now_ms() >= deadline) {
            say("tcpcryptd did not open its control socket within %d s", timeout_s);
            fail_cleanup(1);
        }
        nap_ms(20);
    }
}

/* ------------------------------------------------------------ the program */

static void set_env(const char *lib, const char *sock)
{
    const char *old = getenv("LD_PRELOAD");
    char *v;
    size_t n;

    if (old == NULL || old[0] == '\0') {
        setenv("LD_PRELOAD", lib, 1);
    } else if (strstr(old, lib) == NULL) {
        n = strlen(lib) + strlen(old) + 2;
        v = malloc(n);
        if (v == NULL) {
            say("out of memory");
            fail_cleanup(1);
        }
        snprintf(v, n, "%s:%s", lib, old);
        setenv("LD_PRELOAD", v, 1);
        free(v);
    }
    setenv(TC_CTL_ENV_SOCKET, sock, 1);
}

static int exec_status(int e)
{
    return e == ENOENT ? 127 : 126;
}

static void on_signal(int sig)
{
    got_signal = sig;
    if (child_pid > 0 && (sig == SIGTERM || sig == SIGHUP)) {
        kill((pid_t)child_pid, sig);
    }
}

/* Run the program as our child (the daemon is ours to stop afterwards). */
static int run_child(char **argv)
{
    int pipefd[2], e = 0, status = 0;
    ssize_t n;
    pid_t pid, w;

    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        say("pipe: %s", strerror(errno));
        return 1;
    }
    pid = fork();
    if (pid < 0) {
        say("fork: %s", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        close(pipefd[0]);
        execvp(argv[0], argv);
        e = errno;
        (void)!write(pipefd[1], &e, sizeof(e));
        _exit(exec_status(e));
    }
    child_pid = pid;
    close(pipefd[1]);
    do {
        n = read(pipefd[0], &e, sizeof(e));
    } while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    child_pid = -1;
    if (n == (ssize_t)sizeof(e)) {
        say("%s: %s", argv[0], strerror(e));
        return exec_status(e);
    }
    if (w != pid) {
        say("waitpid: %s", strerror(errno));
        return 1;
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
    static const char *const libs[] = {TC_PKGLIBDIR "/" PRELOAD_NAME, NULL};
    static const char *const daemons[] = {TC_SBINDIR "/" DAEMON_NAME, TC_BINDIR "/" DAEMON_NAME,
                                          NULL};
    char lib[PATH_MAX], daemon[PATH_MAX];
    const char *sock, *t;
    struct sigaction sa;
    struct run r;
    int timeout_s = 10, rc;

    parse(argc, argv, &r);
    if (!find("TCPCRYPT_PRELOAD_LIB", "../preload/" PRELOAD_NAME, libs, R_OK, false, lib,
              sizeof(lib))) {
        say("%s not found (looked next to this program and in %s; set TCPCRYPT_PRELOAD_LIB)",
            PRELOAD_NAME, TC_PKGLIBDIR);
        return 1;
    }

    if (r.tap == NULL) {
        /* Nothing to manage: become the program. */
        sock = r.daemon_sock;
        if (sock == NULL) {
            t = getenv(TC_CTL_ENV_SOCKET);
            sock = t != NULL && t[0] != '\0' ? t : TC_CTL_DEFAULT_PATH;
        } else if (!probe(sock)) {
            say("no tcpcryptd answers at %s: %s", sock, strerror(errno));
            return 1;
        }
        set_env(lib, sock);
        execvp(r.argv[0], r.argv);
        rc = errno;
        say("%s: %s", r.argv[0], strerror(rc));
        return exec_status(rc);
    }

    if (!find("TCPCRYPT_DAEMON", "../stack/" DAEMON_NAME, daemons, X_OK, true, daemon,
              sizeof(daemon))) {
        say("%s not found (looked next to this program, in %s, %s and PATH; set "
            "TCPCRYPT_DAEMON)",
            DAEMON_NAME, TC_SBINDIR, TC_BINDIR);
        return 1;
    }
    t = getenv("TCPCRYPT_RUN_TIMEOUT");
    if (t != NULL && t[0] != '\0') {
        timeout_s = atoi(t);
        if (timeout_s <= 0 || timeout_s > 3600) {
            say("TCPCRYPT_RUN_TIMEOUT=%s: seconds, 1 to 3600", t);
            return 2;
        }
    }
    /* Like system(): ^C and ^\ go to the program (same process group); we
     * outlive it to stop the daemon.  SIGTERM and SIGHUP are passed on. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    start_daemon(&r, daemon, lib, timeout_s);
    set_env(lib, sock_path);
    rc = run_child(r.argv);
    stop_daemon(true);
    cleanup_tmp();
    return rc;
}
