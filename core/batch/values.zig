//! Text renderings of binary PostgreSQL values (numeric, time/timetz, inet), written
//! straight into the TEXT arena; dates and timestamps are rendered only when Python cannot
//! hold them, for the error message (pystate.zig writes the others). Each `format*`
//! function writes into `dst`, which the caller has sized (see the `max_*` bounds), and
//! returns the number of bytes written. Nothing here allocates or goes through std.fmt:
//! these run once per value.
const std = @import("std");

pub const Error = error{ProtocolViolation};

/// "00", "01", ..., "99": two output digits per table lookup.
const pairs: [200]u8 = blk: {
    var t: [200]u8 = undefined;
    for (0..100) |i| {
        t[2 * i] = '0' + @as(u8, @intCast(i / 10));
        t[2 * i + 1] = '0' + @as(u8, @intCast(i % 10));
    }
    break :blk t;
};

inline fn put2(dst: []u8, v: u64) void {
    const i: usize = @intCast(v * 2);
    dst[0..2].* = pairs[i..][0..2].*;
}

inline fn put4(dst: []u8, v: u64) void {
    put2(dst, v / 100);
    put2(dst[2..], v % 100);
}

fn put6(dst: []u8, v: u64) void {
    put2(dst, v / 10000);
    put4(dst[2..], v % 10000);
}

/// Unpadded decimal digits of `v`.
fn putUint(dst: []u8, v: u64) usize {
    var tmp: [20]u8 = undefined;
    var i: usize = tmp.len;
    var x = v;
    while (true) {
        i -= 1;
        tmp[i] = '0' + @as(u8, @intCast(x % 10));
        x /= 10;
        if (x == 0) break;
    }
    const n = tmp.len - i;
    @memcpy(dst[0..n], tmp[i..]);
    return n;
}

fn put(dst: []u8, s: []const u8) usize {
    @memcpy(dst[0..s.len], s);
    return s.len;
}

// ---------------------------------------------------------------- dates and times

pub const max_date = 32;
pub const max_time = 16;
pub const max_timetz = 32;
pub const max_timestamp = 48;

pub const us_per_sec = 1_000_000;
pub const us_per_day: i64 = 86_400 * us_per_sec;
/// Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
pub const pg_epoch_unix_days = 10_957;

pub const Civil = struct { year: i64, month: u32, day: u32 };

/// Proleptic Gregorian date of a day count since 1970-01-01.
pub fn civilFromDays(unix_days: i64) Civil {
    // Count from 0000-03-01 so that a leap day is the last day of its (shifted) year;
    // 719468 days separate 0000-03-01 from 1970-01-01. An era is 400 years = 146097 days.
    const z = unix_days + 719_468;
    const era = @divFloor(z, 146_097);
    const doe: u64 = @intCast(z - era * 146_097); // day of era, 0..146096
    // year of era, 0..399: take out the leap days (every 4th year, not the 100th, but the 400th)
    const yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    const doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..365, from March 1st
    const mp = (5 * doy + 2) / 153; // month from March, 0..11 (153 days per 5 months)
    const day = doy - (153 * mp + 2) / 5 + 1;
    const month = if (mp < 10) mp + 3 else mp - 9;
    const year = era * 400 + @as(i64, @intCast(yoe)) + @intFromBool(month <= 2);
    return .{ .year = year, .month = @intCast(month), .day = @intCast(day) };
}

/// "YYYY-MM-DD"; years past 9999 get all their digits, years <= 0 are written as the
/// BC year (1 - year) and the caller appends " BC", as PostgreSQL does.
fn putDate(dst: []u8, c: Civil) usize {
    var n: usize = 0;
    const y: u64 = if (c.year > 0) @intCast(c.year) else @intCast(1 - c.year);
    if (y <= 9999) {
        put4(dst, y);
        n = 4;
    } else {
        n = putUint(dst, y);
    }
    dst[n] = '-';
    put2(dst[n + 1 ..], c.month);
    dst[n + 3] = '-';
    put2(dst[n + 4 ..], c.day);
    return n + 6;
}

/// "HH:MM:SS" plus ".ffffff" when there is a fraction. `us` is below 100 hours.
fn putTime(dst: []u8, us: u64) usize {
    const secs = us / us_per_sec;
    const frac = us % us_per_sec;
    put2(dst, secs / 3600);
    dst[2] = ':';
    put2(dst[3..], secs / 60 % 60);
    dst[5] = ':';
    put2(dst[6..], secs % 60);
    if (frac == 0) return 8;
    dst[8] = '.';
    put6(dst[9..], frac);
    return 15;
}

