//! SCRAM-SHA-256 client (RFC 5802, RFC 7677) as PostgreSQL uses it:
//! clientFirst -> SASLInitialResponse, handleServerFirst(AuthenticationSASLContinue)
//! -> SASLResponse, verifyServerFinal(AuthenticationSASLFinal).
//!
//! Password: RFC 5802 asks for SASLprep. PostgreSQL's server falls back to the raw
//! bytes when normalization fails, and pypgz always sends the password's raw UTF-8
//! bytes unchanged. Passwords that SASLprep would alter (e.g. non-NFKC Unicode)
//! may therefore not match a verifier the server computed with normalization.

const std = @import("std");
const Allocator = std.mem.Allocator;
const Sha256 = std.crypto.hash.sha2.Sha256;
const HmacSha256 = std.crypto.auth.hmac.sha2.HmacSha256;
const b64 = std.base64.standard;

pub const Error = error{
    InvalidServerMessage,
    NonceMismatch,
    IterationCountTooLow,
    IterationCountTooHigh,
    ServerSignatureMismatch,
    ServerError,
    OutOfMemory,
};

/// A hostile server must not make us spin for hours in PBKDF2.
pub const max_iterations: u32 = 100_000_000;

const key_len = HmacSha256.mac_length;
const random_nonce_bytes = 24;

/// GS2 channel-binding flag. Only `.none` ("n,,") exists today. SCRAM-SHA-256-PLUS
/// with tls-server-end-point will add a variant carrying the server certificate
/// hash: its header is "p=tls-server-end-point,," and the hash is appended to the
/// header inside the c= attribute (see `gs2Header` and `channelBindingAttr`).
/// (libpq sends "y,," when it supports binding but the server offered no -PLUS;
/// that also belongs here once TLS lands.)
pub const ChannelBinding = enum {
    none,
};

fn gs2Header(cb: ChannelBinding) []const u8 {
    return switch (cb) {
        .none => "n,,",
    };
}

/// Value of the c= attribute: base64(gs2 header ++ channel binding data).
fn channelBindingAttr(cb: ChannelBinding) []const u8 {
    return switch (cb) {
        .none => "biws", // base64("n,,")
    };
}

const State = enum { client_first, server_first_handled, done };

