-- Wireshark/tshark dissector for TCP-ENO (RFC 8547, TCP option 69) and
-- tcpcrypt (RFC 8548): the ENO option in every segment, Init1/Init2 and the
-- encryption frames of connections that negotiated tcpcrypt, and, with the
-- tcpcryptd key log, the decrypted application data, FINp, the rekey
-- generation and the tag check of each frame.
--
--   tshark -X lua_script:tools/wireshark/tcpcrypt.lua \
--       -o tcpcrypt.keylog_file:/path/to/keys -r capture.pcap
--
-- Needs tcpcrypt_core.lua from the same folder.  A postdissector: it reads
-- the TCP fields of each packet and follows each direction of the stream
-- itself (reordering and retransmissions included), so it works whatever
-- dissector the TCP port selects.  The key log lines (tcpcryptd --keylog):
--   TCPCRYPT_ES <N_A hex> <ES hex>        -> fresh sessions (matched by N_A)
--   TCPCRYPT_SS <session ID hex> <ss[0]>  -> resumed sessions (RFC 8548 §3.5)

local function script_dir()
    local src = debug.getinfo(1, "S").source
    return src:sub(1, 1) == "@" and src:sub(2):match("^(.*[/\\])") or "./"
end
local core = dofile(script_dir() .. "tcpcrypt_core.lua")
local band = bit32.band
local sbyte, ssub = string.byte, string.sub

local proto = Proto("tcpcrypt", "tcpcrypt (RFC 8548) over TCP-ENO (RFC 8547)")

local tep_names, aead_names = {}, {}
for k, v in pairs(core.TEPS) do tep_names[k] = v.name end
tep_names[0x20] = "Experimental Use"
for k, v in pairs(core.AEADS) do aead_names[k] = v.name end

