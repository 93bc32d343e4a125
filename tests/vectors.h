/*
 * Reader for tests/vectors/tcpcrypt-kat.txt, the known-answer vectors made
 * by the independent Python implementation (tests/vectors/gen_vectors.py):
 * blank-line separated records of "key = hex" lines.
 */
#ifndef TCPCRYPT_TESTS_VECTORS_H
#define TCPCRYPT_TESTS_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#define TC_VEC_MAX_FIELDS 40

struct tc_vec_record {
    size_t nfields;
    const char *key[TC_VEC_MAX_FIELDS];
    const char *value[TC_VEC_MAX_FIELDS];
};

struct tc_vec_file {
    char *text;
    size_t nrecords;
    struct tc_vec_record *records;
};

/* Load the file named by $TC_VECTORS (or path); exits on failure. */
void tc_vec_load(struct tc_vec_file *f, const char *path);
void tc_vec_free(struct tc_vec_file *f);

/* The raw text of a field, or NULL. */
const char *tc_vec_str(const struct tc_vec_record *r, const char *key);
/* Decode a hex field into a new buffer (caller frees); exits if missing. */
uint8_t *tc_vec_hex(const struct tc_vec_record *r, const char *key, size_t *len);
/* A hex field that must have exactly len bytes, into out. */
void tc_vec_fixed(const struct tc_vec_record *r, const char *key, uint8_t *out, size_t len);
/* A big-endian integer field of up to 8 bytes. */
uint64_t tc_vec_uint(const struct tc_vec_record *r, const char *key);
/* The record of the given kind and name, or NULL. */
const struct tc_vec_record *tc_vec_find(const struct tc_vec_file *f, const char *kind,
                                        const char *name);

#endif
