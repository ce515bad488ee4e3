//! Binary date and timestamp values as the pickle states of Python's `date` and
//! `datetime`, which `date(state)` and `datetime(state, tz)` turn into objects at C speed
//! (LAYOUT.md, kinds DATE and DATETIME). CPython checks only the month byte of a state, so
//! everything written here is a valid date and time of years 1..9999, or the zero marker.
const std = @import("std");
const values = @import("values.zig");

pub const date_len = 4;
pub const datetime_len = 10;

/// year (big-endian uint16), month, day
pub const DateState = [date_len]u8;
/// year (big-endian uint16), month, day, hour, minute, second, microsecond (big-endian 24 bits)
pub const DatetimeState = [datetime_len]u8;

/// date.min / datetime.min (0001-01-01 00:00): -infinity, and the placeholder of a NULL.
pub const date_min: DateState = .{ 0, 1, 1, 1 };
pub const datetime_min: DatetimeState = .{ 0, 1, 1, 1, 0, 0, 0, 0, 0, 0 };
/// date.max / datetime.max (9999-12-31 23:59:59.999999): +infinity.
pub const date_max: DateState = .{ 0x27, 0x0f, 12, 31 };
pub const datetime_max: DatetimeState = .{ 0x27, 0x0f, 12, 31, 23, 59, 59, 0x0f, 0x42, 0x3f };

/// The slot of a value Python cannot hold: month 0, which no state has.
pub const date_marker: DateState = .{0} ** date_len;
pub const datetime_marker: DatetimeState = .{0} ** datetime_len;

/// Days since 2000-01-01 of 0001-01-01 and 9999-12-31, the range of Python's years.
const min_pg_days = -730_119;
const max_pg_days = 2_921_939;

fn putDate(dst: *DateState, pg_days: i64) void {
    const c = values.civilFromDays(pg_days + values.pg_epoch_unix_days);
    std.mem.writeInt(u16, dst[0..2], @intCast(c.year), .big);
    dst[2] = @intCast(c.month);
    dst[3] = @intCast(c.day);
}

/// The state of a binary date (int32 days since 2000-01-01), +/-infinity as date.max /
/// date.min. False, with the marker written, when the year is outside 1..9999.
pub fn date(dst: *DateState, pg_days: i32) bool {
    if (pg_days == std.math.maxInt(i32)) {
        dst.* = date_max;
    } else if (pg_days == std.math.minInt(i32)) {
        dst.* = date_min;
    } else if (pg_days < min_pg_days or pg_days > max_pg_days) {
        dst.* = date_marker;
        return false;
    } else {
        putDate(dst, pg_days);
    }
    return true;
}

/// The state of a binary timestamp[tz] (int64 microseconds since 2000-01-01 00:00, UTC
/// for timestamptz), +/-infinity as datetime.max / datetime.min. False, with the marker
/// written, when the year is outside 1..9999.
pub fn datetime(dst: *DatetimeState, us: i64) bool {
    if (us == std.math.maxInt(i64)) {
        dst.* = datetime_max;
        return true;
    }
    if (us == std.math.minInt(i64)) {
        dst.* = datetime_min;
        return true;
    }
    const days = @divFloor(us, values.us_per_day);
    if (days < min_pg_days or days > max_pg_days) {
        dst.* = datetime_marker;
        return false;
    }
    putDate(dst[0..date_len], days);
    const of_day: u64 = @intCast(us - days * values.us_per_day); // no overflow: days is in range
    const secs = of_day / values.us_per_sec;
    const frac: u32 = @intCast(of_day % values.us_per_sec);
    dst[4] = @intCast(secs / 3600);
    dst[5] = @intCast(secs / 60 % 60);
    dst[6] = @intCast(secs % 60);
    std.mem.writeInt(u24, dst[7..10], @intCast(frac), .big);
    return true;
}

// ---------------------------------------------------------------- tests

const testing = std.testing;
const us_per_day = values.us_per_day;

/// The state Python pickles for datetime(y, mo, d, h, mi, s, us).
pub fn stateOf(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8, us: u24) DatetimeState {
    var st: DatetimeState = undefined;
    std.mem.writeInt(u16, st[0..2], y, .big);
    st[2..7].* = .{ mo, d, h, mi, s };
    std.mem.writeInt(u24, st[7..10], us, .big);
    return st;
}

/// The state Python pickles for date(y, mo, d).
pub fn dateStateOf(y: u16, mo: u8, d: u8) DateState {
    return stateOf(y, mo, d, 0, 0, 0, 0)[0..date_len].*;
}