pub const Client = struct {
    gpa: Allocator,
    channel_binding: ChannelBinding = .none,
    state: State = .client_first,
    /// Owned copy; wiped and freed once SaltedPassword has been derived.
    password: []u8,
    /// Full client-first-message; the bare part starts after the gs2 header.
    client_first: []u8,
    nonce_start: usize,
    /// client-final-message, once built.
    client_final: []u8 = &.{},
    server_signature: [key_len]u8 = undefined,

    /// `nonce` null: 24 random bytes from std.crypto.random, base64-encoded. Tests pass
    /// a fixed nonce, which must be printable ASCII without ','.
    /// `username`: PostgreSQL ignores it and libpq sends an empty one ("n=,"); it is
    /// escaped per RFC 5802 (',' -> "=2C", '=' -> "=3D") but otherwise sent raw.
    pub fn init(gpa: Allocator, username: []const u8, password: []const u8, nonce: ?[]const u8) Error!Client {
        var nonce_buf: [b64.Encoder.calcSize(random_nonce_bytes)]u8 = undefined;
        const client_nonce = nonce orelse randomNonce(&nonce_buf);
        std.debug.assert(isValidNonce(client_nonce));

        const pw = try gpa.dupe(u8, password);
        errdefer freeSecret(gpa, pw);

        const cb: ChannelBinding = .none;
        var msg: std.ArrayList(u8) = .empty;
        errdefer msg.deinit(gpa);
        try msg.appendSlice(gpa, gs2Header(cb));
        try msg.appendSlice(gpa, "n=");
        try appendSaslName(gpa, &msg, username);
        try msg.appendSlice(gpa, ",r=");
        const nonce_start = msg.items.len;
        try msg.appendSlice(gpa, client_nonce);

        return .{
            .gpa = gpa,
            .channel_binding = cb,
            .password = pw,
            .client_first = try msg.toOwnedSlice(gpa),
            .nonce_start = nonce_start,
        };
    }

    pub fn deinit(self: *Client) void {
        freeSecret(self.gpa, self.password);
        freeSecret(self.gpa, self.client_first);
        // The proof allows an offline dictionary attack on the password.
        freeSecret(self.gpa, self.client_final);
        std.crypto.secureZero(u8, &self.server_signature);
        self.* = undefined;
    }

    /// client-first-message, e.g. "n,,n=,r=<nonce>". Owned by the client.
    pub fn clientFirst(self: *Client) []const u8 {
        return self.client_first;
    }

    fn clientFirstBare(self: *const Client) []const u8 {
        return self.client_first[gs2Header(self.channel_binding).len..];
    }

    fn clientNonce(self: *const Client) []const u8 {
        return self.client_first[self.nonce_start..];
    }

    /// Parses server-first-message, derives the keys and returns client-final-message
    /// "c=biws,r=<nonce>,p=<base64 proof>" (owned by the client until deinit).
    pub fn handleServerFirst(self: *Client, msg: []const u8) Error![]const u8 {
        if (self.state != .client_first) return error.InvalidServerMessage;
        const first = try parseServerFirst(self.gpa, msg, self.clientNonce());
        defer self.gpa.free(first.salt);

        var salted: [key_len]u8 = undefined;
        defer std.crypto.secureZero(u8, &salted);
        // Cannot fail: iterations >= 1 and the output is one block.
        std.crypto.pwhash.pbkdf2(&salted, self.password, first.salt, first.iterations, HmacSha256) catch unreachable;
        var final: std.ArrayList(u8) = .empty;
        errdefer {
            std.crypto.secureZero(u8, final.items);
            final.deinit(self.gpa);
        }
        try final.appendSlice(self.gpa, "c=");
        try final.appendSlice(self.gpa, channelBindingAttr(self.channel_binding));
        try final.appendSlice(self.gpa, ",r=");
        try final.appendSlice(self.gpa, first.nonce);
        const without_proof_len = final.items.len;

        // AuthMessage = client-first-bare "," server-first "," client-final-without-proof
        const auth_message = try std.mem.concat(self.gpa, u8, &.{
            self.clientFirstBare(), ",", msg, ",", final.items[0..without_proof_len],
        });
        defer self.gpa.free(auth_message);

        var proof: [key_len]u8 = undefined;
        defer std.crypto.secureZero(u8, &proof);
        computeProof(&salted, auth_message, &proof, &self.server_signature);

        var proof_b64: [b64.Encoder.calcSize(key_len)]u8 = undefined;
        defer std.crypto.secureZero(u8, &proof_b64);
        try final.appendSlice(self.gpa, ",p=");
        try final.appendSlice(self.gpa, b64.Encoder.encode(&proof_b64, &proof));

        self.client_final = try final.toOwnedSlice(self.gpa);
        self.state = .server_first_handled;
        // The password is no longer needed.
        freeSecret(self.gpa, self.password);
        self.password = &.{};
        return self.client_final;
    }

    /// Checks server-final-message "v=<base64 ServerSignature>" in constant time;
    /// "e=<reason>" -> ServerError.
    pub fn verifyServerFinal(self: *Client, msg: []const u8) Error!void {
        if (self.state != .server_first_handled) return error.InvalidServerMessage;
        if (std.mem.startsWith(u8, msg, "e=")) return error.ServerError;
        if (!std.mem.startsWith(u8, msg, "v=")) return error.InvalidServerMessage;
        // Trailing extensions after the verifier are allowed and ignored.
        const value = firstAttr(msg[2..]);
        const size = b64.Decoder.calcSizeForSlice(value) catch return error.InvalidServerMessage;
        // A ServerSignature is always 32 bytes; anything else is malformed.
        if (size != key_len) return error.InvalidServerMessage;
        var got: [key_len]u8 = undefined;
        b64.Decoder.decode(&got, value) catch return error.InvalidServerMessage;
        if (!std.crypto.timing_safe.eql([key_len]u8, got, self.server_signature))
            return error.ServerSignatureMismatch;
        self.state = .done;
    }
};