/// date: int32 days since 2000-01-01; +/-infinity become 9999-12-31 / 0001-01-01.
pub fn formatDate(dst: []u8, pg_days: i32) usize {
    if (pg_days == std.math.maxInt(i32)) return put(dst, "9999-12-31");
    if (pg_days == std.math.minInt(i32)) return put(dst, "0001-01-01");
    const c = civilFromDays(@as(i64, pg_days) + pg_epoch_unix_days);
    var n = putDate(dst, c);
    if (c.year <= 0) n += put(dst[n..], " BC");
    return n;
}

/// time: microseconds since midnight, 0 ..= 24:00:00 (checked by the caller).
pub fn formatTime(dst: []u8, us: u64) usize {
    return putTime(dst, us);
}

/// timetz: `zone` is the offset in seconds WEST of UTC (|zone| <= 16h, checked by the caller).
pub fn formatTimeTz(dst: []u8, us: u64, zone: i32) usize {
    var n = putTime(dst, us);
    const east = -@as(i64, zone);
    dst[n] = if (east < 0) '-' else '+';
    const a: u64 = @abs(east);
    put2(dst[n + 1 ..], a / 3600);
    dst[n + 3] = ':';
    put2(dst[n + 4 ..], a / 60 % 60);
    n += 6;
    if (a % 60 != 0) {
        dst[n] = ':';
        put2(dst[n + 1 ..], a % 60);
        n += 3;
    }
    return n;
}

/// timestamp[tz]: int64 microseconds since 2000-01-01 00:00 (UTC for timestamptz, which
/// gets a "+00:00" suffix); +/-infinity become the largest / smallest Python datetime.
pub fn formatTimestamp(dst: []u8, us: i64, utc: bool) usize {
    var n: usize = 0;
    var bc = false;
    if (us == std.math.maxInt(i64)) {
        n = put(dst, "9999-12-31T23:59:59.999999");
    } else if (us == std.math.minInt(i64)) {
        n = put(dst, "0001-01-01T00:00:00");
    } else {
        const days = @divFloor(us, us_per_day);
        const c = civilFromDays(days + pg_epoch_unix_days);
        n = putDate(dst, c);
        dst[n] = 'T';
        n += 1;
        n += putTime(dst[n..], @intCast(@mod(us, us_per_day))); // days * us_per_day could overflow
        bc = c.year <= 0;
    }
    if (utc) n += put(dst[n..], "+00:00");
    if (bc) n += put(dst[n..], " BC");
    return n;
}

// ---------------------------------------------------------------- numeric

const numeric_pos = 0x0000;
const numeric_neg = 0x4000;
const numeric_nan = 0xC000;
const numeric_pinf = 0xD000;
const numeric_ninf = 0xF000;
/// Largest display scale PostgreSQL stores (NUMERIC_DSCALE_MASK).
const numeric_max_dscale = 0x3FFF;

