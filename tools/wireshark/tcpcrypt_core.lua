-- The Wireshark-independent core of the tcpcrypt dissector (tcpcrypt.lua):
-- wire-format parsers for TCP-ENO (RFC 8547 §4) and tcpcrypt (RFC 8548 §4),
-- and pure-Lua cryptography: SHA-256
-- (FIPS 180-4), HMAC-SHA256 (RFC 2104), HKDF Extract/Expand (RFC 5869) as
-- RFC 8548's Extract and CPRF, AES-128/256 (FIPS 197) in GCM (SP 800-38D),
-- ChaCha20-Poly1305 (RFC 8439), and the tcpcrypt key schedule and frame
-- decryption (RFC 8548 §3.3-§3.5, §4.2).  Lua 5.2 with the bit32 library, as
-- in Wireshark 4.0; byte strings are Lua strings.  Written for reading
-- captures: no constant-time guarantees, speed is secondary.
--
-- Loaded by tcpcrypt.lua with dofile(); on its own it only returns a table,
-- so a copy in Wireshark's plugin folder is harmless.

local band, bor, bxor, bnot = bit32.band, bit32.bor, bit32.bxor, bit32.bnot
local rshift, lshift, rrotate, lrotate = bit32.rshift, bit32.lshift, bit32.rrotate, bit32.lrotate
local sbyte, schar, srep, ssub, concat = string.byte, string.char, string.rep, string.sub, table.concat
local floor = math.floor
local unpack = table.unpack or unpack
local M = {}

-- ---------------------------------------------------------------- helpers

local function be32(x)
    return schar(floor(x / 16777216) % 256, floor(x / 65536) % 256, floor(x / 256) % 256, x % 256)
end

-- 8-byte big-endian encoding of a non-negative integer below 2^53.
local function be64(x)
    return be32(floor(x / 4294967296)) .. be32(x % 4294967296)
end
M.be64 = be64

local function le64(x)
    local t = {}
    for i = 1, 8 do
        t[i] = x % 256
        x = floor(x / 256)
    end
    return schar(unpack(t))
end

function M.tohex(s)
    return (s:gsub(".", function(c) return string.format("%02x", sbyte(c)) end))
end

-- Hex to bytes; nil for odd length or a non-hex character.
function M.fromhex(h)
    if #h % 2 == 1 or h:find("[^0-9a-fA-F]") then
        return nil
    end
    return (h:gsub("..", function(x) return schar(tonumber(x, 16)) end))
end

local function xor_str(a, b) -- same length
    local out = {}
    for i = 1, #a do
        out[i] = schar(bxor(sbyte(a, i), sbyte(b, i)))
    end
    return concat(out)
end

-- Compare without an early exit (the tags here are not secrets of ours, but
-- there is no reason to do it differently).
local function equal(a, b)
    if #a ~= #b then
        return false
    end
    local d = 0
    for i = 1, #a do
        d = bor(d, bxor(sbyte(a, i), sbyte(b, i)))
    end
    return d == 0
end
M.equal = equal

-- ---------------------------------------------------------------- SHA-256 (FIPS 180-4)

