//! Test root for core/auth; the core test root imports this file.
test {
    _ = @import("md5.zig");
    _ = @import("sasl.zig");
    _ = @import("scram.zig");
}