const ServerFirst = struct {
    nonce: []const u8,
    /// Allocated; caller frees.
    salt: []u8,
    iterations: u32,
};

/// server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions]
fn parseServerFirst(gpa: Allocator, msg: []const u8, client_nonce: []const u8) Error!ServerFirst {
    var it = std.mem.splitScalar(u8, msg, ',');
    const r = it.next().?;
    // A mandatory extension we cannot understand means we must abort (RFC 5802 5.1).
    if (!std.mem.startsWith(u8, r, "r=")) return error.InvalidServerMessage;
    const nonce = r[2..];
    if (!isValidNonce(nonce)) return error.InvalidServerMessage;
    if (nonce.len <= client_nonce.len or !std.mem.startsWith(u8, nonce, client_nonce))
        return error.NonceMismatch;

    const s = it.next() orelse return error.InvalidServerMessage;
    if (!std.mem.startsWith(u8, s, "s=")) return error.InvalidServerMessage;
    const i = it.next() orelse return error.InvalidServerMessage;
    if (!std.mem.startsWith(u8, i, "i=")) return error.InvalidServerMessage;
    while (it.next()) |ext| {
        if (!isValidExtension(ext)) return error.InvalidServerMessage;
    }
    // Check the cheap fields before allocating for the salt.
    const iterations = try parseIterations(i[2..]);
    const salt = try decodeBase64(gpa, s[2..]);
    if (salt.len == 0) {
        gpa.free(salt);
        return error.InvalidServerMessage;
    }
    return .{ .nonce = nonce, .salt = salt, .iterations = iterations };
}

fn parseIterations(text: []const u8) Error!u32 {
    if (text.len == 0) return error.InvalidServerMessage;
    var n: u64 = 0;
    for (text) |c| {
        if (c < '0' or c > '9') return error.InvalidServerMessage;
        n = n * 10 + (c - '0');
        // Stop early so arbitrarily long digit strings cannot overflow.
        if (n > max_iterations) return error.IterationCountTooHigh;
    }
    if (n == 0) return error.IterationCountTooLow;
    return @intCast(n);
}

fn decodeBase64(gpa: Allocator, text: []const u8) Error![]u8 {
    const size = b64.Decoder.calcSizeForSlice(text) catch return error.InvalidServerMessage;
    const out = try gpa.alloc(u8, size);
    errdefer gpa.free(out);
    b64.Decoder.decode(out, text) catch return error.InvalidServerMessage;
    return out;
}

/// Derives ClientProof and ServerSignature from SaltedPassword (RFC 5802 section 3).
fn computeProof(salted: *const [key_len]u8, auth_message: []const u8, proof: *[key_len]u8, server_sig: *[key_len]u8) void {
    var client_key: [key_len]u8 = undefined;
    var stored_key: [key_len]u8 = undefined;
    var client_sig: [key_len]u8 = undefined;
    var server_key: [key_len]u8 = undefined;
    defer {
        std.crypto.secureZero(u8, &client_key);
        std.crypto.secureZero(u8, &stored_key);
        std.crypto.secureZero(u8, &client_sig);
        std.crypto.secureZero(u8, &server_key);
    }
    HmacSha256.create(&client_key, "Client Key", salted);
    Sha256.hash(&client_key, &stored_key, .{});
    HmacSha256.create(&client_sig, auth_message, &stored_key);
    for (proof, client_key, client_sig) |*p, k, s| p.* = k ^ s;
    HmacSha256.create(&server_key, "Server Key", salted);
    HmacSha256.create(server_sig, auth_message, &server_key);
}

fn randomNonce(buf: *[b64.Encoder.calcSize(random_nonce_bytes)]u8) []const u8 {
    var raw: [random_nonce_bytes]u8 = undefined;
    std.crypto.random.bytes(&raw);
    return b64.Encoder.encode(buf, &raw);
}