/// A validated binary numeric: int16 ndigits, int16 weight, uint16 sign, uint16 dscale,
/// then ndigits base-10000 digits (int16 each), most significant first. The value is
/// sum(digit[i] * 10000^(weight - i)).
pub const Numeric = struct {
    special: ?[]const u8 = null,
    neg: bool = false,
    weight: i32 = 0,
    dscale: u32 = 0,
    digits: []const u8 = &.{},

    pub fn parse(v: []const u8) Error!Numeric {
        if (v.len < 8) return error.ProtocolViolation;
        const ndigits = std.mem.readInt(i16, v[0..2], .big);
        if (ndigits < 0 or v.len != 8 + 2 * @as(usize, @intCast(ndigits))) return error.ProtocolViolation;
        const sign = std.mem.readInt(u16, v[4..6], .big);
        const dscale = std.mem.readInt(u16, v[6..8], .big);
        switch (sign) {
            numeric_nan => return .{ .special = "NaN" },
            numeric_pinf => return .{ .special = "Infinity" },
            numeric_ninf => return .{ .special = "-Infinity" },
            numeric_pos, numeric_neg => {},
            else => return error.ProtocolViolation,
        }
        if (dscale > numeric_max_dscale) return error.ProtocolViolation;
        const digits = v[8..];
        var i: usize = 0;
        while (i < digits.len) : (i += 2) {
            // a negative int16 reads as >= 0x8000, so one comparison covers both ends
            if (std.mem.readInt(u16, digits[i..][0..2], .big) > 9999) return error.ProtocolViolation;
        }
        return .{
            .neg = sign == numeric_neg,
            .weight = std.mem.readInt(i16, v[2..4], .big),
            .dscale = dscale,
            .digits = digits,
        };
    }

    /// Room `format` needs (it may scribble up to 3 bytes past the value it returns).
    pub fn maxLen(self: Numeric) usize {
        if (self.special) |s| return s.len;
        const int_digits: usize = if (self.weight < 0) 1 else 4 * (@as(usize, @intCast(self.weight)) + 1);
        return 1 + int_digits + 1 + self.dscale + 3;
    }

    fn digit(self: Numeric, i: i64) u64 {
        if (i < 0 or i >= self.digits.len / 2) return 0;
        const at: usize = @intCast(i * 2);
        return std.mem.readInt(u16, self.digits[at..][0..2], .big);
    }

    /// PostgreSQL's own rendering: the integer part without leading zeros (at least "0"),
    /// then exactly dscale fraction digits (zero-padded, or truncated past dscale).
    pub fn format(self: Numeric, dst: []u8) usize {
        if (self.special) |s| return put(dst, s);
        var n: usize = 0;
        if (self.neg) {
            dst[0] = '-';
            n = 1;
        }
        if (self.weight < 0) {
            dst[n] = '0';
            n += 1;
        } else {
            n += putUint(dst[n..], self.digit(0));
            var d: i64 = 1;
            while (d <= self.weight) : (d += 1) {
                put4(dst[n..], self.digit(d));
                n += 4;
            }
        }
        if (self.dscale == 0) return n;
        dst[n] = '.';
        n += 1;
        const end = n + self.dscale;
        var d: i64 = @as(i64, self.weight) + 1;
        while (n < end) : (d += 1) {
            put4(dst[n..], self.digit(d));
            n += 4;
        }
        return end;
    }
};

// ---------------------------------------------------------------- inet / cidr

pub const max_inet = 64;
const af_inet = 2; // PGSQL_AF_INET
const af_inet6 = 3; // PGSQL_AF_INET6

/// inet/cidr binary: family, bits, is_cidr, nbytes, address. PostgreSQL's text form:
/// "/bits" always for cidr, for inet only when it is not the full width.
pub fn formatInet(dst: []u8, v: []const u8, cidr: bool) Error!usize {
    if (v.len < 4) return error.ProtocolViolation;
    const bits = v[1];
    const addr = v[4..];
    if (v[3] != addr.len) return error.ProtocolViolation;
    var n: usize = 0;
    var full: u8 = 0;
    switch (v[0]) {
        af_inet => {
            if (addr.len != 4 or bits > 32) return error.ProtocolViolation;
            n = putIpv4(dst, addr[0..4]);
            full = 32;
        },
        af_inet6 => {
            if (addr.len != 16 or bits > 128) return error.ProtocolViolation;
            n = putIpv6(dst, addr[0..16]);
            full = 128;
        },
        else => return error.ProtocolViolation,
    }
    if (cidr or bits != full) {
        dst[n] = '/';
        n += 1 + putUint(dst[n + 1 ..], bits);
    }
    return n;
}

fn putIpv4(dst: []u8, a: *const [4]u8) usize {
    var n: usize = 0;
    for (a, 0..) |b, i| {
        if (i != 0) {
            dst[n] = '.';
            n += 1;
        }
        n += putUint(dst[n..], b);
    }
    return n;
}

/// Lower-case hex without leading zeros.
fn putHex16(dst: []u8, w: u16) usize {
    const hex = "0123456789abcdef";
    var n: usize = 0;
    var shift: u4 = 12;
    var started = false;
    while (true) : (shift -= 4) {
        const nib = (w >> shift) & 0xF;
        if (nib != 0 or started or shift == 0) {
            dst[n] = hex[nib];
            n += 1;
            started = true;
        }
        if (shift == 0) break;
    }
    return n;
}

