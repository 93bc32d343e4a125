/*
 * The tcpcrypt wire format (RFC 8548) and the TCP-ENO values it relies on
 * (RFC 8547), as named constants and fixed sizes.  Every other file takes its
 * numbers from here.
 */
#ifndef TCPCRYPT_CRYPTO_WIRE_H
#define TCPCRYPT_CRYPTO_WIRE_H

/* RFC 8547 §4.1: the ENO option kind. */
#define TC_ENO_KIND 69

/* RFC 8548 §7 Table 4: TEP identifiers (v = 0).  v is bit 7 (RFC 8547 §4.1). */
enum tc_tep {
    TC_TEP_P256 = 0x21,
    TC_TEP_P521 = 0x22,
    TC_TEP_X25519 = 0x23,
    TC_TEP_X448 = 0x24,
};
#define TC_TEP_V_BIT 0x80

/* RFC 8548 §7 Table 5: AEAD identifiers, two bytes on the wire. */
enum tc_aead_id {
    TC_AEAD_AES_128_GCM = 0x0001,
    TC_AEAD_AES_256_GCM = 0x0002,
    TC_AEAD_CHACHA20_POLY1305 = 0x0010,
};

/* RFC 8548 §4.3 Table 1. */
#define TC_CONST_NEXTK 0x01
#define TC_CONST_SESSID 0x02
#define TC_CONST_REKEY 0x03
#define TC_CONST_KEY_A 0x04
#define TC_CONST_KEY_B 0x05
#define TC_CONST_RESUME 0x06
#define TC_INIT1_MAGIC 0x15101a0eU
#define TC_INIT2_MAGIC 0x097105e0U

/* RFC 8548 §5: lengths shared by all four TEPs. */
#define TC_NONCE_LEN 32 /* N_A_LEN = N_B_LEN */
#define TC_K_LEN 32     /* session secrets and master keys */
#define TC_SESSID_LEN (1 + TC_K_LEN)
#define TC_RESUME_ID_LEN 18   /* §3.5: resume[i] = CPRF(ss[i], CONST_RESUME, 18) */
#define TC_RESUME_HALF_LEN 9  /* each host sends one half */
#define TC_RESUME_NONCE_MAX 8 /* §3.5: nonce of 0 to 8 bytes */
#define TC_RESUME_NONCE_DEFAULT 8

/* RFC 8548 §4.1: Init1 = magic(4) len(4) nciphers(1) ciphers(2K) N_A Pub_A [ignored]. */
#define TC_INIT1_FIXED_LEN 9
/* Init2 = magic(4) len(4) sym_cipher(2) N_B Pub_B [ignored]. */
#define TC_INIT2_FIXED_LEN 10
#define TC_INIT_HDR_LEN 8 /* magic and message_len: enough to learn the length */

/* RFC 8548 §5: public key sizes on the wire.  The P-curves carry a two-byte
 * pubkey_len that, as the figure is drawn (bytes 0..L-1, pubkey_len = L),
 * counts itself, followed by the compressed point. */
#define TC_X25519_PUB_LEN 32
#define TC_X448_PUB_LEN 56
#define TC_P256_POINT_LEN 33
#define TC_P521_POINT_LEN 67
#define TC_P256_PUB_LEN (2 + TC_P256_POINT_LEN)
#define TC_P521_PUB_LEN (2 + TC_P521_POINT_LEN)
#define TC_PUB_MAX TC_P521_PUB_LEN
#define TC_ES_MAX 66 /* P-521 x-coordinate */
#define TC_PRIV_MAX 66

/* RFC 8548 §4.2: frame = control(1) clen(2) ciphertext(clen), clen < 2^16. */
#define TC_FRAME_HDR_LEN 3
#define TC_FRAME_AD_LEN 3 /* §4.2.2: associated data = control | clen */
#define TC_CLEN_MAX 0xffff
#define TC_CTRL_REKEY 0x01 /* bits 7..1 are cres: sent as 0, ignored */
#define TC_FLAG_FINP 0x01  /* §4.2.1: bits 7..2 are fres: sent as 0, ignored */
#define TC_FLAG_URGP 0x02
#define TC_URGENT_LEN 2
#define TC_AEAD_TAG_LEN 16   /* all three AEADs of Table 3 */
#define TC_AEAD_NONCE_LEN 12 /* ae_nonce_len of all three AEADs */
#define TC_AEAD_KEY_MAX 32
#define TC_TRAFFIC_KEY_MAX (TC_AEAD_KEY_MAX + TC_AEAD_NONCE_LEN)
#define TC_FRAME_OVERHEAD (TC_FRAME_HDR_LEN + 1 + TC_AEAD_TAG_LEN)
/* Largest frame: control, clen, and clen = 65535 bytes of ciphertext. */
#define TC_FRAME_MAX (TC_FRAME_HDR_LEN + TC_CLEN_MAX)
/* Application bytes in a frame without the urgent field. */
#define TC_FRAME_DATA_MAX (TC_CLEN_MAX - TC_AEAD_TAG_LEN - 1)

#endif
