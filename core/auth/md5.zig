//! PostgreSQL "md5" password authentication (AuthenticationMD5Password).
//!
//! The server stores md5(password ++ user) and sends a 4-byte salt; the client
//! answers "md5" ++ hex(md5(hex(md5(password ++ user)) ++ salt)).

const std = @import("std");
const Md5 = std.crypto.hash.Md5;

/// Length of the response: "md5" followed by 32 lowercase hex digits.
pub const response_len = 3 + 2 * Md5.digest_length;

/// Computes the PasswordMessage payload (without the trailing NUL) for md5 auth.
pub fn md5Response(user: []const u8, password: []const u8, salt: [4]u8) [response_len]u8 {
    var inner: [Md5.digest_length]u8 = undefined;
    var h = Md5.init(.{});
    h.update(password);
    h.update(user);
    h.final(&inner);
    var inner_hex = std.fmt.bytesToHex(inner, .lower);
    // The inner hash is password-equivalent for md5 auth: do not leave it on the stack.
    defer std.crypto.secureZero(u8, &inner);
    defer std.crypto.secureZero(u8, &inner_hex);

    var outer: [Md5.digest_length]u8 = undefined;
    h = Md5.init(.{});
    h.update(&inner_hex);
    h.update(&salt);
    h.final(&outer);

    var out: [response_len]u8 = undefined;
    @memcpy(out[0..3], "md5");
    out[3..].* = std.fmt.bytesToHex(outer, .lower);
    return out;
}

test "md5Response matches independently computed vectors" {
    // Expected values computed with Python hashlib.
    try std.testing.expectEqualStrings(
        "md5bb41a296aab6baccb36ff243a562abff",
        &md5Response("postgres", "secret", .{ 1, 2, 3, 4 }),
    );
    try std.testing.expectEqualStrings(
        "md5c3c837844c55fb4cc3f71bf076c4edfd",
        &md5Response("user", "", .{ 0xff, 0x00, 0x80, 0x7f }),
    );
}
