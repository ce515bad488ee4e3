//! Every test of the columnar batch builder; core/tests.zig imports this file.
test {
    _ = @import("builder.zig");
    _ = @import("values.zig");
    _ = @import("pystate.zig");
    _ = @import("array.zig");
    _ = @import("types.zig");
    _ = @import("fuzz.zig");
}
