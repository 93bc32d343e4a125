#include "tests/vectors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"

__attribute__((noreturn)) static void die(const char *what, const char *detail)
{
    fprintf(stderr, "vectors: %s: %s\n", what, detail);
    exit(2);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long size = -1;

    if (fp == NULL) {
        die("cannot open", path);
    }
    if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        die("cannot size", path);
    }
    buf = malloc((size_t)size + 1);
    if (buf == NULL || fread(buf, 1, (size_t)size, fp) != (size_t)size) {
        die("cannot read", path);
    }
    buf[size] = '\0';
    fclose(fp);
    return buf;
}

void tc_vec_load(struct tc_vec_file *f, const char *path)
{
    const char *env = getenv("TC_VECTORS");
    struct tc_vec_record *cur = NULL;
    size_t cap = 0;
    char *line, *next;

    memset(f, 0, sizeof(*f));
    f->text = slurp(env != NULL ? env : path);
    for (line = f->text; line != NULL && *line != '\0'; line = next) {
        char *eq;

        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        if (line[0] == '#') {
            continue;
        }
        if (line[0] == '\0') {
            cur = NULL;
            continue;
        }
        eq = strstr(line, " =");
        if (eq == NULL) {
            die("line without ' ='", line);
        }
        *eq = '\0';
        if (cur == NULL) {
            if (f->nrecords == cap) {
                cap = cap ? 2 * cap : 64;
                f->records = realloc(f->records, cap * sizeof(*f->records));
                if (f->records == NULL) {
                    die("out of memory", "records");
                }
            }
            cur = &f->records[f->nrecords++];
            memset(cur, 0, sizeof(*cur));
        }
        if (cur->nfields == TC_VEC_MAX_FIELDS) {
            die("too many fields", line);
        }
        cur->key[cur->nfields] = line;
        cur->value[cur->nfields] = eq[2] == ' ' ? eq + 3 : eq + 2;
        cur->nfields++;
    }
    if (f->nrecords == 0) {
        die("no records in", env != NULL ? env : path);
    }
}

void tc_vec_free(struct tc_vec_file *f)
{
    free(f->records);
    free(f->text);
    memset(f, 0, sizeof(*f));
}

const char *tc_vec_str(const struct tc_vec_record *r, const char *key)
{
    for (size_t i = 0; i < r->nfields; i++) {
        if (strcmp(r->key[i], key) == 0) {
            return r->value[i];
        }
    }
    return NULL;
}

static const char *need(const struct tc_vec_record *r, const char *key)
{
    const char *v = tc_vec_str(r, key);

    if (v == NULL) {
        die("missing field", key);
    }
    return v;
}

uint8_t *tc_vec_hex(const struct tc_vec_record *r, const char *key, size_t *len)
{
    const char *v = need(r, key);
    size_t cap = strlen(v) / 2 + 1;
    uint8_t *out = malloc(cap);

    if (out == NULL) {
        die("out of memory", key);
    }
    *len = tc_unhex(out, cap, v);
    return out;
}

void tc_vec_fixed(const struct tc_vec_record *r, const char *key, uint8_t *out, size_t len)
{
    size_t got;
    uint8_t *buf = tc_vec_hex(r, key, &got);

    if (got != len) {
        fprintf(stderr, "vectors: field %s has %zu bytes, want %zu\n", key, got, len);
        exit(2);
    }
    memcpy(out, buf, len);
    free(buf);
}

uint64_t tc_vec_uint(const struct tc_vec_record *r, const char *key)
{
    size_t len;
    uint8_t *buf = tc_vec_hex(r, key, &len);
    uint64_t v = 0;

    if (len > 8) {
        die("integer longer than 8 bytes", key);
    }
    for (size_t i = 0; i < len; i++) {
        v = v << 8 | buf[i];
    }
    free(buf);
    return v;
}

const struct tc_vec_record *tc_vec_find(const struct tc_vec_file *f, const char *kind,
                                        const char *name)
{
    for (size_t i = 0; i < f->nrecords; i++) {
        const char *k = tc_vec_str(&f->records[i], "kind");
        const char *n = tc_vec_str(&f->records[i], "name");

        if (k != NULL && n != NULL && strcmp(k, kind) == 0 && strcmp(n, name) == 0) {
            return &f->records[i];
        }
    }
    return NULL;
}