local F = {
    eno = ProtoField.bytes("tcpcrypt.eno", "TCP-ENO option"),
    eno_len = ProtoField.uint8("tcpcrypt.eno.len", "Length"),
    eno_form = ProtoField.string("tcpcrypt.eno.form", "Form"),
    eno_global = ProtoField.uint8("tcpcrypt.eno.global", "Global suboption", base.HEX),
    eno_b = ProtoField.bool("tcpcrypt.eno.b", "b (passive role)", 8, nil, 0x01),
    eno_a = ProtoField.bool("tcpcrypt.eno.a", "a (application-aware)", 8, nil, 0x02),
    eno_lenbyte = ProtoField.uint8("tcpcrypt.eno.length_byte", "Suboption length byte", base.HEX),
    eno_tep = ProtoField.uint8("tcpcrypt.eno.tep", "TEP", base.HEX, tep_names, 0x7f),
    eno_v = ProtoField.bool("tcpcrypt.eno.v", "v (suboption has data)", 8, nil, 0x80),
    eno_data = ProtoField.bytes("tcpcrypt.eno.data", "Suboption data"),
    eno_half = ProtoField.bytes("tcpcrypt.eno.resume_half", "Resumption identifier half"),
    eno_nonce = ProtoField.bytes("tcpcrypt.eno.resume_nonce", "Resumption nonce"),
    neg_tep = ProtoField.uint8("tcpcrypt.negotiated_tep", "Negotiated TEP", base.HEX, tep_names),
    key_dir = ProtoField.string("tcpcrypt.key_direction", "Traffic key"),
    resumed = ProtoField.bool("tcpcrypt.resumed", "Resumed session"),
    sid = ProtoField.string("tcpcrypt.session_id", "Session ID (hex)"),
    init1 = ProtoField.bytes("tcpcrypt.init1", "Init1"),
    init2 = ProtoField.bytes("tcpcrypt.init2", "Init2"),
    magic = ProtoField.uint32("tcpcrypt.magic", "Magic", base.HEX),
    msg_len = ProtoField.uint32("tcpcrypt.message_len", "message_len"),
    nciphers = ProtoField.uint8("tcpcrypt.nciphers", "nciphers"),
    cipher = ProtoField.uint16("tcpcrypt.sym_cipher", "sym_cipher", base.HEX, aead_names),
    nonce_a = ProtoField.bytes("tcpcrypt.n_a", "N_A"),
    nonce_b = ProtoField.bytes("tcpcrypt.n_b", "N_B"),
    pub_a = ProtoField.bytes("tcpcrypt.pub_a", "Pub_A"),
    pub_b = ProtoField.bytes("tcpcrypt.pub_b", "Pub_B"),
    ignored = ProtoField.bytes("tcpcrypt.ignored", "Ignored bytes"),
    frame = ProtoField.bytes("tcpcrypt.frame", "Encryption frame"),
    offset = ProtoField.uint64("tcpcrypt.offset", "Stream offset (frame ID)"),
    control = ProtoField.uint8("tcpcrypt.control", "Control", base.HEX),
    rekey = ProtoField.bool("tcpcrypt.control.rekey", "rekey", 8, nil, 0x01),
    clen = ProtoField.uint16("tcpcrypt.clen", "clen"),
    ciphertext = ProtoField.bytes("tcpcrypt.ciphertext", "Ciphertext"),
    tag = ProtoField.bytes("tcpcrypt.tag", "Tag"),
    gen = ProtoField.uint32("tcpcrypt.generation", "Key generation"),
    aead = ProtoField.uint16("tcpcrypt.aead", "AEAD", base.HEX, aead_names),
    tag_ok = ProtoField.bool("tcpcrypt.tag_ok", "Tag check good"),
    flags = ProtoField.uint8("tcpcrypt.flags", "Flags", base.HEX),
    finp = ProtoField.bool("tcpcrypt.flags.finp", "FINp", 8, nil, 0x01),
    urgp = ProtoField.bool("tcpcrypt.flags.urgp", "URGp", 8, nil, 0x02),
    urgent = ProtoField.uint16("tcpcrypt.urgent", "Urgent pointer"),
    plaintext = ProtoField.bytes("tcpcrypt.plaintext", "Decrypted data"),
}
local fields = {}
for _, f in pairs(F) do fields[#fields + 1] = f end
proto.fields = fields

local E = {
    malformed = ProtoExpert.new("tcpcrypt.malformed", "Malformed", expert.group.MALFORMED, expert.severity.WARN),
    nokeys = ProtoExpert.new("tcpcrypt.no_keys", "Not decrypted", expert.group.DECRYPTION, expert.severity.NOTE),
    badtag = ProtoExpert.new("tcpcrypt.bad_tag", "Tag check failed", expert.group.CHECKSUM, expert.severity.ERROR),
    fallback = ProtoExpert.new("tcpcrypt.off", "tcpcrypt not in use", expert.group.PROTOCOL, expert.severity.NOTE),
}
proto.experts = { E.malformed, E.nokeys, E.badtag, E.fallback }

proto.prefs.keylog_file = Pref.string("Key log file", "",
    "tcpcryptd --keylog file: TCPCRYPT_ES <N_A> <ES> and TCPCRYPT_SS <session ID> <ss[0]> lines")

local f_stream = Field.new("tcp.stream")
local f_srcport = Field.new("tcp.srcport")
local f_hdr_len = Field.new("tcp.hdr_len")
local f_len = Field.new("tcp.len")
local f_seq = Field.new("tcp.seq_raw")
local f_syn = Field.new("tcp.flags.syn")
local f_ack = Field.new("tcp.flags.ack")
local f_options = Field.new("tcp.options")

-- A field's value in this packet, nil when TCP did not add it (malformed header).
local function val(f)
    local fi = f()
    return fi and fi.value
end

-- ---------------------------------------------------------------- key log

local keylog = { es = {}, ss = {}, path = nil }

-- (Re)read the key log.  Entries already known keep their cached ss chains;
-- a changed preference starts afresh.
local function keylog_load()
    local path = proto.prefs.keylog_file
    if keylog.path ~= path then keylog.es, keylog.ss, keylog.path = {}, {}, path end
    if path == nil or path == "" then return end
    local fh = io.open(path, "r")
    if not fh then return end
    for line in fh:lines() do
        local kind, a, b = line:match("^(TCPCRYPT_[ES][S]) (%x+) (%x+)%s*$")
        if kind == "TCPCRYPT_ES" then
            local na, es = core.fromhex(a), core.fromhex(b)
            if na and es and #na == core.N_LEN then keylog.es[na] = es end
        elseif kind == "TCPCRYPT_SS" then
            local sid, ss = core.fromhex(a), core.fromhex(b)
            if sid and #sid > 1 and ss and #ss == core.K_LEN and not keylog.ss[sid] then
                keylog.ss[sid] = { tep = band(sbyte(sid, 1), 0x7f), chain = { [0] = ss }, rid = {} }
            end
        end
    end
    fh:close()
end

-- ss[0] secrets learnt from fresh sessions decrypted in this capture, so a
-- later resumption of them is found even without its SS line.
local learnt = {}

local function es_for(n_a)
    if keylog.path ~= proto.prefs.keylog_file or not keylog.es[n_a] then keylog_load() end
    return keylog.es[n_a]
end

-- RFC 8548 §3.5: find ss[i] (i >= 1) whose resume[i] halves are the SYNs'
-- halves.  Lowest i first over all secrets: active openers use the lowest
-- unused i.  Chains and identifiers are cached per secret.
local MAX_RESUME_INDEX = 64
local function search_resumed(tep, active_half, passive_half)
    local cands = {}
    for _, e in pairs(keylog.ss) do if e.tep == tep then cands[#cands + 1] = e end end
    for _, e in ipairs(learnt) do if e.tep == tep then cands[#cands + 1] = e end end
    for i = 1, MAX_RESUME_INDEX do
        for _, e in ipairs(cands) do
            e.chain[i] = e.chain[i] or core.next_ss(e.chain[i - 1])
            e.rid[i] = e.rid[i] or core.resume_id(e.chain[i])
            local was_a = core.halves_match(e.rid[i], active_half, passive_half)
            if was_a ~= nil then return e.chain[i], was_a, e.aead, i end
        end
    end
    return nil
end

local function find_resumed(tep, active_half, passive_half)
    if keylog.path ~= proto.prefs.keylog_file then keylog_load() end
    local ss, was_a, aead, i = search_resumed(tep, active_half, passive_half)
    if ss then return ss, was_a, aead, i end
    keylog_load() -- lines added since the last read
    return search_resumed(tep, active_half, passive_half)
end

-- ---------------------------------------------------------------- per-connection state

local conns = {}   -- tcp.stream -> connection
local results = {} -- frame number -> what this packet completed
local seen = {}    -- frame number -> true once processed (first pass)

proto.init = function()
    conns, results, seen, learnt = {}, {}, {}, {}
    keylog.path = nil
end

local function new_dir(isn)
    return { isn = isn, next = 0, buf = "", base = 0, ooo = {}, gen = 0 }
end

-- Keys for generation j of the sender `who` ("A" / "B" by original roles).
local function frame_key_for(c, who, j)
    c.mk = c.mk or { [0] = c.mk0 }
    for g = #c.mk + 1, j do c.mk[g] = core.next_mk(c.mk[g - 1]) end
    c.fk = c.fk or {}
    local id = who .. j
    if not c.fk[id] then
        local kab, kba = core.traffic_keys(c.mk[j], c.aead)
        c.fk["A" .. j], c.fk["B" .. j] = core.frame_key(c.aead, kab), core.frame_key(c.aead, kba)
    end
    return c.fk[id]
end

-- Fresh session keys once Init1, Init2 and the key log's ES are known.
local function derive_fresh(c)
    if c.mk0 or not c.init1 or not c.init2 then return end
    local es = es_for(c.init1.nonce)
    if not es then return end
    local ss0 = core.ss0(c.init1.nonce, c.transcript, c.init1.raw, c.init2.raw, es)
    c.aead = c.init2.cipher
    if not core.AEADS[c.aead] then return end
    c.mk0 = core.mk0(ss0, "")
    c.sid = core.session_id(c.neg.b_byte, ss0, "")
    learnt[#learnt + 1] = { tep = c.neg.tep, aead = c.aead, chain = { [0] = ss0 }, rid = {} }
end

local function derive_resumed(c)
    local n = c.neg
    local ss, was_a, aead = find_resumed(n.tep, c.active_res.half, c.passive_res.half)
    if not ss then return end
    c.active_was_a = was_a
    local na, nb = c.active_res.nonce, c.passive_res.nonce
    if not was_a then na, nb = nb, na end
    local sn = na .. nb
    c.mk0 = core.mk0(ss, sn)
    c.sid = core.session_id(n.b_byte, ss, sn)
    c.aead = aead -- nil: found by trying each AEAD on the first frame
end

-- Which traffic key a direction sends with: A's (k_ab) or B's (k_ba) of the
-- original session (RFC 8548 §3.5: resumed hosts keep their original direction).
local function sender_letter(c, d)
    local active = d.active
    if c.neg.resumed then
        return (active == c.active_was_a) and "A" or "B"
    end
    return (active == c.neg.active_is_a) and "A" or "B"
end

local function decrypt_frame(c, d, rec)
    local who = sender_letter(c, d)
    if c.aead then
        local fk = frame_key_for(c, who, d.gen)
        local pt, ok = core.open_frame(fk, rec.offset, rec.header, rec.ct)
        return pt, ok
    end
    -- resumed session whose AEAD we never saw: the one whose tag verifies
    for id in pairs(core.AEADS) do
        c.aead, c.fk, c.mk = id, nil, nil
        local pt, ok = core.open_frame(frame_key_for(c, who, d.gen), rec.offset, rec.header, rec.ct)
        if ok then return pt, ok end
    end
    c.aead, c.fk, c.mk = nil, nil, nil
    return nil
end

-- Cut complete records (Init1/Init2, frames) off the front of d.buf.
local function parse_records(c, d, out)
    while true do
        if d.phase == "init" then
            local which = d.is_a and 1 or 2
            local m, err = core.parse_init(d.buf, which, c.neg.tep)
            if m == nil then return end
            if m == false then
                out[#out + 1] = { kind = "error", offset = d.base, msg = "Init" .. which .. ": " .. err }
                d.phase = "dead"
                return
            end
            out[#out + 1] = { kind = "init" .. which, offset = d.base, bytes = m.raw, m = m }
            if which == 1 then c.init1 = m else c.init2 = m end
            d.buf, d.base, d.phase = ssub(d.buf, m.len + 1), d.base + m.len, "frames"
            derive_fresh(c)
        elseif d.phase == "frames" then
            if #d.buf < 3 then return end
            local clen = core.u16(d.buf, 2)
            if #d.buf < 3 + clen then return end
            local rec = { kind = "frame", offset = d.base, bytes = ssub(d.buf, 1, 3 + clen),
                header = ssub(d.buf, 1, 3), ct = ssub(d.buf, 4, 3 + clen), control = sbyte(d.buf, 1), clen = clen }
            d.buf, d.base = ssub(d.buf, 4 + clen), d.base + 3 + clen
            -- RFC 8548 §4.2/§3.3: rekey = 1 means this frame uses the next generation
            if band(rec.control, 1) == 1 then d.gen = d.gen + 1 end
            rec.gen = d.gen
            if c.mk0 then
                local pt, ok = decrypt_frame(c, d, rec)
                if pt then
                    rec.aead, rec.tag_ok, rec.pt = c.aead, ok, pt
                    rec.p = core.parse_plaintext(pt)
                end
            end
            out[#out + 1] = rec
        else
            return
        end
    end
end

-- Add a segment's payload at its stream offset; process what became contiguous.
local function add_payload(c, d, off, data, out)
    if d.phase == "dead" or #data == 0 then return end
    if off + #data <= d.next then return end -- retransmission of bytes already seen
    if off > d.next then
        if not d.ooo[off] or #d.ooo[off] < #data then d.ooo[off] = data end
        return
    end
    d.buf = d.buf .. ssub(data, d.next - off + 1)
    d.next = off + #data
    local again = true
    while again do -- segments that arrived early and now fit
        again = false
        for o, seg in pairs(d.ooo) do
            if o <= d.next then
                d.ooo[o] = nil
                if o + #seg > d.next then
                    d.buf = d.buf .. ssub(seg, d.next - o + 1)
                    d.next = o + #seg
                end
                again = true
            end
        end
    end
    parse_records(c, d, out)
end

-- Find the ENO options in a TCP options area: list of {pos (1-based), raw}.
local function eno_options(opts)
    local list, i, n = {}, 1, #opts
    while i <= n do
        local kind = sbyte(opts, i)
        if kind == 0 then break end
        if kind == 1 then
            i = i + 1
        else
            if i + 1 > n then break end
            local len = sbyte(opts, i + 1)
            if len < 2 or i + len - 1 > n then break end
            if kind == 69 then list[#list + 1] = { pos = i, raw = ssub(opts, i, i + len - 1) } end
            i = i + len
        end
    end
    return list
end

-- First pass over one packet: update the connection, note what it completed.
local function process(pinfo, tvb, info)
    local stream = f_stream()
    if not stream then return end
    local key = stream.value
    local c = conns[key]
    local syn, ack, seq = val(f_syn), val(f_ack), val(f_seq)
    if syn == nil or ack == nil or seq == nil then return end
    local src = tostring(pinfo.src) .. "/" .. tostring(pinfo.src_port)
    if syn and not ack then
        if c and c.syn_src == src then return end -- retransmitted SYN
        c = { syn_src = src, syn_opt = info.eno_raw, syn_parsed = info.eno_parsed, dirs = {} }
        c.dirs[src] = new_dir(seq)
        c.dirs[src].active = true
        conns[key] = c
        return
    end
    if not c then return end
    if syn and ack then
        if c.synack_src then return end
        c.synack_src = src
        c.dirs[src] = new_dir(seq)
        c.dirs[src].active = false
        c.synack_opt, c.synack_parsed = info.eno_raw, info.eno_parsed
        local neg, why = core.negotiate(c.syn_parsed, c.synack_parsed)
        if neg then
            c.neg, c.transcript = neg, c.syn_opt .. c.synack_opt
            if neg.resumed then
                local ra, rb = neg.res_a, neg.res_b
                if neg.active_is_a then c.active_res, c.passive_res = ra, rb else c.active_res, c.passive_res = rb, ra end
                derive_resumed(c)
            end
            for _, d in pairs(c.dirs) do
                d.is_a = (d.active == neg.active_is_a)
                d.phase = neg.resumed and "frames" or "init"
            end
            info.neg = neg
        else
            c.off_reason = why
            for _, d in pairs(c.dirs) do d.phase = "dead" end
        end
        info.neg_result = { neg = neg, why = why }
        return
    end
    local d = c.dirs[src]
    if not d or not c.neg then return end
    -- RFC 8547 §4.6: the active opener's first ACK must carry ENO too
    if d.active and not d.acked then
        d.acked = true
        if not info.eno_raw then
            c.off_reason = "the active opener's first ACK has no ENO option"
            for _, x in pairs(c.dirs) do x.phase = "dead" end
            info.neg_result = { why = c.off_reason }
            return
        end
    end
    local len, sp, hl = val(f_len), f_srcport(), val(f_hdr_len)
    if not len or len == 0 or not sp or not hl then return end
    local start = sp.offset + hl
    if start + len > tvb:len() then
        info.truncated = true
        d.phase = "dead"
        return
    end
    local off = (seq - d.isn - 1) % 4294967296
    info.seg_off, info.seg_len, info.payload_start = off, len, start
    local out = {}
    add_payload(c, d, off, tvb:raw(start, len), out)
    for _, r in ipairs(out) do
        r.sid, r.aead = r.sid or c.sid, r.aead or c.aead
        r.letter = c.neg and sender_letter(c, d) or "?"
    end
    info.records = out
end

-- ---------------------------------------------------------------- display

local function u64(n)
    return UInt64.new(n % 4294967296, math.floor(n / 4294967296))
end

local function show_eno(tree, tvb, pos, raw, is_syn)
    local r = tvb(pos, #raw)
    local t = tree:add(F.eno, r)
    t:set_text("TCP-ENO option (kind 69): " .. core.tohex(ssub(raw, 3)))
    t:add(F.eno_len, tvb(pos + 1, 1))
    if not is_syn then
        t:add(F.eno_form, r, "non-SYN form (acknowledgment; contents ignored)")
        return
    end
    t:add(F.eno_form, r, "SYN form")
    local parsed, err = core.parse_eno(ssub(raw, 3))
    if not parsed then
        t:add_proto_expert_info(E.malformed, "Malformed ENO option: " .. err)
        return
    end
    if parsed.global == nil then t:append_text(" (implicit global suboption 0x00)") end
    for _, s in ipairs(parsed.subopts) do
        local base = pos + 1 + s.pos
        if s.kind == "global" then
            local g = t:add(F.eno_global, tvb(base, 1))
            g:add(F.eno_b, tvb(base, 1))
            g:add(F.eno_a, tvb(base, 1))
        else
            local tb = base
            if s.lenbyte then
                t:add(F.eno_lenbyte, tvb(base, 1)):append_text(string.format(" (%d data bytes follow)", #s.data))
                tb = base + 1
            end
            local st = t:add(F.eno_tep, tvb(tb, 1))
            st:add(F.eno_v, tvb(tb, 1))
            if #s.data > 0 then
                local dr = tvb(tb + 1, #s.data)
                local res = core.TEPS[s.tep] and core.resumption(s)
                if res then
                    st:append_text(" (resumption)")
                    st:add(F.eno_half, tvb(tb + 1, 9))
                    if #res.nonce > 0 then st:add(F.eno_nonce, tvb(tb + 10, #res.nonce)) end
                else
                    st:add(F.eno_data, dr)
                end
            end
        end
    end
end

local function record_range(tvb, info, r, name)
    -- the record lies in this segment: point at it; else show it reassembled
    if info.seg_off and r.offset >= info.seg_off and r.offset + #r.bytes <= info.seg_off + info.seg_len then
        return tvb(info.payload_start + r.offset - info.seg_off, #r.bytes)
    end
    return ByteArray.new(r.bytes, true):tvb(name)()
end

local function show_init(tree, tvb, info, r)
    local which = r.kind == "init1" and 1 or 2
    local rng = record_range(tvb, info, r, "Reassembled Init" .. which)
    local m = r.m
    local t = tree:add(which == 1 and F.init1 or F.init2, rng)
    t:set_text(string.format("Init%d (%d bytes at stream offset %d)", which, m.len, r.offset))
    t:add(F.magic, rng(0, 4))
    t:add(F.msg_len, rng(4, 4))
    if which == 1 then
        t:add(F.nciphers, rng(8, 1))
        for k = 1, #m.ciphers do t:add(F.cipher, rng(9 + 2 * (k - 1), 2)) end
        t:add(F.nonce_a, rng(m.nonce_pos - 1, core.N_LEN))
        if #m.pub > 0 then t:add(F.pub_a, rng(m.pub_pos - 1, #m.pub)) end
    else
        t:add(F.cipher, rng(8, 2))
        t:add(F.nonce_b, rng(m.nonce_pos - 1, core.N_LEN))
        if #m.pub > 0 then t:add(F.pub_b, rng(m.pub_pos - 1, #m.pub)) end
    end
    if #m.tail > 0 then t:add(F.ignored, rng(m.tail_pos - 1, #m.tail)) end
    return "Init" .. which
end

local function show_frame(tree, tvb, info, r, pinfo)
    local rng = record_range(tvb, info, r, "Reassembled tcpcrypt frame")
    local t = tree:add(F.frame, rng)
    t:set_text(string.format("Encryption frame (clen %d, stream offset %d, key generation %d)", r.clen, r.offset, r.gen))
    t:add(F.offset, rng(0, 0), u64(r.offset)):set_generated()
    local ct = t:add(F.control, rng(0, 1))
    ct:add(F.rekey, rng(0, 1))
    t:add(F.clen, rng(1, 2))
    if r.clen > 16 then t:add(F.ciphertext, rng(3, r.clen - 16)) end
    if r.clen >= 16 then t:add(F.tag, rng(3 + r.clen - 16, 16)) end
    t:add(F.gen, rng(0, 1), r.gen):set_generated()
    if r.sid then t:add(F.sid, rng(0, 0), core.tohex(r.sid)):set_generated() end
    if not r.pt then
        t:add_proto_expert_info(E.nokeys, "Not decrypted: no key for this session in the key log")
        return "frame"
    end
    t:add(F.aead, rng(0, 0), r.aead):set_generated()
    -- RFC 8548 §3.3/§3.5: host A (of the original session, if resumed) sends with k_ab
    t:add(F.key_dir, rng(0, 0), r.letter == "A" and string.format("k_ab[%d] (sent by host A)", r.gen)
        or string.format("k_ba[%d] (sent by host B)", r.gen)):set_generated()
    local tk = t:add(F.tag_ok, rng(3 + r.clen - 16, 16), r.tag_ok)
    tk:set_generated()
    if not r.tag_ok then tk:add_proto_expert_info(E.badtag, "Tag check failed: frame forged, corrupted or wrong key") end
    local p = r.p
    if not p then
        t:add_proto_expert_info(E.malformed, "Plaintext too short for its flags")
        return "frame"
    end
    local dtvb = ByteArray.new(r.pt, true):tvb(r.tag_ok and "Decrypted tcpcrypt" or "Decrypted tcpcrypt (BAD TAG)")
    local fl = t:add(F.flags, dtvb(0, 1))
    fl:add(F.finp, dtvb(0, 1))
    fl:add(F.urgp, dtvb(0, 1))
    if p.urgp then t:add(F.urgent, dtvb(1, 2)) end
    -- only authenticated bytes become tcpcrypt.plaintext
    if #p.data > 0 and r.tag_ok then
        t:add(F.plaintext, dtvb(p.data_pos - 1, #p.data))
    elseif #p.data > 0 then
        t:add(dtvb(p.data_pos - 1, #p.data), "Unauthenticated decryption (tag check failed): " .. #p.data .. " bytes")
    end
    local s = string.format("frame %s%d", r.letter, r.gen)
    if p.finp then s = s .. " FINp" end
    if #p.data > 0 then s = s .. " " .. #p.data .. "B" end
    if not r.tag_ok then s = s .. " BAD-TAG" end
    return s
end

function proto.dissector(tvb, pinfo, tree)
    local num = pinfo.number
    local stream = f_stream()
    if not stream then return end
    local opts = f_options()
    local enos = {}
    if opts then
        for _, e in ipairs(eno_options(opts.range:raw())) do
            e.tvb_pos = opts.offset + e.pos - 1
            enos[#enos + 1] = e
        end
    end
    local syn = val(f_syn)
    if syn == nil then return end
    local info = results[num]
    if not info then
        info = {}
        -- RFC 8547 §4.1: more than one ENO option in a SYN counts as none
        if #enos == 1 or (#enos > 1 and not syn) then
            info.eno_raw = enos[1].raw
            if syn then info.eno_parsed = core.parse_eno(ssub(enos[1].raw, 3)) end
        end
        if not seen[num] then
            seen[num] = true
            process(pinfo, tvb, info)
        end
        results[num] = info
    end
    local c = conns[stream.value]
    if #enos == 0 and not (info.records and #info.records > 0) and not info.neg_result then return end
    local t = tree:add(proto, tvb())
    local summary = {}
    for _, e in ipairs(enos) do show_eno(t, tvb, e.tvb_pos, e.raw, syn) end
    if #enos > 1 and syn then t:add_proto_expert_info(E.malformed, "More than one ENO option in a SYN: ignored (RFC 8547 §4.1)") end
    if info.neg_result then
        local n = info.neg_result.neg
        if n then
            t:add(F.neg_tep, tvb(0, 0), n.tep):set_generated()
            t:add(F.resumed, tvb(0, 0), n.resumed and true or false):set_generated()
            summary[#summary + 1] = (n.resumed and "resumed " or "") .. (tep_names[n.tep] or "?")
            if c and c.sid then t:add(F.sid, tvb(0, 0), core.tohex(c.sid)):set_generated() end
        else
            t:add_proto_expert_info(E.fallback, "tcpcrypt off: " .. tostring(info.neg_result.why))
            summary[#summary + 1] = "no tcpcrypt"
        end
    end
    for _, r in ipairs(info.records or {}) do
        if r.kind == "error" then
            t:add_proto_expert_info(E.malformed, r.msg)
        elseif r.kind == "frame" then
            summary[#summary + 1] = show_frame(t, tvb, info, r, pinfo)
        else
            summary[#summary + 1] = show_init(t, tvb, info, r)
        end
    end
    if #summary > 0 then
        pinfo.cols.protocol = "tcpcrypt"
        pinfo.cols.info:append(" [" .. table.concat(summary, ", ") .. "]")
        t:append_text(": " .. table.concat(summary, ", "))
    end
end

register_postdissector(proto)
