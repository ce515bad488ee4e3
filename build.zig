//! Builds libpgz, the protocol core of pypgz, as a shared object with a flat C ABI.
//! `zig build test` runs the core's unit tests.
const std = @import("std");

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});
    // Installs ship no debug info; Debug builds keep it for stack traces, and profiling
    // a release build needs its symbols (-Dsymbols).
    const symbols = b.option(bool, "symbols", "keep symbols and debug info") orelse (optimize == .Debug);

    const lib_mod = b.createModule(.{
        .root_source_file = b.path("core/abi.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .strip = !symbols,
    });
    const lib = b.addLibrary(.{ .name = "pgz", .linkage = .dynamic, .root_module = lib_mod });
    b.installArtifact(lib);

    const test_mod = b.createModule(.{
        .root_source_file = b.path("core/tests.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
    });
    const unit_tests = b.addTest(.{ .root_module = test_mod });
    const run_tests = b.addRunArtifact(unit_tests);
    const test_step = b.step("test", "Run libpgz unit tests");
    test_step.dependOn(&run_tests.step);
}