/// printable = %x21-2B / %x2D-7E (printable ASCII except ",")
fn isValidNonce(nonce: []const u8) bool {
    if (nonce.len == 0) return false;
    for (nonce) |c| {
        if (c < 0x21 or c > 0x7e or c == ',') return false;
    }
    return true;
}

/// An optional extension "x=value" with a letter attribute name.
fn isValidExtension(ext: []const u8) bool {
    return ext.len >= 2 and std.ascii.isAlphabetic(ext[0]) and ext[1] == '=';
}

fn firstAttr(text: []const u8) []const u8 {
    const end = std.mem.indexOfScalar(u8, text, ',') orelse text.len;
    return text[0..end];
}

/// saslname: ',' and '=' are escaped as "=2C" and "=3D".
fn appendSaslName(gpa: Allocator, out: *std.ArrayList(u8), name: []const u8) Allocator.Error!void {
    for (name) |c| switch (c) {
        ',' => try out.appendSlice(gpa, "=2C"),
        '=' => try out.appendSlice(gpa, "=3D"),
        else => try out.append(gpa, c),
    };
}

fn freeSecret(gpa: Allocator, buf: []u8) void {
    std.crypto.secureZero(u8, buf);
    gpa.free(buf);
}

// ---------------------------------------------------------------- tests

const testing = std.testing;

const rfc_nonce = "rOprNGfwEbeRWgbNEkqO";
const rfc_server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const rfc_client_final = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
const rfc_server_final = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

fn rfcClient() !Client {
    return Client.init(testing.allocator, "user", "pencil", rfc_nonce);
}

test "RFC 7677 section 3 example" {
    var c = try rfcClient();
    defer c.deinit();
    try testing.expectEqualStrings("n,,n=user,r=rOprNGfwEbeRWgbNEkqO", c.clientFirst());
    try testing.expectEqualStrings(rfc_client_final, try c.handleServerFirst(rfc_server_first));
    try c.verifyServerFinal(rfc_server_final);
}

test "iteration count 1 and empty username (vector computed with Python hashlib)" {
    var c = try Client.init(testing.allocator, "", "secret", "abc");
    defer c.deinit();
    try testing.expectEqualStrings("n,,n=,r=abc", c.clientFirst());
    try testing.expectEqualStrings(
        "c=biws,r=abcXYZ,p=6BlunhndwSNLhQwSAU+YDEKCxoihFLXL87m4tmXtFAw=",
        try c.handleServerFirst("r=abcXYZ,s=AQID,i=1"),
    );
    try c.verifyServerFinal("v=CXezcQb3aY2JBg043U7ZDH+R7lBv35sEnOiFysJsU3A=");
}