/// RFC 5952 style, as PostgreSQL prints it: the longest run (the first on a tie) of two or
/// more zero groups becomes "::", and an address whose first 96 bits are zero, or are
/// ::ffff: (IPv4-mapped), ends in dotted-quad form.
fn putIpv6(dst: []u8, a: *const [16]u8) usize {
    var words: [8]u16 = undefined;
    for (&words, 0..) |*w, i| w.* = std.mem.readInt(u16, a[2 * i ..][0..2], .big);

    var best_base: usize = 8; // 8 = no run
    var best_len: usize = 0;
    var i: usize = 0;
    while (i < 8) {
        if (words[i] != 0) {
            i += 1;
            continue;
        }
        const start = i;
        while (i < 8 and words[i] == 0) i += 1;
        if (i - start > best_len) {
            best_base = start;
            best_len = i - start;
        }
    }
    if (best_len < 2) best_base = 8;

    var n: usize = 0;
    i = 0;
    while (i < 8) : (i += 1) {
        if (best_base != 8 and i >= best_base and i < best_base + best_len) {
            if (i == best_base) {
                dst[n] = ':';
                n += 1;
            }
            continue;
        }
        if (i != 0) {
            dst[n] = ':';
            n += 1;
        }
        const embedded_v4 = best_base == 0 and (best_len == 6 or (best_len == 5 and words[5] == 0xffff));
        if (i == 6 and embedded_v4) return n + putIpv4(dst[n..], a[12..16]);
        n += putHex16(dst[n..], words[i]);
    }
    if (best_base != 8 and best_base + best_len == 8) {
        dst[n] = ':';
        n += 1;
    }
    return n;
}

// ---------------------------------------------------------------- tests

const testing = std.testing;

fn expectDate(expected: []const u8, pg_days: i32) !void {
    var buf: [max_date]u8 = undefined;
    try testing.expectEqualStrings(expected, buf[0..formatDate(&buf, pg_days)]);
}

fn expectTimestamp(expected: []const u8, us: i64, utc: bool) !void {
    var buf: [max_timestamp]u8 = undefined;
    try testing.expectEqualStrings(expected, buf[0..formatTimestamp(&buf, us, utc)]);
}

fn numericBytes(buf: []u8, weight: i16, sign: u16, dscale: u16, digits: []const u16) []u8 {
    std.mem.writeInt(i16, buf[0..2], @intCast(digits.len), .big);
    std.mem.writeInt(i16, buf[2..4], weight, .big);
    std.mem.writeInt(u16, buf[4..6], sign, .big);
    std.mem.writeInt(u16, buf[6..8], dscale, .big);
    for (digits, 0..) |d, i| std.mem.writeInt(u16, buf[8 + 2 * i ..][0..2], d, .big);
    return buf[0 .. 8 + 2 * digits.len];
}

fn expectNumeric(expected: []const u8, weight: i16, sign: u16, dscale: u16, digits: []const u16) !void {
    var in: [64]u8 = undefined;
    const num = try Numeric.parse(numericBytes(&in, weight, sign, dscale, digits));
    var out: [256]u8 = undefined;
    try testing.expect(num.maxLen() <= out.len);
    try testing.expectEqualStrings(expected, out[0..num.format(&out)]);
}