fn expectDate(expected: ?DateState, pg_days: i32) !void {
    var st: DateState = undefined;
    const ok = date(&st, pg_days);
    try testing.expectEqual(expected != null, ok);
    try testing.expectEqualSlices(u8, &(expected orelse date_marker), &st);
}

fn expectDatetime(expected: ?DatetimeState, us: i64) !void {
    var st: DatetimeState = undefined;
    const ok = datetime(&st, us);
    try testing.expectEqual(expected != null, ok);
    try testing.expectEqualSlices(u8, &(expected orelse datetime_marker), &st);
}

test "date states" {
    try expectDate(dateStateOf(2000, 1, 1), 0);
    try expectDate(dateStateOf(1999, 12, 31), -1);
    try expectDate(dateStateOf(1970, 1, 1), -10_957);
    try expectDate(dateStateOf(2000, 2, 29), 59);
    try expectDate(dateStateOf(2000, 3, 1), 60);
    try expectDate(dateStateOf(2024, 2, 29), 8825);
    try expectDate(dateStateOf(1900, 2, 28), -36_466);
    try expectDate(dateStateOf(1900, 3, 1), -36_465); // 1900 is not a leap year
    try expectDate(dateStateOf(1, 1, 1), min_pg_days);
    try expectDate(dateStateOf(9999, 12, 31), max_pg_days);
    try expectDate(date_max, std.math.maxInt(i32));
    try expectDate(date_min, std.math.minInt(i32));
    try expectDate(null, max_pg_days + 1); // 10000-01-01
    try expectDate(null, min_pg_days - 1); // 1 BC
    try expectDate(null, std.math.maxInt(i32) - 1);
    try expectDate(null, std.math.minInt(i32) + 1);
    try testing.expectEqualSlices(u8, &dateStateOf(9999, 12, 31), &date_max);
    try testing.expectEqualSlices(u8, &dateStateOf(1, 1, 1), &date_min);
}

test "every date Python holds: its civil date, in increasing byte order" {
    // big-endian fields make states compare like the dates they hold
    var prev: DateState = date_marker;
    var d: i32 = min_pg_days;
    while (d <= max_pg_days) : (d += 1) {
        var st: DateState = undefined;
        try testing.expect(date(&st, d));
        const c = values.civilFromDays(@as(i64, d) + values.pg_epoch_unix_days);
        try testing.expectEqualSlices(u8, &dateStateOf(@intCast(c.year), @intCast(c.month), @intCast(c.day)), &st);
        try testing.expect(std.mem.order(u8, &prev, &st) == .lt);
        prev = st;
    }
    try testing.expectEqualSlices(u8, &date_max, &prev);
}

test "datetime states" {
    const s: i64 = 1_000_000;
    try expectDatetime(stateOf(2000, 1, 1, 0, 0, 0, 0), 0);
    try expectDatetime(stateOf(1999, 12, 31, 23, 59, 59, 999_999), -1);
    try expectDatetime(stateOf(1970, 1, 1, 0, 0, 0, 0), -946_684_800 * s);
    try expectDatetime(stateOf(2000, 2, 29, 0, 0, 0, 1), 59 * us_per_day + 1);
    try expectDatetime(stateOf(2024, 2, 29, 12, 34, 56, 789), 8825 * us_per_day + 45_296 * s + 789);
    try expectDatetime(stateOf(2024, 3, 1, 0, 0, 0, 0), 8826 * us_per_day);
    try expectDatetime(stateOf(1900, 2, 28, 23, 59, 59, 0), -36_465 * us_per_day - s);
    try expectDatetime(stateOf(1, 1, 1, 0, 0, 0, 0), min_pg_days * us_per_day);
    try expectDatetime(stateOf(9999, 12, 31, 23, 59, 59, 999_999), (max_pg_days + 1) * us_per_day - 1);
    try expectDatetime(datetime_max, std.math.maxInt(i64));
    try expectDatetime(datetime_min, std.math.minInt(i64));
    try expectDatetime(null, (max_pg_days + 1) * us_per_day); // 10000-01-01
    try expectDatetime(null, min_pg_days * us_per_day - 1); // 1 BC, the last microsecond
    try expectDatetime(null, std.math.maxInt(i64) - 1); // 294277-01-09
    try expectDatetime(null, std.math.minInt(i64) + 1); // 290279 BC
    try testing.expectEqualSlices(u8, &stateOf(9999, 12, 31, 23, 59, 59, 999_999), &datetime_max);
    try testing.expectEqualSlices(u8, &stateOf(1, 1, 1, 0, 0, 0, 0), &datetime_min);
}