test "tampered server signature is rejected" {
    var c = try rfcClient();
    defer c.deinit();
    _ = try c.handleServerFirst(rfc_server_first);
    try testing.expectError(
        error.ServerSignatureMismatch,
        c.verifyServerFinal("v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
    );
    try testing.expectError(error.InvalidServerMessage, c.verifyServerFinal("v=AAAA"));
    try testing.expectError(error.InvalidServerMessage, c.verifyServerFinal("v="));
    try testing.expectError(error.InvalidServerMessage, c.verifyServerFinal("v=!!!!"));
    try testing.expectError(error.InvalidServerMessage, c.verifyServerFinal("x=abcd"));
}

test "server error in server-final" {
    var c = try rfcClient();
    defer c.deinit();
    _ = try c.handleServerFirst(rfc_server_first);
    try testing.expectError(error.ServerError, c.verifyServerFinal("e=invalid-proof"));
}

test "server nonce must extend the client nonce" {
    const cases = [_][]const u8{
        "r=XOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=rOprNGfw,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    };
    for (cases) |msg| {
        var c = try rfcClient();
        defer c.deinit();
        try testing.expectError(error.NonceMismatch, c.handleServerFirst(msg));
    }
}

test "malformed server-first messages are rejected" {
    const Case = struct { msg: []const u8, err: Error };
    const n = "r=rOprNGfwEbeRWgbNEkqOxyz";
    const cases = [_]Case{
        .{ .msg = "", .err = error.InvalidServerMessage },
        .{ .msg = n, .err = error.InvalidServerMessage },
        .{ .msg = n ++ ",i=4096", .err = error.InvalidServerMessage },
        .{ .msg = n ++ ",s=W22ZaJ0SNY7soEsUEjb6gQ==", .err = error.InvalidServerMessage },
        .{ .msg = n ++ ",i=4096,s=W22ZaJ0SNY7soEsUEjb6gQ==", .err = error.InvalidServerMessage },
        .{ .msg = n ++ ",s=not*base64,i=4096", .err = error.InvalidServerMessage },
        .{ .msg = n ++ ",s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096", .err = error.InvalidServerMessage },
        .{ .msg = n ++ ",s=,i=4096", .err = error.InvalidServerMessage },
        .{ .msg = n ++ ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0", .err = error.IterationCountTooLow },
        .{ .msg = n ++ ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=abc", .err = error.InvalidServerMessage },
        .{ .msg = n ++ ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=", .err = error.InvalidServerMessage },
        .{ .msg = n ++ ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1", .err = error.InvalidServerMessage },
        .{ .msg = n ++ ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=+5", .err = error.InvalidServerMessage },
        .{ .msg = n ++ ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=100000001", .err = error.IterationCountTooHigh },
        .{ .msg = n ++ ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999999999999999999", .err = error.IterationCountTooHigh },
        .{ .msg = n ++ ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,", .err = error.InvalidServerMessage },
        .{ .msg = "m=ext," ++ n ++ ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", .err = error.InvalidServerMessage },
        .{ .msg = "r=rOprNGfwEbeRWgbNEkqO x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", .err = error.InvalidServerMessage },
    };
    for (cases) |case| {
        var c = try rfcClient();
        defer c.deinit();
        _ = c.handleServerFirst(case.msg) catch |err| {
            testing.expectEqual(case.err, err) catch |e| {
                std.debug.print("message: {s}\n", .{case.msg});
                return e;
            };
            continue;
        };
        std.debug.print("accepted: {s}\n", .{case.msg});
        return error.TestUnexpectedResult;
    }
}

test "optional extensions after the iteration count are ignored" {
    var c = try rfcClient();
    defer c.deinit();
    _ = try c.handleServerFirst(rfc_server_first ++ ",x=whatever");
}

test "calls out of order are rejected" {
    var c = try rfcClient();
    defer c.deinit();
    try testing.expectError(error.InvalidServerMessage, c.verifyServerFinal(rfc_server_final));
    _ = try c.handleServerFirst(rfc_server_first);
    try testing.expectError(error.InvalidServerMessage, c.handleServerFirst(rfc_server_first));
    try c.verifyServerFinal(rfc_server_final);
    try testing.expectError(error.InvalidServerMessage, c.verifyServerFinal(rfc_server_final));
}

test "random nonce and username escaping" {
    var a = try Client.init(testing.allocator, "a,b=c", "pw", null);
    defer a.deinit();
    var b = try Client.init(testing.allocator, "", "pw", null);
    defer b.deinit();
    try testing.expect(std.mem.startsWith(u8, a.clientFirst(), "n,,n=a=2Cb=3Dc,r="));
    try testing.expect(std.mem.startsWith(u8, b.clientFirst(), "n,,n=,r="));
    try testing.expectEqual(@as(usize, 32), a.clientNonce().len);
    try testing.expect(isValidNonce(a.clientNonce()));
    try testing.expect(!std.mem.eql(u8, a.clientNonce(), b.clientNonce()));
}

test "no leaks when allocation fails" {
    try testing.checkAllAllocationFailures(testing.allocator, struct {
        fn run(gpa: Allocator) !void {
            var c = try Client.init(gpa, "user", "pencil", rfc_nonce);
            defer c.deinit();
            _ = try c.handleServerFirst(rfc_server_first);
            try c.verifyServerFinal(rfc_server_final);
        }
    }.run, .{});
}
