//! Root of `zig build test`: every unit test of the core.
test {
    _ = @import("protocol/frontend.zig");
    _ = @import("protocol/backend.zig");
    _ = @import("error_record.zig");
    _ = @import("conn.zig");
    _ = @import("shapes.zig");
    _ = @import("auth/all_tests.zig");
    _ = @import("batch/all_tests.zig");
}
