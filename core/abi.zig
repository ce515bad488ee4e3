//! The C ABI of libpgz: the only file that exports symbols. Every function and struct here
//! is documented in pgz.h; `tests/unit/test_abi_consistency.py` checks that this file, the
//! header and the Python stubs agree.
const std = @import("std");
const conn_mod = @import("conn.zig");
const Conn = conn_mod.Conn;
const CError = @import("error_record.zig").CError;
const types = @import("batch/types.zig");

const gpa = std.heap.c_allocator;

const err_closed: c_int = -1;
const err_bad_params: c_int = -2;
const err_no_memory: c_int = -3;

fn slice(ptr: ?[*]const u8, len: usize) []const u8 {
    return if (ptr) |p| p[0..len] else &.{};
}

export fn pgz_version() c_int {
    return 1;
}

export fn pgz_connect(fd: c_int, params: ?[*]const u8, params_len: usize, password: ?[*]const u8, password_len: usize) ?*Conn {
    return Conn.init(gpa, fd, slice(params, params_len), slice(password, password_len)) catch null;
}

export fn pgz_free(c: *Conn) void {
    c.deinit();
}

export fn pgz_close(c: *Conn) void {
    c.close();
}

/// Set in pgz_step's result when unprocessed input is buffered (see pgz.h).
const more_input: c_int = 0x100;

export fn pgz_step(c: *Conn) c_int {
    const ev = @intFromEnum(c.step());
    return if (c.in_end > c.in_start) ev | more_input else ev;
}

export fn pgz_wait(c: *Conn, timeout_ms: c_int) c_int {
    return @intFromEnum(c.wait(timeout_ms));
}

export fn pgz_exec(
    c: *Conn,
    flags: u32,
    statement: ?[*]const u8,
    statement_len: usize,
    sql: ?[*]const u8,
    sql_len: usize,
    oids: ?[*]const u32,
    n_oids: u32,
    params: ?[*]const u8,
    params_len: usize,
    nparams: u32,
    nsets: u32,
    result_formats: ?[*]const i16,
    n_result_formats: u32,
    batch_rows: u32,
) c_int {
    if (nparams > std.math.maxInt(u16) or n_oids > std.math.maxInt(u16) or n_result_formats > std.math.maxInt(u16)) return err_bad_params;
    const o: []const u32 = if (oids) |p| p[0..n_oids] else &.{};
    const f: []const i16 = if (result_formats) |p| p[0..n_result_formats] else &.{};
    c.exec(flags, slice(statement, statement_len), slice(sql, sql_len), o, slice(params, params_len), @intCast(nparams), nsets, f, batch_rows) catch |e| return switch (e) {
        error.Closed => err_closed,
        error.BadParameters => err_bad_params,
        error.OutOfMemory => err_no_memory,
    };
    return 0;
}

export fn pgz_close_statement(c: *Conn, name: ?[*]const u8, name_len: usize) c_int {
    c.closeStatement(slice(name, name_len)) catch |e| return switch (e) {
        error.Closed => err_closed,
        error.BadParameters => err_bad_params,
        error.OutOfMemory => err_no_memory,
    };
    return 0;
}

export fn pgz_result(c: *Conn, ptr: *[*]const u8, len: *usize) void {
    ptr.* = c.result_buf.items.ptr;
    len.* = c.result_buf.items.len;
}

export fn pgz_error(c: *Conn) *const CError {
    return &c.err.view;
}

export fn pgz_notice(c: *Conn) *const CError {
    return &c.notice.view;
}

export fn pgz_notification(c: *Conn, pid: *i32, channel: *[*:0]const u8, payload: *[*:0]const u8) void {
    pid.* = c.notify_pid;
    const b = c.notify_buf.items;
    channel.* = @ptrCast(b.ptr);
    payload.* = @ptrCast(b[c.notify_channel_len + 1 ..].ptr);
}

export fn pgz_close_reason(c: *Conn, message: *?[*:0]const u8) c_int {
    message.* = if (c.close_reason.items.len > 0) @ptrCast(c.close_reason.items.ptr) else null;
    return @intFromEnum(c.close_kind);
}

export fn pgz_fd(c: *Conn) c_int {
    return c.fd();
}

export fn pgz_backend_pid(c: *Conn) i32 {
    return c.backend_pid;
}

export fn pgz_transaction_status(c: *Conn) c_int {
    return c.txn_status;
}

export fn pgz_pending(c: *Conn) c_int {
    return @intCast(c.pending());
}

export fn pgz_parameter(c: *Conn, name: [*:0]const u8) ?[*:0]const u8 {
    const v = c.parameter(std.mem.span(name)) orelse return null;
    return v.ptr;
}

export fn pgz_parameters(c: *Conn, ptr: *[*]const u8, len: *usize) c_int {
    const blob = c.parameterBlob() catch return err_no_memory;
    ptr.* = blob.ptr;
    len.* = blob.len;
    return 0;
}

export fn pgz_cancel_packet(c: *Conn, buf: [*]u8, cap: usize) usize {
    return c.cancelPacket(buf[0..cap]);
}

export fn pgz_binary_supported(type_oid: u32) c_int {
    return @intFromBool(types.codecFor(type_oid, 1).kind() != .raw);
}

export fn pgz_copy_data(c: *Conn, data: ?[*]const u8, len: usize) c_int {
    c.copyData(slice(data, len)) catch |e| return execError(e);
    return 0;
}

export fn pgz_copy_end(c: *Conn, reason: ?[*]const u8, reason_len: usize) c_int {
    c.copyEnd(if (reason) |r| r[0..reason_len] else null) catch |e| return execError(e);
    return 0;
}

export fn pgz_pending_output(c: *Conn) usize {
    return c.pendingOutput();
}

export fn pgz_wait_writable(c: *Conn, timeout_ms: c_int) c_int {
    return @intFromEnum(c.waitWritable(timeout_ms));
}

fn execError(e: conn_mod.ExecError) c_int {
    return switch (e) {
        error.Closed => err_closed,
        error.BadParameters => err_bad_params,
        error.OutOfMemory => err_no_memory,
    };
}

export fn pgz_run(
    c: *Conn,
    statement: ?[*]const u8,
    statement_len: usize,
    params: ?[*]const u8,
    params_len: usize,
    nparams: u32,
    result_formats: ?[*]const i16,
    n_result_formats: u32,
    timeout_ms: c_int,
    ptr: *[*]const u8,
    len: *usize,
) c_int {
    const rc = pgz_exec(c, conn_mod.exec_execute, statement, statement_len, null, 0, null, 0, params, params_len, nparams, 1, result_formats, n_result_formats, 0);
    if (rc != 0) return rc;
    const ev = c.wait(timeout_ms);
    ptr.* = c.result_buf.items.ptr;
    len.* = c.result_buf.items.len;
    return @intFromEnum(ev);
}

export fn pgz_execute(
    c: *Conn,
    statement: ?[*]const u8,
    statement_len: usize,
    params: ?[*]const u8,
    params_len: usize,
    nparams: u32,
    result_formats: ?[*]const i16,
    n_result_formats: u32,
    batch_rows: u32,
) c_int {
    const rc = pgz_exec(c, conn_mod.exec_execute, statement, statement_len, null, 0, null, 0, params, params_len, nparams, 1, result_formats, n_result_formats, batch_rows);
    if (rc != 0) return rc;
    return pgz_step(c);
}