-- §4.2.2 and §5.3.3: the first 32 bits of the fractional parts of the cube
-- roots of the first 64 primes, and of the square roots of the first 8.
local K256, H256 = {}, {}
do
    local primes, n = {}, 2
    while #primes < 64 do
        local p = true
        for _, q in ipairs(primes) do
            if q * q > n then break end
            if n % q == 0 then p = false break end
        end
        if p then primes[#primes + 1] = n end
        n = n + 1
    end
    local function frac32(x)
        return floor((x - floor(x)) * 4294967296)
    end
    for i = 1, 64 do
        K256[i] = frac32(primes[i] ^ (1 / 3))
    end
    for i = 1, 8 do
        H256[i] = frac32(math.sqrt(primes[i]))
    end
end

local function sha256_blocks(h, msg)
    local w = {}
    for pos = 1, #msg, 64 do
        for j = 0, 15 do
            local a, b, c, d = sbyte(msg, pos + 4 * j, pos + 4 * j + 3)
            w[j] = ((a * 256 + b) * 256 + c) * 256 + d
        end
        for j = 16, 63 do
            local x, y = w[j - 15], w[j - 2]
            local s0 = bxor(rrotate(x, 7), rrotate(x, 18), rshift(x, 3))
            local s1 = bxor(rrotate(y, 17), rrotate(y, 19), rshift(y, 10))
            w[j] = (w[j - 16] + s0 + w[j - 7] + s1) % 4294967296
        end
        local a, b, c, d, e, f, g, hh = h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
        for j = 0, 63 do
            local S1 = bxor(rrotate(e, 6), rrotate(e, 11), rrotate(e, 25))
            local ch = bxor(band(e, f), band(bnot(e), g))
            local t1 = hh + S1 + ch + K256[j + 1] + w[j]
            local S0 = bxor(rrotate(a, 2), rrotate(a, 13), rrotate(a, 22))
            local maj = bxor(band(a, b), band(a, c), band(b, c))
            hh, g, f, e = g, f, e, (d + t1) % 4294967296
            d, c, b, a = c, b, a, (t1 + S0 + maj) % 4294967296
        end
        h[1], h[2], h[3], h[4] = (h[1] + a) % 4294967296, (h[2] + b) % 4294967296,
            (h[3] + c) % 4294967296, (h[4] + d) % 4294967296
        h[5], h[6], h[7], h[8] = (h[5] + e) % 4294967296, (h[6] + f) % 4294967296,
            (h[7] + g) % 4294967296, (h[8] + hh) % 4294967296
    end
end

function M.sha256(msg)
    local len = #msg
    -- §5.1.1: a 1 bit, zeros to 448 mod 512, the 64-bit length in bits.
    local padded = msg .. "\128" .. srep("\0", (55 - len) % 64) .. be64(len * 8)
    local h = { unpack(H256) }
    sha256_blocks(h, padded)
    local out = {}
    for i = 1, 8 do out[i] = be32(h[i]) end
    return concat(out)
end

-- ---------------------------------------------------------------- HMAC, HKDF

local ipad_x, opad_x = {}, {}
function M.hmac_sha256(key, msg)
    if #key > 64 then key = M.sha256(key) end
    key = key .. srep("\0", 64 - #key)
    for i = 1, 64 do
        local k = sbyte(key, i)
        ipad_x[i] = schar(bxor(k, 0x36))
        opad_x[i] = schar(bxor(k, 0x5c))
    end
    return M.sha256(concat(opad_x) .. M.sha256(concat(ipad_x) .. msg))
end

-- RFC 5869 §2.2; RFC 8548 §3.1 Extract(salt, IKM).
function M.extract(salt, ikm)
    return M.hmac_sha256(salt, ikm)
end

-- RFC 5869 §2.3; RFC 8548 §3.1 CPRF(K, CONST, L).
function M.cprf(prk, info, len)
    assert(len <= 255 * 32)
    local out, t, n = {}, "", 1
    local have = 0
    while have < len do
        t = M.hmac_sha256(prk, t .. info .. schar(n))
        out[#out + 1] = t
        have, n = have + 32, n + 1
    end
    return ssub(concat(out), 1, len)
end

-- ---------------------------------------------------------------- AES (FIPS 197)

local SBOX, TE0, TE1, TE2, TE3 = {}, {}, {}, {}, {}
do
    local function xtime(x)
        x = x * 2
        if x >= 256 then x = bxor(x, 0x11b) end
        return x
    end
    -- §4: GF(2^8) inverses through powers of the generator 3.
    local exp, log, x = {}, {}, 1
    for i = 0, 254 do
        exp[i], log[x] = x, i
        x = bxor(x, xtime(x))
    end
    local function rotl8(b, n)
        return band(bor(lshift(b, n), rshift(b, 8 - n)), 255)
    end
    for a = 0, 255 do
        local b = a == 0 and 0 or exp[(255 - log[a]) % 255]
        -- §5.1.1: the affine transformation.
        local s = bxor(b, rotl8(b, 1), rotl8(b, 2), rotl8(b, 3), rotl8(b, 4), 0x63)
        SBOX[a] = s
        local s2 = xtime(s)
        local t = bor(lshift(s2, 24), lshift(s, 16), lshift(s, 8), bxor(s2, s))
        TE0[a], TE1[a], TE2[a], TE3[a] = t, rrotate(t, 8), rrotate(t, 16), rrotate(t, 24)
    end
end

local function subword(w)
    return bor(lshift(SBOX[rshift(w, 24)], 24), lshift(SBOX[band(rshift(w, 16), 255)], 16),
        lshift(SBOX[band(rshift(w, 8), 255)], 8), SBOX[band(w, 255)])
end

-- §5.2 key expansion; returns the round-key words (0-based) and Nr.
local function aes_expand(key)
    local nk = #key / 4
    assert(nk == 4 or nk == 8, "AES key must be 16 or 32 bytes")
    local nr = nk + 6
    local w, rcon = {}, 1
    for i = 0, nk - 1 do
        local a, b, c, d = sbyte(key, 4 * i + 1, 4 * i + 4)
        w[i] = ((a * 256 + b) * 256 + c) * 256 + d
    end
    for i = nk, 4 * (nr + 1) - 1 do
        local t = w[i - 1]
        if i % nk == 0 then
            t = bxor(subword(lrotate(t, 8)), lshift(rcon, 24))
            rcon = rcon * 2
            if rcon >= 256 then rcon = bxor(rcon, 0x11b) end
        elseif nk > 6 and i % nk == 4 then
            t = subword(t)
        end
        w[i] = bxor(w[i - nk], t)
    end
    return { w = w, nr = nr }
end
M.aes_expand = aes_expand

-- §5.1 Cipher on four big-endian column words; returns four words.
local function aes_encrypt_words(ks, s0, s1, s2, s3)
    local w, nr = ks.w, ks.nr
    s0, s1, s2, s3 = bxor(s0, w[0]), bxor(s1, w[1]), bxor(s2, w[2]), bxor(s3, w[3])
    for r = 1, nr - 1 do
        local k = 4 * r
        s0, s1, s2, s3 =
            bxor(TE0[rshift(s0, 24)], TE1[band(rshift(s1, 16), 255)], TE2[band(rshift(s2, 8), 255)], TE3[band(s3, 255)], w[k]),
            bxor(TE0[rshift(s1, 24)], TE1[band(rshift(s2, 16), 255)], TE2[band(rshift(s3, 8), 255)], TE3[band(s0, 255)], w[k + 1]),
            bxor(TE0[rshift(s2, 24)], TE1[band(rshift(s3, 16), 255)], TE2[band(rshift(s0, 8), 255)], TE3[band(s1, 255)], w[k + 2]),
            bxor(TE0[rshift(s3, 24)], TE1[band(rshift(s0, 16), 255)], TE2[band(rshift(s1, 8), 255)], TE3[band(s2, 255)], w[k + 3])
    end
    local k = 4 * nr
    local function last(a, b, c, d, rk)
        return bxor(bor(lshift(SBOX[rshift(a, 24)], 24), lshift(SBOX[band(rshift(b, 16), 255)], 16),
            lshift(SBOX[band(rshift(c, 8), 255)], 8), SBOX[band(d, 255)]), rk)
    end
    return last(s0, s1, s2, s3, w[k]), last(s1, s2, s3, s0, w[k + 1]),
        last(s2, s3, s0, s1, w[k + 2]), last(s3, s0, s1, s2, w[k + 3])
end

local function words(s, pos)
    local a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p = sbyte(s, pos, pos + 15)
    return ((a * 256 + b) * 256 + c) * 256 + d, ((e * 256 + f) * 256 + g) * 256 + h,
        ((i * 256 + j) * 256 + k) * 256 + l, ((m * 256 + n) * 256 + o) * 256 + p
end

function M.aes_encrypt_block(key, block)
    local a, b, c, d = aes_encrypt_words(aes_expand(key), words(block, 1))
    return be32(a) .. be32(b) .. be32(c) .. be32(d)
end

-- ---------------------------------------------------------------- GCM (SP 800-38D)

-- GHASH with per-key tables: for byte position p and byte value b, the
-- product of H with the block holding b at p (Algorithm 1 is linear in X).
local BITPOS = { [128] = 0, [64] = 1, [32] = 2, [16] = 3, [8] = 4, [4] = 5, [2] = 6, [1] = 7 }
local function ghash_key(h0, h1, h2, h3)
    local v = {}
    for k = 0, 127 do
        v[k] = { h0, h1, h2, h3 }
        -- §6.3: V >> 1, and XOR R = 11100001 || 0^120 when the dropped bit was 1.
        local lsb = band(h3, 1)
        h3 = bor(rshift(h3, 1), lshift(band(h2, 1), 31))
        h2 = bor(rshift(h2, 1), lshift(band(h1, 1), 31))
        h1 = bor(rshift(h1, 1), lshift(band(h0, 1), 31))
        h0 = rshift(h0, 1)
        if lsb == 1 then h0 = bxor(h0, 0xe1000000) end
    end
    local t0, t1, t2, t3 = {}, {}, {}, {}
    for p = 0, 15 do
        local base = p * 256
        t0[base], t1[base], t2[base], t3[base] = 0, 0, 0, 0
        for b = 1, 255 do
            local low = b - band(b, b - 1) -- lowest set bit
            local j = BITPOS[low]
            local vk = v[8 * p + j]
            local r = base + b - low
            t0[base + b] = bxor(t0[r], vk[1])
            t1[base + b] = bxor(t1[r], vk[2])
            t2[base + b] = bxor(t2[r], vk[3])
            t3[base + b] = bxor(t3[r], vk[4])
        end
    end
    return { t0, t1, t2, t3 }
end

-- Y = (Y xor X) * H for each 16-byte block of data (zero-padded).
local function ghash_update(tab, y, data)
    local t0, t1, t2, t3 = tab[1], tab[2], tab[3], tab[4]
    if #data % 16 ~= 0 then data = data .. srep("\0", 16 - #data % 16) end
    local y0, y1, y2, y3 = y[1], y[2], y[3], y[4]
    for pos = 1, #data, 16 do
        local x0, x1, x2, x3 = words(data, pos)
        x0, x1, x2, x3 = bxor(x0, y0), bxor(x1, y1), bxor(x2, y2), bxor(x3, y3)
        local z0, z1, z2, z3 = 0, 0, 0, 0
        local xs = { x0, x1, x2, x3 }
        for q = 0, 3 do
            local xq = xs[q + 1]
            for r = 0, 3 do
                local idx = (4 * q + r) * 256 + band(rshift(xq, 24 - 8 * r), 255)
                z0, z1, z2, z3 = bxor(z0, t0[idx]), bxor(z1, t1[idx]), bxor(z2, t2[idx]), bxor(z3, t3[idx])
            end
        end
        y0, y1, y2, y3 = z0, z1, z2, z3
    end
    y[1], y[2], y[3], y[4] = y0, y1, y2, y3
end

-- Per-key state: the AES schedule and the GHASH tables.
function M.gcm_key(key)
    local ks = aes_expand(key)
    return { ks = ks, tab = ghash_key(aes_encrypt_words(ks, 0, 0, 0, 0)) }
end

-- §7.1/§7.2 with a 96-bit IV: returns output (data XOR keystream) and the tag
-- over (ad, ciphertext).  decrypting = true when data is the ciphertext.
local function gcm_crypt(gk, iv, ad, data, decrypting)
    assert(#iv == 12, "GCM IV must be 12 bytes")
    local ks = gk.ks
    local n0, n1, n2 = words(iv .. "\0\0\0\0", 1)
    local out, ctr = {}, 1
    for pos = 1, #data, 16 do
        ctr = ctr + 1 -- inc32(J0) first
        local a, b, c, d = aes_encrypt_words(ks, n0, n1, n2, ctr % 4294967296)
        local kstream = be32(a) .. be32(b) .. be32(c) .. be32(d)
        local chunk = ssub(data, pos, pos + 15)
        out[#out + 1] = xor_str(chunk, ssub(kstream, 1, #chunk))
    end
    out = concat(out)
    local ct = decrypting and data or out
    local y = { 0, 0, 0, 0 }
    ghash_update(gk.tab, y, ad)
    ghash_update(gk.tab, y, ct)
    ghash_update(gk.tab, y, be64(#ad * 8) .. be64(#ct * 8))
    local a, b, c, d = aes_encrypt_words(ks, n0, n1, n2, 1)
    local tag = be32(bxor(y[1], a)) .. be32(bxor(y[2], b)) .. be32(bxor(y[3], c)) .. be32(bxor(y[4], d))
    return out, tag
end

function M.gcm_seal(gk, iv, ad, pt)
    local ct, tag = gcm_crypt(gk, iv, ad, pt, false)
    return ct .. tag
end

-- Returns the plaintext (even when the tag is wrong) and whether the tag matched.
function M.gcm_open(gk, iv, ad, ct_tag)
    if #ct_tag < 16 then return "", false end
    local ct, tag = ssub(ct_tag, 1, -17), ssub(ct_tag, -16)
    local pt, want = gcm_crypt(gk, iv, ad, ct, true)
    return pt, equal(tag, want)
end

-- ---------------------------------------------------------------- ChaCha20-Poly1305 (RFC 8439)

local function le_words(s, n)
    local w = {}
    for i = 0, n - 1 do
        local a, b, c, d = sbyte(s, 4 * i + 1, 4 * i + 4)
        w[i] = ((d * 256 + c) * 256 + b) * 256 + a
    end
    return w
end

local function le32(x)
    return schar(x % 256, floor(x / 256) % 256, floor(x / 65536) % 256, floor(x / 16777216) % 256)
end

-- §2.3: the 64-byte block for (key words, counter, nonce words).
local function chacha_block(kw, counter, nw)
    local s = { [0] = 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
        kw[0], kw[1], kw[2], kw[3], kw[4], kw[5], kw[6], kw[7], counter, nw[0], nw[1], nw[2] }
    local x = {}
    for i = 0, 15 do x[i] = s[i] end
    local function qr(a, b, c, d) -- §2.1
        x[a] = (x[a] + x[b]) % 4294967296; x[d] = lrotate(bxor(x[d], x[a]), 16)
        x[c] = (x[c] + x[d]) % 4294967296; x[b] = lrotate(bxor(x[b], x[c]), 12)
        x[a] = (x[a] + x[b]) % 4294967296; x[d] = lrotate(bxor(x[d], x[a]), 8)
        x[c] = (x[c] + x[d]) % 4294967296; x[b] = lrotate(bxor(x[b], x[c]), 7)
    end
    for _ = 1, 10 do
        qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)
        qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)
    end
    local out = {}
    for i = 0, 15 do out[i + 1] = le32((x[i] + s[i]) % 4294967296) end
    return concat(out)
end

-- §2.4: data XOR the key stream starting at block `counter`.
function M.chacha20(key, counter, nonce, data)
    local kw, nw = le_words(key, 8), le_words(nonce, 3)
    local out = {}
    for pos = 1, #data, 64 do
        local chunk = ssub(data, pos, pos + 63)
        out[#out + 1] = xor_str(chunk, ssub(chacha_block(kw, counter, nw), 1, #chunk))
        counter = counter + 1
    end
    return concat(out)
end

-- §2.5: Poly1305 with 16-bit limbs (products stay far below 2^53).
function M.poly1305(key, msg)
    local rb = { sbyte(key, 1, 16) }
    for _, i in ipairs({ 4, 8, 12, 16 }) do rb[i] = band(rb[i], 15) end
    for _, i in ipairs({ 5, 9, 13 }) do rb[i] = band(rb[i], 252) end
    local r, h = {}, {}
    for i = 0, 7 do r[i] = rb[2 * i + 1] + 256 * rb[2 * i + 2] end
    for i = 0, 8 do h[i] = 0 end
    local function carry(t, n)
        for k = 0, n - 1 do
            local c = floor(t[k] / 65536)
            t[k] = t[k] - c * 65536
            t[k + 1] = t[k + 1] + c
        end
    end
    -- carry, then fold the bits from 130 up (in limb 8) back in as times 5
    local function fold(t)
        carry(t, 8)
        local c = floor(t[8] / 4)
        t[8] = t[8] % 4
        t[0] = t[0] + 5 * c
        carry(t, 8)
    end
    for pos = 1, #msg, 16 do
        local blk = ssub(msg, pos, pos + 15)
        local bytes = { sbyte(blk, 1, -1) }
        bytes[#bytes + 1] = 1 -- the 2^(8n) bit of §2.5.1
        for k = #bytes + 1, 18 do bytes[k] = 0 end
        for i = 0, 8 do h[i] = h[i] + bytes[2 * i + 1] + 256 * bytes[2 * i + 2] end
        local p = {}
        for k = 0, 17 do p[k] = 0 end
        for i = 0, 8 do
            local hi = h[i]
            if hi ~= 0 then
                for j = 0, 7 do p[i + j] = p[i + j] + hi * r[j] end
            end
        end
        carry(p, 17)
        -- bits from 130 up, times 5 (2^130 = 5 mod p), folded back in
        for i = 0, 7 do h[i] = p[i] end
        h[8] = p[8] % 4
        for m = 0, 8 do
            local hl = floor(p[8 + m] / 4) + (p[9 + m] or 0) % 4 * 16384
            h[m] = h[m] + 5 * hl
        end
        fold(h)
    end
    fold(h)
    fold(h)
    -- full reduction: h - p = h + 5 - 2^130 when that is not negative
    local g = {}
    for i = 0, 8 do g[i] = h[i] end
    g[0], g[9] = g[0] + 5, 0
    carry(g, 9)
    if g[8] >= 4 then
        g[8] = g[8] - 4
        h = g
    end
    local sb = { sbyte(key, 17, 32) }
    local out = {}
    local c = 0
    for i = 0, 7 do
        local v = h[i] + sb[2 * i + 1] + 256 * sb[2 * i + 2] + c
        c = floor(v / 65536)
        v = v % 65536
        out[#out + 1] = schar(v % 256, floor(v / 256))
    end
    return concat(out)
end

local function pad16(s)
    return #s % 16 == 0 and "" or srep("\0", 16 - #s % 16)
end

-- §2.8: returns the tag over (ad, ciphertext).
local function chachapoly_tag(key, nonce, ad, ct)
    local otk = ssub(chacha_block(le_words(key, 8), 0, le_words(nonce, 3)), 1, 32)
    return M.poly1305(otk, ad .. pad16(ad) .. ct .. pad16(ct) .. le64(#ad) .. le64(#ct))
end

function M.chachapoly_seal(key, nonce, ad, pt)
    local ct = M.chacha20(key, 1, nonce, pt)
    return ct .. chachapoly_tag(key, nonce, ad, ct)
end

function M.chachapoly_open(key, nonce, ad, ct_tag)
    if #ct_tag < 16 then return "", false end
    local ct, tag = ssub(ct_tag, 1, -17), ssub(ct_tag, -16)
    return M.chacha20(key, 1, nonce, ct), equal(tag, chachapoly_tag(key, nonce, ad, ct))
end

-- ---------------------------------------------------------------- tcpcrypt (RFC 8548)

-- §4.3 Table 1.
M.CONST_NEXTK, M.CONST_SESSID, M.CONST_REKEY = "\1", "\2", "\3"
M.CONST_KEY_A, M.CONST_KEY_B, M.CONST_RESUME = "\4", "\5", "\6"
M.INIT1_MAGIC, M.INIT2_MAGIC = 0x15101a0e, 0x097105e0
M.K_LEN, M.N_LEN, M.AE_NONCE_LEN, M.TAG_LEN = 32, 32, 12, 16

-- §5 Table 3 / §7 Table 5: AEAD id -> name, ae_key_len.
M.AEADS = {
    [0x0001] = { name = "AEAD_AES_128_GCM", key_len = 16 },
    [0x0002] = { name = "AEAD_AES_256_GCM", key_len = 32 },
    [0x0010] = { name = "AEAD_CHACHA20_POLY1305", key_len = 32 },
}
-- §7 Table 4: TEP -> name, length of Pub on the wire (§5).
M.TEPS = {
    [0x21] = { name = "TCPCRYPT_ECDHE_P256", pub_len = 35 },
    [0x22] = { name = "TCPCRYPT_ECDHE_P521", pub_len = 69 },
    [0x23] = { name = "TCPCRYPT_ECDHE_Curve25519", pub_len = 32 },
    [0x24] = { name = "TCPCRYPT_ECDHE_Curve448", pub_len = 56 },
}

-- §3.3: ss[0] = PRK = Extract(N_A, eno_transcript | Init1 | Init2 | ES).
function M.ss0(n_a, transcript, init1, init2, es)
    return M.extract(n_a, transcript .. init1 .. init2 .. es)
end

-- §3.3: ss[i] = CPRF(ss[i-1], CONST_NEXTK, K_LEN).
function M.next_ss(ss)
    return M.cprf(ss, M.CONST_NEXTK, M.K_LEN)
end

-- §3.3: mk[0] = CPRF(ss[i], CONST_REKEY | sn[i], K_LEN); mk[j] = CPRF(mk[j-1], CONST_REKEY, K_LEN).
function M.mk0(ss, sn)
    return M.cprf(ss, M.CONST_REKEY .. sn, M.K_LEN)
end

function M.next_mk(mk)
    return M.cprf(mk, M.CONST_REKEY, M.K_LEN)
end

-- §3.3: k_ab[j] / k_ba[j] = CPRF(mk[j], CONST_KEY_A / CONST_KEY_B, ae_key_len + ae_nonce_len).
function M.traffic_keys(mk, aead)
    local len = M.AEADS[aead].key_len + M.AE_NONCE_LEN
    return M.cprf(mk, M.CONST_KEY_A, len), M.cprf(mk, M.CONST_KEY_B, len)
end

-- §3.4: session_id[i] = TEP-byte | CPRF(ss[i], CONST_SESSID | sn[i], K_LEN).
function M.session_id(tep_byte, ss, sn)
    return schar(tep_byte) .. M.cprf(ss, M.CONST_SESSID .. sn, M.K_LEN)
end

-- §3.5: resume[i] = CPRF(ss[i], CONST_RESUME, 18).
function M.resume_id(ss)
    return M.cprf(ss, M.CONST_RESUME, 18)
end

-- A traffic key K | NR (§4.2.3) ready for frames.
function M.frame_key(aead, key)
    local info = M.AEADS[aead]
    assert(info and #key == info.key_len + M.AE_NONCE_LEN, "bad tcpcrypt traffic key")
    local k, nr = ssub(key, 1, info.key_len), ssub(key, info.key_len + 1)
    local fk = { aead = aead, k = k, nr = nr }
    if aead ~= 0x0010 then fk.gcm = M.gcm_key(k) end
    return fk
end

-- §4.2.3: N = frame ID XOR NR, frame ID = offset left-padded with zeros.
function M.frame_nonce(fk, offset)
    return xor_str("\0\0\0\0" .. be64(offset), fk.nr)
end

-- §4.2: decrypt one frame's ciphertext (tag included) whose header
-- (control | clen, the associated data) starts at stream offset `offset`.
-- Returns the plaintext (flags [| urgent] | data) and whether the tag matched.
function M.open_frame(fk, offset, header, ct_tag)
    local nonce = M.frame_nonce(fk, offset)
    if fk.gcm then
        return M.gcm_open(fk.gcm, nonce, header, ct_tag)
    end
    return M.chachapoly_open(fk.k, nonce, header, ct_tag)
end

function M.seal_frame(fk, offset, header, pt)
    local nonce = M.frame_nonce(fk, offset)
    if fk.gcm then
        return M.gcm_seal(fk.gcm, nonce, header, pt)
    end
    return M.chachapoly_seal(fk.k, nonce, header, pt)
end

-- ---------------------------------------------------------------- wire formats

local function u16(s, i) local a, b = sbyte(s, i, i + 1) return a * 256 + b end
local function u32(s, i) local a, b, c, d = sbyte(s, i, i + 3) return ((a * 256 + b) * 256 + c) * 256 + d end
M.u16, M.u32 = u16, u32

-- RFC 8547 §4.1: the suboptions of a SYN-form ENO option (the contents after
-- kind and length).  Returns { global = byte or nil, subopts = { {pos, len,
-- kind = "global"|"tep", byte, tep (glt), v, lenbyte (pos of a length byte),
-- data} ... } } or nil and the reason the option is malformed (§4.1: the
-- whole option is then ignored).
function M.parse_eno(c)
    local out, i, n = { subopts = {} }, 1, #c
    while i <= n do
        local b = sbyte(c, i)
        if b < 0x20 then -- §4.1: global suboption, only the first counts
            out.subopts[#out.subopts + 1] = { pos = i, len = 1, kind = "global", byte = b }
            if out.global == nil then out.global = b end
            i = i + 1
        elseif b >= 0x80 and b < 0xa0 then -- length byte 100nnnnn
            local dlen = band(b, 0x1f) + 1
            if i + 1 > n then return nil, "length byte at the end of the option" end
            local t = sbyte(c, i + 1)
            if t < 0xa0 then return nil, string.format("length byte followed by 0x%02x, not a TEP with v = 1", t) end
            if i + 1 + dlen > n then return nil, "suboption length runs past the end of the option" end
            out.subopts[#out.subopts + 1] = { pos = i, len = dlen + 2, kind = "tep", byte = t, tep = band(t, 0x7f),
                v = true, lenbyte = i, data = ssub(c, i + 2, i + 1 + dlen) }
            i = i + 2 + dlen
        elseif b < 0x80 then -- TEP without data
            out.subopts[#out.subopts + 1] = { pos = i, len = 1, kind = "tep", byte = b, tep = b, v = false, data = "" }
            i = i + 1
        else -- TEP with v = 1, data to the end of the option
            out.subopts[#out.subopts + 1] = { pos = i, len = n - i + 1, kind = "tep", byte = b, tep = band(b, 0x7f),
                v = true, data = ssub(c, i + 1) }
            i = n + 1
        end
    end
    return out
end

-- RFC 8548 §3.5: a v = 1 suboption with at least 9 data bytes is a
-- resumption suboption (half, nonce); with fewer it counts as v = 0.
function M.resumption(sub)
    if sub and sub.v and #sub.data >= 9 and #sub.data <= 17 then
        return { half = ssub(sub.data, 1, 9), nonce = ssub(sub.data, 10) }
    end
    return nil
end

-- RFC 8547 §4.2-§4.6 applied to the SYN's and the SYN-ACK's parsed options:
-- roles, the negotiated TEP (the last valid one in B's option that A also
-- offered) and, when it is a tcpcrypt TEP, whether both sides asked for
-- resumption.  Returns a table, or nil and why ENO/tcpcrypt is off.
function M.negotiate(syn, synack)
    if not syn or not synack then return nil, "ENO missing from the SYN or the SYN-ACK" end
    local bs, bsa = band(syn.global or 0, 1), band(synack.global or 0, 1)
    if bs == bsa then return nil, "both hosts sent b = " .. bs end
    local a, b = syn, synack
    if bs == 1 then a, b = synack, syn end
    local offered = {}
    for _, s in ipairs(a.subopts) do
        if s.kind == "tep" then offered[s.tep] = offered[s.tep] or s end
    end
    for k = #b.subopts, 1, -1 do
        local s = b.subopts[k]
        if s.kind == "tep" and offered[s.tep] then
            if not M.TEPS[s.tep] then return nil, string.format("negotiated TEP 0x%02x is not tcpcrypt", s.tep) end
            local r = { active_is_a = (bs == 0), tep = s.tep, b_byte = s.byte, a_sub = offered[s.tep], b_sub = s }
            local ra, rb = M.resumption(offered[s.tep]), M.resumption(s)
            if rb and ra then
                r.resumed, r.res_a, r.res_b = true, ra, rb
                for _, t in ipairs(a.subopts) do -- the resumption suboption, if A sent both forms
                    if t.kind == "tep" and t.tep == s.tep and M.resumption(t) then r.res_a = M.resumption(t) end
                end
            else
                r.b_byte = band(s.byte, 0x7f)
            end
            return r
        end
    end
    return nil, "no TEP in common"
end

-- RFC 8548 §3.5: does ss name the resumed session whose SYN suboptions carry
-- these halves?  Returns true when the active opener was host A of the
-- original session, false when it was B, nil for no match.
function M.resume_match(ss, active_half, passive_half)
    return M.halves_match(M.resume_id(ss), active_half, passive_half)
end

-- The same for a resume[i] already computed.
function M.halves_match(rid, active_half, passive_half)
    local h1, h2 = ssub(rid, 1, 9), ssub(rid, 10, 18)
    if active_half == h1 and passive_half == h2 then return true end
    if active_half == h2 and passive_half == h1 then return false end
    return nil
end

-- RFC 8548 §4.1: Init1 / Init2.  Called with the bytes received so far:
-- returns nil while incomplete (need = total length when known), a table
-- when complete, or false and an error.
local MAX_INIT = 65536
function M.parse_init(s, which, tep)
    local magic = which == 1 and M.INIT1_MAGIC or M.INIT2_MAGIC
    if #s < 8 then return nil end
    local mg, len = u32(s, 1), u32(s, 5)
    if mg ~= magic then return false, string.format("bad magic 0x%08x (expected 0x%08x)", mg, magic) end
    if len < 8 or len > MAX_INIT then return false, "message_len " .. len .. " out of range" end
    if #s < len then return nil, len end
    local m, pos = { magic = mg, len = len, raw = ssub(s, 1, len) }, 9
    local pub_len = M.TEPS[tep] and M.TEPS[tep].pub_len or 0
    if which == 1 then
        if len < 9 then return false, "Init1 too short for nciphers" end
        m.nciphers = sbyte(s, 9)
        m.ciphers, pos = {}, 10
        if len < 9 + 2 * m.nciphers then return false, "Init1 too short for its cipher list" end
        for k = 1, m.nciphers do m.ciphers[k] = u16(s, pos) pos = pos + 2 end
    else
        if len < 10 then return false, "Init2 too short for sym_cipher" end
        m.cipher, pos = u16(s, 9), 11
    end
    if len < pos - 1 + M.N_LEN + pub_len then return false, "message too short for nonce and public key" end
    m.nonce_pos, m.nonce = pos, ssub(s, pos, pos + M.N_LEN - 1)
    pos = pos + M.N_LEN
    m.pub_pos, m.pub = pos, ssub(s, pos, pos + pub_len - 1)
    pos = pos + pub_len
    m.tail_pos, m.tail = pos, ssub(s, pos, len)
    return m
end

-- RFC 8548 §4.2.1: flags [| urgent] | data.
function M.parse_plaintext(p)
    if #p < 1 then return nil end
    local f = { flags = sbyte(p, 1) }
    f.finp, f.urgp = band(f.flags, 1) == 1, band(f.flags, 2) == 2
    local pos = 2
    if f.urgp then
        if #p < 3 then return nil end
        f.urgent, pos = u16(p, 2), 4
    end
    f.data_pos, f.data = pos, ssub(p, pos)
    return f
end

return M
