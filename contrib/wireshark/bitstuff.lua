--[[
bitstuff.lua - a Wireshark dissector for the bitstuff/1 protocol
(docs/PROTOCOL.md): HDLC, USB and CAN bit stuffing over TLS.

What it shows, for every request and reply inside the decrypted TLS stream:
  - text lines (PROTOCOL.md section 3): the op and rule words (or their
    defaults), the bits, "OK bits" replies and "ERR code name offset
    message" replies; a request line the server will refuse gets a note
    saying which error it will answer;
  - binary frames (section 4): magic 0xB5, type ('M', 'R', 'E'), the
    FIRST/LAST/reserved flags, op and rule, the length (bits in a chunk or
    bytes of an 'E' payload), the payload, its padding bits, and for 'E'
    the error code, its name, the offset (or "none") and the message;
  - the bits as 0/1 text (field bitstuff.bits), exactly bitstuff.nbits of
    them; past the "Most bits shown" preference (default 4096; tshark
    -o bitstuff.max_bits:N, 0 for all) only the first ones are shown, with
    a note saying how many;
  - per connection and direction, the message number (reply n answers
    request n, as the server answers in order; links "Request in frame"
    and, once the whole capture has been read, "Reply in frame"), the chunk
    number, the bits of the message before this chunk (add an error's
    offset to locate it) and the message's total at LAST.  A capture that
    begins mid-connection numbers from where it begins.

It registers for the ALPN id "bitstuff/1" (DissectorTable "tls.alpn") and
for the TLS ports in its "TLS ports" preference (default 55000, the
server's port; DissectorTable "tls.port"), and is reachable with Decode As
(tls.port).  A client that offers no ALPN (openssl s_client typed by hand)
is found by its port only.  Requests and replies that span several TLS
records are reassembled; one record may hold several of them.

Use (written for Wireshark 4.0 with Lua 5.2, as in Debian 12; tested with
tshark 4.0.17 by tests/integration/test_dissector.sh):

    bitstuffd --keylog-file /tmp/keys ...      # or bitstuff --keylog-file
    tshark -i lo -f 'tcp port 55000' -w /tmp/cap.pcapng
    tshark -r /tmp/cap.pcapng -o tls.keylog_file:/tmp/keys \
           -X lua_script:contrib/wireshark/bitstuff.lua -Y bitstuff -V

A server on another port: -o bitstuff.tls_ports:PORT (a range such as
55000,56000-56010), or -d tls.port==PORT,bitstuff.  Installed (cmake
--install) into Wireshark's global Lua plugin directory it loads without -X.

Without the key log Wireshark sees only encrypted TLS records.  The key log
holds every logged session's secrets: whoever has it can read that traffic,
so keep it private and delete it after use.
]]

local bitstuff = Proto("bitstuff", "bitstuff/1 bit stuffing protocol")

-- ---- protocol constants (src/lib/proto.h) --------------------------------

local ALPN = "bitstuff/1"
local DEFAULT_PORT = 55000
local MAGIC = 0xB5
local HDR_LEN = 8
local TYPE_M, TYPE_R, TYPE_E = 0x4D, 0x52, 0x45
local FLAG_FIRST, FLAG_LAST = 0x01, 0x02
local MAX_CHUNK_BITS = 524288
local E_HEAD, MAX_ERR_MSG = 12, 1024

local type_names = {
    [TYPE_M] = "M request chunk",
    [TYPE_R] = "R reply chunk",
    [TYPE_E] = "E error reply",
}
local type_letter = { [TYPE_M] = "M", [TYPE_R] = "R", [TYPE_E] = "E" }
local op_names = { [0] = "stuff", [1] = "unstuff" }
local rule_names = { [0] = "hdlc", [1] = "usb", [2] = "can" }
-- docs/PROTOCOL.md section 5; src/lib/proto.c code_names and stuff.c
local code_names = {
    [3] = "char", [4] = "flag", [5] = "abort", [6] = "stuff-bit",
    [7] = "truncated", [20] = "bad-command", [21] = "bad-rule",
    [22] = "line-too-long", [23] = "too-long", [24] = "bad-padding",
    [25] = "sequence", [26] = "bad-frame", [27] = "busy",
}
local form_names = { [0] = "text line", [1] = "binary frame" }
local dir_names = { [0] = "request (client to server)",
                    [1] = "reply (server to client)" }

-- ---- fields ----------------------------------------------------------------

-- An integer field without a base shows in decimal (base.DEC, ProtoField's
-- default).
local f = {
    form = ProtoField.uint8("bitstuff.form", "Form", base.DEC, form_names),
    dir = ProtoField.uint8("bitstuff.dir", "Direction", base.DEC, dir_names),
    -- binary frame header
    magic = ProtoField.uint8("bitstuff.magic", "Magic", base.HEX),
    type = ProtoField.uint8("bitstuff.type", "Type", base.HEX, type_names),
    flags = ProtoField.uint8("bitstuff.flags", "Flags", base.HEX),
    flag_first = ProtoField.bool("bitstuff.flags.first", "FIRST", 8, nil,
                                 FLAG_FIRST, "the first chunk of a message"),
    flag_last = ProtoField.bool("bitstuff.flags.last", "LAST", 8, nil,
                                FLAG_LAST, "the last chunk of a message"),
    flag_reserved = ProtoField.uint8("bitstuff.flags.reserved", "Reserved",
                                     base.HEX, nil, 0xFC, "must be 0"),
    op = ProtoField.uint8("bitstuff.op", "Op", base.DEC, op_names),
    rule = ProtoField.uint8("bitstuff.rule", "Rule", base.DEC, rule_names),
    chunk_bits = ProtoField.uint32("bitstuff.length",
                                   "Length (bits in chunk)"),
    e_len = ProtoField.uint32("bitstuff.payload_len",
                              "Length (bytes of error payload)"),
    payload = ProtoField.bytes("bitstuff.payload", "Payload"),
    padding = ProtoField.uint8("bitstuff.padding", "Padding bits", base.HEX),
    -- the bits, in either form
    nbits = ProtoField.uint64("bitstuff.nbits", "Bit count"),
    bits = ProtoField.string("bitstuff.bits", "Bits"),
    bits_shown = ProtoField.uint32("bitstuff.bits_shown", "Bits shown"),
    -- errors, in either form
    err_code = ProtoField.uint16("bitstuff.error.code", "Error code",
                                 base.DEC, code_names),
    err_name = ProtoField.string("bitstuff.error.name", "Error name"),
    err_reserved = ProtoField.uint16("bitstuff.error.reserved", "Reserved",
                                     base.HEX),
    err_offset = ProtoField.uint64("bitstuff.error.offset", "Error offset"),
    err_no_offset = ProtoField.bool("bitstuff.error.no_offset",
                                    "No offset"),
    err_msg = ProtoField.string("bitstuff.error.message", "Error message"),
    -- text lines
    line = ProtoField.string("bitstuff.line", "Line"),
    op_word = ProtoField.string("bitstuff.text.op", "Op word"),
    rule_word = ProtoField.string("bitstuff.text.rule", "Rule word"),
    status = ProtoField.string("bitstuff.text.status", "Reply"),
    -- per message, computed over the connection
    msg_num = ProtoField.uint32("bitstuff.msg.number", "Message number"),
    msg_chunk = ProtoField.uint32("bitstuff.msg.chunk", "Chunk number"),
    msg_before = ProtoField.uint64("bitstuff.msg.bits_before",
                                   "Message bits before this chunk"),
    msg_total = ProtoField.uint64("bitstuff.msg.total_bits",
                                  "Message total bits"),
    request_in = ProtoField.framenum("bitstuff.request_in",
                                     "Request in frame", base.NONE),
    reply_in = ProtoField.framenum("bitstuff.reply_in", "Reply in frame",
                                   base.NONE),
}
local field_list = {}
for _, v in pairs(f) do
    field_list[#field_list + 1] = v
end
bitstuff.fields = field_list

local ex = {
    malformed = ProtoExpert.new("bitstuff.malformed", "Malformed bitstuff/1",
                                expert.group.MALFORMED, expert.severity.ERROR),
    violation = ProtoExpert.new("bitstuff.violation",
                                "bitstuff/1 protocol violation",
                                expert.group.PROTOCOL, expert.severity.WARN),
    refused = ProtoExpert.new("bitstuff.refused",
                              "Request the server will refuse",
                              expert.group.RESPONSE_CODE,
                              expert.severity.NOTE),
    err_reply = ProtoExpert.new("bitstuff.error_reply", "Error reply",
                                expert.group.RESPONSE_CODE,
                                expert.severity.NOTE),
    cut = ProtoExpert.new("bitstuff.bits_cut", "Bits display shortened",
                          expert.group.COMMENTS_GROUP, expert.severity.CHAT),
}
bitstuff.experts = { ex.malformed, ex.violation, ex.refused, ex.err_reply,
                     ex.cut }

-- ---- preferences -----------------------------------------------------------

bitstuff.prefs.tls_ports = Pref.range("TLS ports", tostring(DEFAULT_PORT),
    "TCP ports whose TLS payload is bitstuff/1 (for clients that offer no "
    .. "ALPN, such as openssl s_client)", 65535)
bitstuff.prefs.max_bits = Pref.uint("Most bits shown", 4096,
    "Show at most this many bits as 0/1 text per chunk or line "
    .. "(0: all of them)")

-- ---- per-connection state --------------------------------------------------

local tcp_stream_f = Field.new("tcp.stream")

-- streams[stream] = { client = "addr:port", [0] = dirstate, [1] = dirstate }
-- dirstate = { msgs = n, open = bool, chunk = n, bits = n, first = {} }
-- cache["frame:offset:len:head"] = result of the first pass for that PDU
local streams, cache = {}, {}
local info_frame, info_visited = -1, false

function bitstuff.init()
    streams, cache = {}, {}
    info_frame = -1
end

local function stream_state(pinfo)
    local fi = tcp_stream_f()
    local id = fi and fi.value or -1
    local st = streams[id]
    if st == nil then
        -- first[n]: the frame where message n of that direction began
        st = { [0] = { msgs = 0, open = false, chunk = 0, bits = 0,
                       first = {} },
               [1] = { msgs = 0, open = false, chunk = 0, bits = 0,
                       first = {} } }
        streams[id] = st
    end
    return st
end

local function endpoint(addr, port)
    return tostring(addr) .. ":" .. tostring(port)
end

-- 0: request (client to server), 1: reply.  The client speaks first, so
-- the sender of the first PDU seen is the client, unless that PDU can only
-- come from a server (an 'R'/'E' frame, an OK/ERR line: the capture began
-- mid-connection).
local function direction(pinfo, st, looks_like_reply)
    local src = endpoint(pinfo.src, pinfo.src_port)
    if st.client == nil then
        if looks_like_reply then
            st.client = endpoint(pinfo.dst, pinfo.dst_port)
        else
            st.client = src
        end
    end
    return st.client == src and 0 or 1
end

-- ---- bits as text ----------------------------------------------------------

local byte_bits = {}
for b = 0, 255 do
    local s = {}
    for i = 7, 0, -1 do
        s[#s + 1] = (math.floor(b / 2 ^ i) % 2 == 1) and "1" or "0"
    end
    byte_bits[b] = table.concat(s)
end

-- A Lua number (an integer below 2^53) as the UInt64 that uint64 fields
-- take.
local function u64(n)
    return UInt64(n % 4294967296, math.floor(n / 4294967296))
end

local function shown_count(n)
    local cap = bitstuff.prefs.max_bits
    if cap == 0 or n <= cap then
        return n
    end
    return cap
end

-- Add bits (string of n_shown 0/1 characters, of n in all) on range.
local function add_bits(tree, range, s, n_shown, n)
    local it = tree:add(f.bits, range, s)
    if n_shown < n then
        -- a long label is cut at its end: say it first
        it:set_text(string.format("Bits (the first %d of %d): %s", n_shown, n,
                                  s))
        tree:add(f.bits_shown, range, n_shown):set_generated()
        tree:add_proto_expert_info(ex.cut, string.format(
            "%d of %d bits shown as text (preference \"Most bits shown\")",
            n_shown, n))
    end
    return it
end

-- For the Info column: "22 bits: 0101...", the bits cut at 64.
local function short_bits(s, n)
    if n == 0 then
        return "0 bits"
    end
    if #s > 64 then
        s = s:sub(1, 64) .. "..."
    end
    return string.format("%d bits: %s", n, s)
end

-- ---- PDU boundaries --------------------------------------------------------

-- Length of the PDU at off (raw: the whole tvb as a string), or nil plus
-- the number of further bytes needed (DESEGMENT_ONE_MORE_SEGMENT when that
-- is not known yet).  A frame whose header is broken beyond recovery takes
-- the rest of the data: "broken".
local function pdu_length(tvb, off, raw)
    local left = tvb:len() - off
    if tvb(off, 1):uint() == MAGIC then
        if left < HDR_LEN then
            return nil, HDR_LEN - left
        end
        local ftype = tvb(off + 1, 1):uint()
        local len = tvb(off + 4, 4):uint()
        local size
        if ftype == TYPE_E then
            if len < E_HEAD or len > E_HEAD + MAX_ERR_MSG then
                return left, "broken"
            end
            size = HDR_LEN + len
        elseif ftype == TYPE_M or ftype == TYPE_R then
            if len > MAX_CHUNK_BITS then
                return left, "broken"
            end
            size = HDR_LEN + math.ceil(len / 8)
        else
            return left, "broken"
        end
        if left < size then
            return nil, size - left
        end
        return size
    end
    local lf = raw:find("\n", off + 1, true)
    if lf == nil then
        return nil, DESEGMENT_ONE_MORE_SEGMENT
    end
    return lf - off
end

-- ---- per-PDU results that need the connection's history ---------------

local function pdu_key(pinfo, tvb, off, len)
    local head = tvb:raw(off, math.min(len, 16))
    return table.concat({ pinfo.number, off, len, head }, ":")
end

-- kind: "chunk" (flags, bits), "error" (ends a reply), "line" (bits),
-- "broken" (a frame whose header breaks the framing; it is answered).
local function track(pinfo, tvb, off, len, dir, kind, flags, nbits)
    local key = pdu_key(pinfo, tvb, off, len)
    if pinfo.visited and cache[key] then
        return cache[key]
    end
    local st = stream_state(pinfo)
    local d = st[dir]
    local r = {}
    if kind == "chunk" then
        if bit32.band(flags, FLAG_FIRST) ~= 0 then
            if d.open then
                r.cut_open = d.msgs -- the open message never saw LAST
            end
            d.msgs, d.open, d.chunk, d.bits = d.msgs + 1, true, 0, 0
        elseif not d.open then
            -- the server answers it (sequence) and discards the chunks up
            -- to LAST: one message
            r.orphan = true
            d.msgs, d.open, d.chunk, d.bits = d.msgs + 1, true, 0, 0
        end
        if d.open then
            d.chunk = d.chunk + 1
            r.num, r.chunk, r.before = d.msgs, d.chunk, d.bits
            d.bits = d.bits + nbits
            if bit32.band(flags, FLAG_LAST) ~= 0 then
                r.total = d.bits
                d.open = false
            end
        end
    elseif kind == "error" then
        if d.open then -- an 'E' after some 'R' chunks ends that reply
            r.num, r.before = d.msgs, d.bits
            d.open = false
        else
            d.msgs = d.msgs + 1
            r.num = d.msgs
        end
    elseif kind == "broken" then
        d.msgs, d.open = d.msgs + 1, false
        r.num = d.msgs
    else
        d.msgs = d.msgs + 1
        r.num, r.total = d.msgs, nbits
    end
    if r.num and d.first[r.num] == nil then
        d.first[r.num] = pinfo.number
    end
    -- requests and replies pair up in order: reply n answers request n
    r.peer = st[1 - dir].first
    r.dir = dir
    cache[key] = r
    return r
end

local function add_msg_info(tree, range, r)
    if r.num then
        tree:add(f.msg_num, range, r.num):set_generated()
    end
    if r.chunk then
        tree:add(f.msg_chunk, range, r.chunk):set_generated()
    end
    if r.before then
        tree:add(f.msg_before, range, u64(r.before)):set_generated()
    end
    if r.total then
        tree:add(f.msg_total, range, u64(r.total)):set_generated()
    end
    local peer = r.num and r.peer and r.peer[r.num]
    if peer then -- a request's reply is known once the capture was read
        tree:add(r.dir == 0 and f.reply_in or f.request_in, range, peer)
            :set_generated()
    end
    if r.orphan then
        tree:add_proto_expert_info(ex.violation,
            "a chunk without FIRST while no message is open (sequence)")
    end
    if r.cut_open then
        tree:add_proto_expert_info(ex.violation, string.format(
            "FIRST while message %d is still open (sequence)", r.cut_open))
    end
end

-- ---- binary frames ---------------------------------------------------------

-- The end of a frame that cannot be read further (its length or type is
-- bad): its payload raw, its message tracked as broken.
local function add_broken(t, tvb, pinfo, off, size, dir, summary)
    if size > HDR_LEN then
        t:add(f.payload, tvb(off + HDR_LEN, size - HDR_LEN))
    end
    add_msg_info(t, tvb(off, HDR_LEN),
                 track(pinfo, tvb, off, size, dir, "broken"))
    return summary .. " [broken]"
end

local function dissect_frame(tvb, pinfo, tree, off, size, broken)
    local ftype = tvb(off + 1, 1):uint()
    local flags = tvb(off + 2, 1):uint()
    local opr = tvb(off + 3, 1):uint()
    local op, rule = bit32.rshift(opr, 4), bit32.band(opr, 0x0F)
    local len = tvb(off + 4, 4):uint()
    local letter = type_letter[ftype] or string.format("0x%02x", ftype)
    local t = tree:add(bitstuff, tvb(off, size),
                       "bitstuff/1 binary frame " .. letter)
    local dir = direction(pinfo, stream_state(pinfo),
                          ftype == TYPE_R or ftype == TYPE_E)
    t:add(f.form, tvb(off, 1), 1):set_generated()
    t:add(f.dir, tvb(off, 1), dir):set_generated()
    t:add(f.magic, tvb(off, 1))
    local ti = t:add(f.type, tvb(off + 1, 1))
    if type_names[ftype] == nil then
        ti:add_proto_expert_info(ex.malformed,
            "unknown frame type (bad-frame): the rest of the stream cannot "
            .. "be delimited")
    elseif (ftype == TYPE_M) ~= (dir == 0) then
        ti:add_proto_expert_info(ex.violation, ftype == TYPE_M
            and "an 'M' frame from the server (bad-frame)"
            or "an 'R' or 'E' frame from the client (bad-frame)")
    end
    local fl = t:add(f.flags, tvb(off + 2, 1))
    fl:add(f.flag_first, tvb(off + 2, 1))
    fl:add(f.flag_last, tvb(off + 2, 1))
    local fr = fl:add(f.flag_reserved, tvb(off + 2, 1))
    local names = {}
    if bit32.band(flags, FLAG_FIRST) ~= 0 then names[#names + 1] = "FIRST" end
    if bit32.band(flags, FLAG_LAST) ~= 0 then names[#names + 1] = "LAST" end
    fl:append_text(" (" .. (#names > 0 and table.concat(names, "|")
                            or "none") .. ")")
    if bit32.band(flags, 0xFC) ~= 0 then
        fr:add_proto_expert_info(ex.violation,
            "reserved flag bits are set (bad-frame)")
    end
    local oi = t:add(f.op, tvb(off + 3, 1), op)
    oi:append_text(" (high nibble)")
    local ri = t:add(f.rule, tvb(off + 3, 1), rule)
    ri:append_text(" (low nibble)")
    if op_names[op] == nil or rule_names[rule] == nil then
        ri:add_proto_expert_info(ex.violation,
            "unknown op or rule (bad-rule): op 0 or 1, rule 0, 1 or 2")
    end
    local opname = (op_names[op] or "op?" .. op) .. " "
                   .. (rule_names[rule] or "rule?" .. rule)
    local summary = letter .. " " .. (#names > 0 and table.concat(names, "|")
                                      or "-") .. " " .. opname

    if ftype == TYPE_E then
        local li = t:add(f.e_len, tvb(off + 4, 4))
        if broken then
            li:add_proto_expert_info(ex.malformed, "an 'E' payload is 12 to "
                .. "1036 bytes (bad-frame)")
            return add_broken(t, tvb, pinfo, off, size, dir, summary)
        end
        if bit32.band(flags, FLAG_LAST) == 0 then
            fl:add_proto_expert_info(ex.violation,
                "an 'E' frame without LAST (bad-frame)")
        end
        local p = off + HDR_LEN
        local code = tvb(p, 2):uint()
        local name = code_names[code] or "unknown"
        t:add(f.err_code, tvb(p, 2))
        t:add(f.err_name, tvb(p, 2), name):set_generated()
        local rv = t:add(f.err_reserved, tvb(p + 2, 2))
        if tvb(p + 2, 2):uint() ~= 0 then
            rv:add_proto_expert_info(ex.violation, "reserved, must be 0")
        end
        local offset = tvb(p + 4, 8):uint64()
        local oi2 = t:add(f.err_offset, tvb(p + 4, 8))
        local where = " at " .. tostring(offset)
        if offset == UInt64.max() then
            oi2:append_text(" (none)")
            t:add(f.err_no_offset, tvb(p + 4, 8), true):set_generated()
            where = ""
        end
        if len > E_HEAD then
            t:add(f.err_msg, tvb(p + E_HEAD, len - E_HEAD))
        end
        local r = track(pinfo, tvb, off, size, dir, "error")
        add_msg_info(t, tvb(off, HDR_LEN), r)
        t:add_proto_expert_info(ex.err_reply, string.format(
            "error %d %s%s", code, name, where))
        summary = string.format("%s, error %d %s%s", summary, code, name,
                                where)
        t:append_text(string.format(": error %d %s%s", code, name, where))
        return summary
    end

    if type_names[ftype] == nil then -- flagged at its type above
        t:add(f.chunk_bits, tvb(off + 4, 4)):append_text(" (unknown type)")
        return add_broken(t, tvb, pinfo, off, size, dir, summary)
    end
    local li = t:add(f.chunk_bits, tvb(off + 4, 4))
    if broken then
        li:add_proto_expert_info(ex.malformed, string.format(
            "a chunk holds at most %d bits (bad-frame)", MAX_CHUNK_BITS))
        return add_broken(t, tvb, pinfo, off, size, dir, summary)
    end
    t:add(f.nbits, tvb(off + 4, 4), u64(len)):set_generated()
    local nbytes = size - HDR_LEN
    local p = off + HDR_LEN
    local s = ""
    if nbytes > 0 then
        local pl = t:add(f.payload, tvb(p, nbytes))
        local shown = shown_count(len)
        local sbytes = math.ceil(shown / 8)
        local raw = tvb:raw(p, sbytes)
        local parts = {}
        for i = 1, sbytes do
            parts[i] = byte_bits[raw:byte(i)]
        end
        s = table.concat(parts):sub(1, shown)
        add_bits(t, tvb(p, sbytes), s, shown, len)
        local pad = (8 - len % 8) % 8
        if pad > 0 then
            local last = tvb(p + nbytes - 1, 1):uint()
            local pv = bit32.band(last, bit32.lshift(1, pad) - 1)
            local pi = t:add(f.padding, tvb(p + nbytes - 1, 1), pv)
            pi:append_text(string.format(" (the low %d bits of the last byte)",
                                         pad))
            if pv ~= 0 then
                pi:add_proto_expert_info(ex.violation,
                    "nonzero padding bits (bad-padding)")
            end
        end
        pl:set_len(nbytes)
    else
        t:add(f.bits, tvb(off + 4, 4), ""):set_generated()
    end
    local r = track(pinfo, tvb, off, size, dir, "chunk", flags, len)
    add_msg_info(t, tvb(off, HDR_LEN), r)
    t:append_text(string.format(": %s %s, %d bits", opname,
                  #names > 0 and table.concat(names, "|") or "-", len))
    return summary .. ", " .. short_bits(s, len)
end

-- ---- text lines ------------------------------------------------------------

local function is_bits(w)
    return w:find("^[01]+$") ~= nil
end

-- Words of s (SP/HTAB separated) with their 0-based offsets.
local function words(s)
    local out = {}
    for pos, w in s:gmatch("()([^ \t]+)") do
        out[#out + 1] = { w = w, at = pos - 1 }
    end
    return out
end

-- The decimal string d as a UInt64 (at most 20 digits).
local function dec64(d)
    local v = UInt64(0)
    for i = 1, #d do
        v = v * 10 + (d:byte(i) - 48)
    end
    return v
end

local function dissect_reply_line(tvb, pinfo, t, off, body, dir)
    local ok_bits = body:match("^OK ([01]+)$")
    if body == "OK" or ok_bits then
        t:add(f.status, tvb(off, 2))
        local n = ok_bits and #ok_bits or 0
        local shown = shown_count(n)
        t:add(f.nbits, tvb(off, #body), u64(n)):set_generated()
        if n > 0 then
            add_bits(t, tvb(off + 3, shown), ok_bits:sub(1, shown), shown, n)
        else
            t:add(f.bits, tvb(off, 2), ""):set_generated()
        end
        local r = track(pinfo, tvb, off, #body, dir, "line", nil, n)
        add_msg_info(t, tvb(off, #body), r)
        t:append_text(string.format(": OK, %d bits", n))
        return "OK, " .. short_bits(ok_bits or "", n)
    end
    local code, name, offs, msg =
        body:match("^ERR (%d+) ([a-z%-]+) (%S+) (.+)$")
    if code == nil or #code > 5 or not (offs == "-" or offs:find("^%d+$")) then
        t:add_proto_expert_info(ex.malformed, "a reply line is \"OK [bits]\""
            .. " or \"ERR code name offset message\"")
        return "reply? " .. body:sub(1, 40)
    end
    t:add(f.status, tvb(off, 3))
    local p = off + 4
    local ci = t:add(f.err_code, tvb(p, #code), tonumber(code))
    p = p + #code + 1
    local ni = t:add(f.err_name, tvb(p, #name))
    local want = code_names[tonumber(code)] or "unknown"
    if name ~= want then
        ni:add_proto_expert_info(ex.violation, string.format(
            "code %s is named %s, not %s", code, want, name))
    end
    p = p + #name + 1
    local where = ""
    if offs == "-" then
        t:add(f.err_no_offset, tvb(p, 1), true)
    elseif #offs > 20 then
        t:add_proto_expert_info(ex.malformed, "an offset has at most 20 digits")
    else
        t:add(f.err_offset, tvb(p, #offs), dec64(offs))
        where = " at " .. offs
    end
    p = p + #offs + 1
    t:add(f.err_msg, tvb(p, #msg))
    if #msg > MAX_ERR_MSG then
        t:add_proto_expert_info(ex.violation, "an error message is at most "
            .. MAX_ERR_MSG .. " bytes")
    end
    local r = track(pinfo, tvb, off, #body, dir, "line", nil, 0)
    r.total = nil
    add_msg_info(t, tvb(off, #body), r)
    ci:add_proto_expert_info(ex.err_reply, string.format("error %s %s%s",
                                                        code, name, where))
    t:append_text(string.format(": ERR %s %s%s", code, name, where))
    return string.format("ERR %s %s%s", code, name, where)
end

-- The server's answer to a request line (docs/PROTOCOL.md 3.3), decided
-- left to right as the server does.  Returns op, rule, the bits word (or
-- nil), the op and rule words, and an error {code, offset, why} or nil.
local function parse_request(body)
    local w = words(body)
    local op, rule = 0, 0
    local opw, rulew, bitsw
    local i = 1
    if w[1] == nil then
        return nil
    end
    if not w[1].w:find("^[01]") then
        local lw = w[1].w:lower()
        if lw == "stuff" or lw == "unstuff" then
            opw, op, i = w[1], lw == "unstuff" and 1 or 0, 2
            if w[2] and not w[2].w:find("^[01]") then
                local rl = w[2].w:lower()
                local rn = ({ hdlc = 0, usb = 1, can = 2 })[rl]
                if rn == nil then
                    return op, rule, nil, opw, nil,
                           { 21, nil, "the word after the op is not a rule "
                                      .. "(hdlc, usb, can) and not bits" }
                end
                rulew, rule, i = w[2], rn, 3
            end
        else
            return op, rule, nil, nil, nil,
                   { 20, nil, "the first word is not stuff, unstuff or bits" }
        end
    end
    bitsw = w[i]
    if bitsw ~= nil then
        local bad = bitsw.w:find("[^01]")
        if bad then
            return op, rule, bitsw, opw, rulew,
                   { 3, bad - 1, "not a bit" }
        end
        if w[i + 1] then
            return op, rule, bitsw, opw, rulew,
                   { 3, w[i + 1].at - bitsw.at, "a second word after the bits" }
        end
    end
    return op, rule, bitsw, opw, rulew, nil
end

local function dissect_request_line(tvb, pinfo, t, off, body, dir)
    local op, rule, bitsw, opw, rulew, err = parse_request(body)
    if op == nil then
        t:append_text(": blank line (no reply)")
        return "blank line"
    end
    local bad_words = err and (err[1] == 20 or err[1] == 21)
    if opw then
        t:add(f.op_word, tvb(off + opw.at, #opw.w))
    end
    if not (bad_words and not opw) then
        local oit = t:add(f.op, opw and tvb(off + opw.at, #opw.w)
                                or tvb(off, 0), op)
        oit:set_generated()
        if not opw then
            oit:append_text(" (default)")
        end
    end
    if rulew then
        t:add(f.rule_word, tvb(off + rulew.at, #rulew.w))
    end
    if not bad_words then
        local rng = rulew and tvb(off + rulew.at, #rulew.w) or tvb(off, 0)
        local rit = t:add(f.rule, rng, rule)
        rit:set_generated()
        if not rulew then
            rit:append_text(" (default)")
        end
    end
    local n = 0
    local s = ""
    if bitsw and (err == nil or err[1] ~= 3) then
        n = #bitsw.w
    end
    if err and err[1] == 3 and err[2] <= #bitsw.w then
        n = err[2] -- the bits before the bad byte
    end
    if not bad_words then -- a char error: the bits before the bad byte
        t:add(f.nbits, tvb(off, #body), u64(n)):set_generated()
        if n > 0 then
            local shown = shown_count(n)
            s = bitsw.w:sub(1, shown)
            add_bits(t, tvb(off + bitsw.at, shown), s, shown, n)
        else
            t:add(f.bits, tvb(off, 0), ""):set_generated()
        end
    end
    local r = track(pinfo, tvb, off, #body, dir, "line", nil, n)
    if err then
        r.total = nil -- a refused message has no bits
    end
    add_msg_info(t, tvb(off, #body), r)
    local opname = op_names[op] .. " " .. rule_names[rule]
    if err then
        local at = err[2] and (" " .. err[2]) or " -"
        t:add_proto_expert_info(ex.refused, string.format(
            "%s: the server answers ERR %d %s%s", err[3], err[1],
            code_names[err[1]], at))
        t:append_text(string.format(": %s, refused (%s)", opname,
                                    code_names[err[1]]))
        return string.format("%s [will be refused: %d %s]",
                             body:sub(1, 40), err[1], code_names[err[1]])
    end
    t:append_text(string.format(": %s, %d bits", opname, n))
    return opname .. ", " .. short_bits(s, n)
end

local function dissect_line(tvb, pinfo, tree, off, size)
    -- the line without its LF, and without a CR just before it
    local raw = tvb:raw(off, size)
    local body = raw:sub(1, -2)
    if body:sub(-1) == "\r" then
        body = body:sub(1, -2)
    end
    local t = tree:add(bitstuff, tvb(off, size), "bitstuff/1 text line")
    local reply_like = body:find("^OK$") or body:find("^OK ")
                       or body:find("^ERR ")
    local dir = direction(pinfo, stream_state(pinfo), reply_like)
    t:add(f.form, tvb(off, 1), 0):set_generated()
    t:add(f.dir, tvb(off, 1), dir):set_generated()
    t:add(f.line, tvb(off, #body))
    if body:find("\r", 1, true) then
        t:add_proto_expert_info(ex.refused,
            "a CR is allowed only just before the LF (char)")
    end
    if dir == 1 then
        return dissect_reply_line(tvb, pinfo, t, off, body, dir)
    end
    return dissect_request_line(tvb, pinfo, t, off, body, dir)
end

-- ---- the dissector ---------------------------------------------------------

function bitstuff.dissector(tvb, pinfo, tree)
    local len = tvb:len()
    local off = 0
    local parts = {}
    local raw = tvb:raw()
    while off < len do
        local size, more = pdu_length(tvb, off, raw)
        if size == nil then
            pinfo.desegment_offset = off
            pinfo.desegment_len = more
            break
        end
        if tvb(off, 1):uint() == MAGIC then
            parts[#parts + 1] = dissect_frame(tvb, pinfo, tree, off, size,
                                              more == "broken")
        else
            parts[#parts + 1] = dissect_line(tvb, pinfo, tree, off, size)
        end
        off = off + size
    end
    if #parts > 0 then
        pinfo.cols.protocol = "bitstuff"
        local text = table.concat(parts, "; ")
        -- several TLS records of one packet: one Info line for all
        if info_frame == pinfo.number and pinfo.visited == info_visited then
            pinfo.cols.info:append("; " .. text)
        else
            pinfo.cols.info:clear_fence() -- TLS's fence: replace its text
            pinfo.cols.info:set(text)
        end
        info_frame, info_visited = pinfo.number, pinfo.visited
    end
    return len
end

-- ---- registration ----------------------------------------------------------

local registered_ports = ""

local function register_ports()
    local tls_port = DissectorTable.get("tls.port")
    local tcp_port = DissectorTable.get("tcp.port")
    local tls = Dissector.get("tls")
    if registered_ports ~= "" then
        tls_port:remove(registered_ports, bitstuff)
        tcp_port:remove(registered_ports, tls)
    end
    registered_ports = tostring(bitstuff.prefs.tls_ports)
    if registered_ports ~= "" then
        tls_port:add(registered_ports, bitstuff)
        tcp_port:add(registered_ports, tls)
    end
end

function bitstuff.prefs_changed()
    if tostring(bitstuff.prefs.tls_ports) ~= registered_ports then
        register_ports()
    end
end

DissectorTable.get("tls.alpn"):add(ALPN, bitstuff)
register_ports()
