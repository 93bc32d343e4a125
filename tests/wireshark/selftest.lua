-- Known-answer self-test of the dissector's core (tools/wireshark/tcpcrypt_core.lua):
-- every record of the vector files given as arguments must pass.  Runs inside
-- tshark (the Lua the dissector really gets):
--   tshark -r EMPTY.pcap -X lua_script:tests/wireshark/selftest.lua \
--       -X lua_script1:tools/wireshark/tcpcrypt_core.lua -X lua_script1:VECTORS...
-- or under any Lua 5.2 interpreter with the same arguments.
-- Prints one line per failure and a summary "selftest: N passed, M failed".

local args = { ... }
local core = dofile(args[1])
local hex, unhex = core.tohex, core.fromhex
local passed, failed = 0, 0
local counts = {}

local function check(name, what, got, want)
    if got == want then return true end
    failed = failed + 1
    local g = type(got) == "string" and hex(got) or tostring(got)
    local w = type(want) == "string" and hex(want) or tostring(want)
    print(string.format("selftest: FAIL %s: %s: got %s want %s", name, what, g:sub(1, 80), w:sub(1, 80)))
    return false
end

local function records(path)
    local recs, cur = {}, nil
    local fh = assert(io.open(path, "r"))
    for line in fh:lines() do
        if line:match("^%s*$") then
            cur = nil
        elseif not line:match("^#") then
            local k, v = line:match("^(%S+) =%s*(%S*)$")
            assert(k, path .. ": bad line: " .. line)
            if not cur then cur = {} recs[#recs + 1] = cur end
            if k == "kind" or k == "name" then
                cur[k] = v
            else
                cur[k] = unhex(v) or error(path .. ": bad hex: " .. line)
            end
        end
    end
    fh:close()
    return recs
end

local function num(s) -- big-endian bytes to a number
    local n = 0
    for i = 1, #s do n = n * 256 + s:byte(i) end
    return n
end

local function flip(s, i) -- s with the low bit of byte i flipped
    return s:sub(1, i - 1) .. string.char(bit32.bxor(s:byte(i), 1)) .. s:sub(i + 1)
end

local run = {}

function run.sha256(r)
    return check(r.name, "digest", core.sha256(r.msg), r.digest)
end

function run.hmac(r)
    return check(r.name, "mac", core.hmac_sha256(r.key, r.data):sub(1, #r.mac), r.mac)
end

function run.hkdf(r)
    local prk = core.extract(r.salt, r.ikm)
    return check(r.name, "prk", prk, r.prk) and check(r.name, "okm", core.cprf(prk, r.info, num(r.len)), r.okm)
end

function run.aes(r)
    return check(r.name, "ct", core.aes_encrypt_block(r.key, r.pt), r.ct)
end

function run.poly1305(r)
    return check(r.name, "tag", core.poly1305(r.key, r.msg), r.tag)
end

local function aead_seal(aead, key, nonce, ad, pt)
    if aead == 0x10 then return core.chachapoly_seal(key, nonce, ad, pt) end
    return core.gcm_seal(core.gcm_key(key), nonce, ad, pt)
end

local function aead_open(aead, key, nonce, ad, ct)
    if aead == 0x10 then return core.chachapoly_open(key, nonce, ad, ct) end
    return core.gcm_open(core.gcm_key(key), nonce, ad, ct)
end

function run.aead(r)
    local aead = num(r.aead)
    local ok = check(r.name, "seal", aead_seal(aead, r.key, r.nonce, r.ad, r.pt), r.ct)
    local pt, good = aead_open(aead, r.key, r.nonce, r.ad, r.ct)
    ok = ok and check(r.name, "open", pt, r.pt) and check(r.name, "tag ok", good, true)
    local _, bad = aead_open(aead, r.key, r.nonce, r.ad, flip(r.ct, #r.ct))
    return ok and check(r.name, "tampered tag refused", bad, false)
end

-- The ENO option in front of the transcript: kind 69, length, contents.
local function split_transcript(t)
    assert(t:byte(1) == 69)
    local l1 = t:byte(2)
    assert(t:byte(l1 + 1) == 69)
    return t:sub(3, l1), t:sub(l1 + 3)
end

function run.fresh(r)
    local n = r.name
    local tep, aead = r.tep:byte(1), num(r.aead)
    -- the dissector's view: the two SYN options, Init1 and Init2 parsed from the wire
    local c_syn, c_synack = split_transcript(r.transcript)
    local neg, why = core.negotiate(core.parse_eno(c_syn), core.parse_eno(c_synack))
    if not check(n, "negotiation", neg and neg.tep, tep) then print("  " .. tostring(why)) return false end
    local ok = check(n, "not resumed", neg.resumed, nil) and check(n, "active is A", neg.active_is_a, true)
    local i1 = core.parse_init(r.init1, 1, tep)
    local i2 = core.parse_init(r.init2, 2, tep)
    ok = ok and check(n, "Init1 parsed", type(i1), "table") and check(n, "Init2 parsed", type(i2), "table")
    if not ok then return false end
    local cl = {}
    for k, c in ipairs(i1.ciphers) do cl[k] = string.char(math.floor(c / 256), c % 256) end
    ok = check(n, "Init1 ciphers", table.concat(cl), r.ciphers) and check(n, "N_A", i1.nonce, r.n_a) and
        check(n, "Pub_A", i1.pub, r.pub_a) and check(n, "Init1 tail", i1.tail, r.init1_tail) and
        check(n, "Init2 cipher", i2.cipher, aead) and check(n, "N_B", i2.nonce, r.n_b) and
        check(n, "Pub_B", i2.pub, r.pub_b) and check(n, "Init2 tail", i2.tail, r.init2_tail)
    -- an incomplete message is not complete, a bad magic is an error
    ok = ok and check(n, "Init1 short", core.parse_init(r.init1:sub(1, -2), 1, tep), nil) and
        check(n, "Init2 bad magic", core.parse_init(r.init1, 2, tep), false)
    local ss = core.ss0(i1.nonce, r.transcript, i1.raw, i2.raw, r.es)
    ok = ok and check(n, "ss0", ss, r.ss0)
    for i = 1, 2 do
        ss = core.next_ss(ss)
        ok = ok and check(n, "ss" .. i, ss, r["ss" .. i])
    end
    local mk = core.mk0(r.ss0, "")
    for j = 0, 2 do
        if j > 0 then mk = core.next_mk(mk) end
        local kab, kba = core.traffic_keys(mk, aead)
        ok = ok and check(n, "mk" .. j, mk, r["mk" .. j]) and check(n, "kab" .. j, kab, r["kab" .. j]) and
            check(n, "kba" .. j, kba, r["kba" .. j])
    end
    ok = ok and check(n, "sid", core.session_id(neg.b_byte, r.ss0, ""), r.sid) and
        check(n, "resume1", core.resume_id(r.ss1), r.resume1)
    return ok
end

function run.resume(r)
    local n, tep, aead = r.name, r.tep:byte(1), num(r.aead)
    -- the SYN and SYN-ACK options as a resuming active and passive opener send them
    local syn = core.parse_eno(r.subopt_active)
    local synack = core.parse_eno("\1" .. r.subopt_passive)
    local neg = core.negotiate(syn, synack)
    if not check(n, "negotiated", neg and neg.tep, tep) then return false end
    local ok = check(n, "resumed", neg.resumed, true) and check(n, "session ID byte", neg.b_byte, tep + 0x80)
    local was_a = core.resume_match(r.ss, neg.res_a.half, neg.res_b.half)
    ok = ok and check(n, "resume id", core.resume_id(r.ss), r.resume) and
        check(n, "original role", was_a, r.active_was_a == "\1")
    -- nonce_a / nonce_b by the original roles
    local na, nb = neg.res_a.nonce, neg.res_b.nonce
    if not was_a then na, nb = nb, na end
    local sn = na .. nb
    local mk = core.mk0(r.ss, sn)
    local kab, kba = core.traffic_keys(mk, aead)
    ok = ok and check(n, "nonce_a", na, r.nonce_a) and check(n, "nonce_b", nb, r.nonce_b) and
        check(n, "sn", sn, r.sn) and check(n, "mk0", mk, r.mk0) and check(n, "kab0", kab, r.kab0) and
        check(n, "kba0", kba, r.kba0) and check(n, "sid", core.session_id(neg.b_byte, r.ss, sn), r.sid) and
        check(n, "ss_next", core.next_ss(r.ss), r.ss_next)
    -- another secret does not match
    return ok and check(n, "other ss refused", core.resume_match(r.ss_next, neg.res_a.half, neg.res_b.half), nil)
end

function run.frame(r)
    local n, aead = r.name, num(r.aead)
    local fk = core.frame_key(aead, r.key)
    local off = num(r.offset)
    local ok = check(n, "nonce", core.frame_nonce(fk, off), r.nonce)
    local hdr, ct = r.frame:sub(1, 3), r.frame:sub(4)
    ok = ok and check(n, "control", hdr:byte(1), r.control:byte(1)) and check(n, "clen", core.u16(hdr, 2), #ct)
    local pt, good = core.open_frame(fk, off, hdr, ct)
    ok = ok and check(n, "tag ok", good, true)
    local p = core.parse_plaintext(pt)
    ok = ok and check(n, "plaintext parsed", type(p), "table")
    if not ok then return false end
    ok = check(n, "flags", p.flags, r.flags:byte(1)) and check(n, "data", p.data, r.data) and
        check(n, "urgent", p.urgent, #r.urgent == 2 and num(r.urgent) or nil) and
        check(n, "FINp", p.finp, bit32.band(r.flags:byte(1), 1) == 1) and
        check(n, "seal", hdr .. core.seal_frame(fk, off, hdr, pt), r.frame)
    -- tampering anywhere (header, ciphertext, tag) or a wrong offset fails the tag
    local _, b1 = core.open_frame(fk, off, flip(hdr, 1), ct)
    local _, b2 = core.open_frame(fk, off, hdr, flip(ct, 1))
    local _, b3 = core.open_frame(fk, off + 1, hdr, ct)
    return ok and check(n, "tampered header refused", b1, false) and check(n, "tampered ciphertext refused", b2, false) and
        check(n, "wrong offset refused", b3, false)
end

-- A few wire-format cases of RFC 8547 §4.1 beyond the vectors.
local function eno_cases()
    local ok = check("eno", "length byte past end", core.parse_eno("\1\133\163\1"), nil) and
        check("eno", "length byte before v=0 TEP", core.parse_eno("\128\35\1"), nil) and
        check("eno", "same b refused", core.negotiate(core.parse_eno("\35"), core.parse_eno("\35")), nil) and
        check("eno", "non-tcpcrypt TEP", core.negotiate(core.parse_eno("\32"), core.parse_eno("\1\32")), nil)
    local e = core.parse_eno("\3\144" .. string.rep("\163", 18))
    ok = ok and check("eno", "global with a and b", e and e.global, 3) and
        check("eno", "length-byte suboption", e and #e.subopts[2].data, 17)
    return ok
end

for k = 2, #args do
    for _, r in ipairs(records(args[k])) do
        local f = run[r.kind]
        if not f then
            check(r.name or "?", "known record kind", r.kind, "one of the kinds this test runs")
        elseif f(r) then
            passed = passed + 1
            counts[r.kind] = (counts[r.kind] or 0) + 1
        end
    end
end
if eno_cases() then passed = passed + 1 end
local kinds = {}
for k, c in pairs(counts) do kinds[#kinds + 1] = k .. " " .. c end
table.sort(kinds)
print(string.format("selftest: %d passed, %d failed (%s)", passed, failed, table.concat(kinds, ", ")))
