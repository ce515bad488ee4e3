//! Mechanism selection for AuthenticationSASL.
//!
//! The message body (after the Int32 auth code 10) is a list of NUL-terminated
//! mechanism names, ended by an empty name.

const std = @import("std");

pub const Mechanism = enum {
    scram_sha_256,

    /// Name to send in SASLInitialResponse.
    pub fn name(self: Mechanism) [:0]const u8 {
        return switch (self) {
            .scram_sha_256 => "SCRAM-SHA-256",
        };
    }
};

pub const Error = error{ UnsupportedMechanism, InvalidServerMessage };

/// Picks the mechanism to use from the server's list. SCRAM-SHA-256-PLUS is not
/// chosen until channel binding is implemented (it needs TLS).
pub fn pickMechanism(list: []const u8) Error!Mechanism {
    var found = false;
    var rest = list;
    while (true) {
        const end = std.mem.indexOfScalar(u8, rest, 0) orelse return error.InvalidServerMessage;
        const mech = rest[0..end];
        rest = rest[end + 1 ..];
        if (mech.len == 0) break;
        if (std.mem.eql(u8, mech, "SCRAM-SHA-256")) found = true;
    }
    if (rest.len != 0) return error.InvalidServerMessage;
    return if (found) .scram_sha_256 else error.UnsupportedMechanism;
}

test "pickMechanism picks SCRAM-SHA-256" {
    try std.testing.expectEqual(Mechanism.scram_sha_256, try pickMechanism("SCRAM-SHA-256\x00\x00"));
    try std.testing.expectEqual(
        Mechanism.scram_sha_256,
        try pickMechanism("SCRAM-SHA-256-PLUS\x00SCRAM-SHA-256\x00\x00"),
    );
    try std.testing.expectEqualStrings("SCRAM-SHA-256", Mechanism.scram_sha_256.name());
}

test "pickMechanism rejects unsupported and malformed lists" {
    try std.testing.expectError(error.UnsupportedMechanism, pickMechanism("\x00"));
    try std.testing.expectError(error.UnsupportedMechanism, pickMechanism("SCRAM-SHA-256-PLUS\x00\x00"));
    try std.testing.expectError(error.UnsupportedMechanism, pickMechanism("SCRAM-SHA-2\x00\x00"));
    try std.testing.expectError(error.InvalidServerMessage, pickMechanism(""));
    try std.testing.expectError(error.InvalidServerMessage, pickMechanism("SCRAM-SHA-256"));
    try std.testing.expectError(error.InvalidServerMessage, pickMechanism("SCRAM-SHA-256\x00"));
    try std.testing.expectError(error.InvalidServerMessage, pickMechanism("SCRAM-SHA-256\x00\x00junk"));
}