test "civil from days" {
    const c = civilFromDays(0);
    try testing.expectEqual(Civil{ .year = 1970, .month = 1, .day = 1 }, c);
    // walk ~1200 years day by day and check the date advances exactly as the calendar does
    var prev = civilFromDays(-400_000);
    var d: i64 = -399_999;
    while (d < 40_000) : (d += 1) {
        const cur = civilFromDays(d);
        if (cur.day == prev.day + 1 and cur.month == prev.month and cur.year == prev.year) {} else {
            try testing.expectEqual(@as(u32, 1), cur.day);
            const mdays = [_]u32{ 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
            const y = prev.year;
            const leap = @mod(y, 4) == 0 and (@mod(y, 100) != 0 or @mod(y, 400) == 0);
            const len = if (prev.month == 2 and leap) 29 else mdays[prev.month - 1];
            try testing.expectEqual(len, prev.day);
            if (prev.month == 12) {
                try testing.expectEqual(Civil{ .year = y + 1, .month = 1, .day = 1 }, cur);
            } else {
                try testing.expectEqual(prev.month + 1, cur.month);
            }
        }
        prev = cur;
    }
}

test "dates" {
    try expectDate("2000-01-01", 0);
    try expectDate("1999-12-31", -1);
    try expectDate("1970-01-01", -10957);
    try expectDate("2000-02-29", 59);
    try expectDate("2000-03-01", 60);
    try expectDate("2024-02-29", 8825);
    try expectDate("1900-02-28", -36466);
    try expectDate("1900-03-01", -36465);
    try expectDate("0001-01-01", -730119);
    try expectDate("9999-12-31", 2921939);
    try expectDate("10000-01-01", 2921940);
    try expectDate("0001-12-31 BC", -730120);
    try expectDate("4714-11-24 BC", -2451545); // Julian day 0
    try expectDate("9999-12-31", std.math.maxInt(i32));
    try expectDate("0001-01-01", std.math.minInt(i32));
    try expectDate("5881610-07-10", std.math.maxInt(i32) - 1);
}

test "timestamps and times" {
    try expectTimestamp("2000-01-01T00:00:00", 0, false);
    try expectTimestamp("2000-01-01T00:00:00+00:00", 0, true);
    try expectTimestamp("1999-12-31T23:59:59.999999", -1, false);
    try expectTimestamp("1970-01-01T00:00:00", -946_684_800_000_000, false);
    try expectTimestamp("2024-02-29T12:34:56.000789+00:00", 8825 * us_per_day + 45_296_000_789, true);
    try expectTimestamp("9999-12-31T23:59:59.999999", std.math.maxInt(i64), false);
    try expectTimestamp("0001-01-01T00:00:00+00:00", std.math.minInt(i64), true);
    try expectTimestamp("0001-01-01T00:00:00", -730119 * us_per_day, false);
    try expectTimestamp("0001-12-31T23:59:59+00:00 BC", -730119 * us_per_day - us_per_sec, true);
    try expectTimestamp("294277-01-09T04:00:54.775806", std.math.maxInt(i64) - 1, false);
    try expectTimestamp("290279-12-22T19:59:05.224193 BC", std.math.minInt(i64) + 1, false);

    var buf: [max_timetz]u8 = undefined;
    try testing.expectEqualStrings("00:00:00", buf[0..formatTime(&buf, 0)]);
    try testing.expectEqualStrings("24:00:00", buf[0..formatTime(&buf, 86_400 * us_per_sec)]);
    try testing.expectEqualStrings("13:05:09.100000", buf[0..formatTime(&buf, 47_109_100_000)]);
    try testing.expectEqualStrings("01:00:00+01:00", buf[0..formatTimeTz(&buf, 3600 * us_per_sec, -3600)]);
    try testing.expectEqualStrings("01:00:00-05:30", buf[0..formatTimeTz(&buf, 3600 * us_per_sec, 19800)]);
    try testing.expectEqualStrings("00:00:00.500000+00:00", buf[0..formatTimeTz(&buf, 500_000, 0)]);
    try testing.expectEqualStrings("23:59:59.999999-15:59:59", buf[0..formatTimeTz(&buf, 86_399_999_999, 57599)]);
    try testing.expectEqualStrings("12:00:00+00:00:01", buf[0..formatTimeTz(&buf, 43_200 * us_per_sec, -1)]);
}

test "numeric" {
    try expectNumeric("0", 0, numeric_pos, 0, &.{});
    try expectNumeric("0.00", 0, numeric_pos, 2, &.{});
    try expectNumeric("-1.5", 0, numeric_neg, 1, &.{ 1, 5000 });
    try expectNumeric("1.50", 0, numeric_pos, 2, &.{ 1, 5000 });
    try expectNumeric("10000", 1, numeric_pos, 0, &.{1});
    try expectNumeric("12345678", 1, numeric_pos, 0, &.{ 1234, 5678 });
    try expectNumeric("100000000.000", 2, numeric_pos, 3, &.{1});
    try expectNumeric("0.0001", -1, numeric_pos, 4, &.{1});
    try expectNumeric("0.00000000000000000001", -5, numeric_pos, 20, &.{1});
    try expectNumeric("-0.000012", -2, numeric_neg, 6, &.{1200});
    try expectNumeric("3.14159", 0, numeric_pos, 5, &.{ 3, 1415, 9000 });
    try expectNumeric("3.14", 0, numeric_pos, 2, &.{ 3, 1415, 9000 }); // truncated past dscale
    try expectNumeric("NaN", 0, numeric_nan, 0, &.{});
    try expectNumeric("Infinity", 0, numeric_pinf, 0, &.{});
    try expectNumeric("-Infinity", 0, numeric_ninf, 0, &.{});
    try expectNumeric("9999", 0, numeric_pos, 0, &.{9999});

    // 1e100000 - huge weight
    var in: [16]u8 = undefined;
    const big = try Numeric.parse(numericBytes(&in, 25000, numeric_pos, 0, &.{10}));
    const out = try testing.allocator.alloc(u8, big.maxLen());
    defer testing.allocator.free(out);
    const s = out[0..big.format(out)];
    try testing.expectEqual(@as(usize, 2 + 4 * 25000), s.len);
    try testing.expectEqualStrings("100000", s[0..6]);

    try testing.expectError(error.ProtocolViolation, Numeric.parse(numericBytes(&in, 0, numeric_pos, 0, &.{10000})));
    try testing.expectError(error.ProtocolViolation, Numeric.parse(numericBytes(&in, 0, numeric_pos, 0, &.{0xFFFF})));
    try testing.expectError(error.ProtocolViolation, Numeric.parse(numericBytes(&in, 0, 0x1234, 0, &.{1})));
    try testing.expectError(error.ProtocolViolation, Numeric.parse(numericBytes(&in, 0, numeric_pos, 0x4000, &.{1})));
    try testing.expectError(error.ProtocolViolation, Numeric.parse(in[0..7]));
    const short = numericBytes(&in, 0, numeric_pos, 0, &.{ 1, 2 });
    try testing.expectError(error.ProtocolViolation, Numeric.parse(short[0 .. short.len - 1]));
}

fn expectInet(expected: []const u8, family: u8, bits: u8, addr: []const u8, cidr: bool) !void {
    var in: [20]u8 = undefined;
    in[0] = family;
    in[1] = bits;
    in[2] = @intFromBool(cidr);
    in[3] = @intCast(addr.len);
    @memcpy(in[4..][0..addr.len], addr);
    var out: [max_inet]u8 = undefined;
    try testing.expectEqualStrings(expected, out[0..try formatInet(&out, in[0 .. 4 + addr.len], cidr)]);
}

test "inet and cidr" {
    try expectInet("192.168.0.1", 2, 32, &.{ 192, 168, 0, 1 }, false);
    try expectInet("192.168.0.1/24", 2, 24, &.{ 192, 168, 0, 1 }, false);
    try expectInet("10.0.0.0/8", 2, 8, &.{ 10, 0, 0, 0 }, true);
    try expectInet("10.1.2.3/32", 2, 32, &.{ 10, 1, 2, 3 }, true);
    try expectInet("0.0.0.0/0", 2, 0, &.{ 0, 0, 0, 0 }, true);
    const z = [_]u8{0} ** 16;
    try expectInet("::", 3, 128, &z, false);
    try expectInet("::/0", 3, 0, &z, true);
    try expectInet("::1", 3, 128, &(.{0} ** 15 ++ .{1}), false);
    try expectInet("::2", 3, 128, &(.{0} ** 15 ++ .{2}), false);
    try expectInet("2001:db8::1/64", 3, 64, &(.{ 0x20, 0x01, 0x0d, 0xb8 } ++ .{0} ** 11 ++ .{1}), false);
    try expectInet("2001:db8::/32", 3, 32, &(.{ 0x20, 0x01, 0x0d, 0xb8 } ++ .{0} ** 12), true);
    try expectInet("1::", 3, 128, &(.{ 0, 1 } ++ .{0} ** 14), false);
    try expectInet("::ffff:1.2.3.4", 3, 128, &(.{0} ** 10 ++ .{ 0xff, 0xff, 1, 2, 3, 4 }), false);
    try expectInet("::1.2.3.4", 3, 128, &(.{0} ** 12 ++ .{ 1, 2, 3, 4 }), false);
    // runs of equal length: the first one is compressed; a single zero group is not
    try expectInet("1::2:0:0:3:4", 3, 128, &.{ 0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4 }, false);
    try expectInet("1:0:2:3:4:5:6:7", 3, 128, &.{ 0, 1, 0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7 }, false);
    try expectInet("abcd:ef01::", 3, 128, &(.{ 0xab, 0xcd, 0xef, 0x01 } ++ .{0} ** 12), false);
    try expectInet("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/127", 3, 127, &(.{0xff} ** 16), false);

    var out: [max_inet]u8 = undefined;
    try testing.expectError(error.ProtocolViolation, formatInet(&out, &.{ 2, 33, 0, 4, 1, 2, 3, 4 }, false));
    try testing.expectError(error.ProtocolViolation, formatInet(&out, &.{ 2, 32, 0, 4, 1, 2, 3 }, false));
    try testing.expectError(error.ProtocolViolation, formatInet(&out, &.{ 2, 32, 0, 3, 1, 2, 3 }, false));
    try testing.expectError(error.ProtocolViolation, formatInet(&out, &.{ 4, 32, 0, 4, 1, 2, 3, 4 }, false));
    try testing.expectError(error.ProtocolViolation, formatInet(&out, &.{ 2, 32, 0 }, false));
}
