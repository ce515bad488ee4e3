//! The connection: a state machine over buffered input and output.
//!
//! `step()` does whatever can be done without blocking — write pending output, read what
//! the socket has, and process whole messages — and returns either what it is waiting for
//! (`want_read` / `want_write`) or an event the caller must look at (a batch of rows, an
//! operation finished or failed, a notification, the connection lost). A blocking caller
//! loops on `wait()`, which polls the socket between steps; an event loop calls `step()`
//! when the socket is ready. Both run this same code.
//!
//! Operations are pipelined: each one queues its messages (ending with Sync) and an entry
//! in `ops`; responses are matched to operations in order, up to each ReadyForQuery.
const std = @import("std");
const posix = std.posix;
const Allocator = std.mem.Allocator;

const frontend = @import("protocol/frontend.zig");
const backend = @import("protocol/backend.zig");
const Transport = @import("transport.zig").Transport;
const Builder = @import("batch/builder.zig").Builder;
const ColumnDesc = @import("batch/builder.zig").ColumnDesc;
const md5 = @import("auth/md5.zig");
const scram = @import("auth/scram.zig");
const sasl = @import("auth/sasl.zig");
const ErrorRecord = @import("error_record.zig").ErrorRecord;
const result = @import("result.zig");
const shapes = @import("shapes.zig");

pub const Event = enum(c_int) {
    want_read = 1,
    want_write = 2,
    want_read_write = 3,
    ready = 4,
    batch = 5,
    done = 6,
    failed = 7,
    notice = 8,
    notify = 9,
    closed = 10,
    timeout = 11,
    interrupted = 12,
    /// The server waits for COPY data: send it with copyData, then copyEnd.
    copy_in = 13,
    /// A chunk of COPY TO STDOUT data is in the result buffer.
    copy_out = 14,

    pub fn isWant(self: Event) bool {
        return @intFromEnum(self) <= 3;
    }
};

/// Why a connection closed.
pub const CloseKind = enum(c_int) {
    open = 0,
    /// Closed by the caller.
    closed_by_user = 1,
    /// The server went away (EOF, reset, or an I/O error).
    lost = 2,
    /// The server sent something that is not the protocol.
    protocol = 3,
    /// Authentication could not proceed on the client side.
    auth = 4,
    /// Out of memory.
    no_memory = 5,
};

pub const exec_parse: u32 = 1;
pub const exec_describe_statement: u32 = 2;
pub const exec_execute: u32 = 4;
pub const exec_discard_rows: u32 = 8;
pub const exec_simple: u32 = 16;
/// Leave the operation open: no Sync yet; more parameter sets follow with `exec_more`.
pub const exec_open: u32 = 32;
/// Continue the open operation (no new entry in `ops`); Sync ends it unless `exec_open`.
pub const exec_more: u32 = 64;
/// With `exec_more`: end the open operation so that the server rolls back what it has run
/// (the caller could not encode the rest): an Execute of a portal that cannot exist fails
/// the implicit transaction before the Sync.
pub const exec_abort: u32 = 128;
const abort_portal = "pypgz: batch aborted by the client";
/// The operation runs a COPY and handles its data (a simple query).
pub const exec_copy: u32 = 256;

/// COPY OUT data is handed over in chunks of about this size.
const copy_chunk: usize = 1 << 20;
/// CopyData messages the core sends are at most this large.
const copy_message_max: usize = 1 << 20;

/// A batch is handed over when it holds this many bytes, even without a row limit,
/// so that no result needs more than a bounded buffer in the core.
const default_batch_bytes: usize = 32 << 20;
const read_chunk: usize = 64 << 10;

const OpKind = enum { startup, simple, extended };

const Op = struct {
    kind: OpKind,
    copy: bool = false,
    discard_rows: bool = false,
    batch_rows: u32 = 0,
    failed: bool = false,
    /// The statement's known result shape, replayed in place of a RowDescription.
    shape: ?*shapes.Shape = null,
    /// The statement (owned copies) whose shape this execution's Describe teaches.
    learn_name: []u8 = &.{},
    learn_formats: []i16 = &.{},

    fn deinit(op: *Op, gpa: Allocator) void {
        if (op.shape) |sh| sh.release(gpa);
        gpa.free(op.learn_name);
        gpa.free(op.learn_formats);
        op.* = .{ .kind = op.kind };
    }
};

const Param = struct { key: []u8, value: [:0]u8 };

pub const ExecError = error{ Closed, BadParameters, OutOfMemory };

pub const Conn = struct {
    gpa: Allocator,
    io: Transport,
    close_kind: CloseKind = .open,
    close_reason: std.ArrayList(u8) = .empty,

    out: std.ArrayList(u8) = .empty,
    out_pos: usize = 0,
    in: []u8 = &.{},
    in_start: usize = 0,
    in_end: usize = 0,

    ops: std.ArrayList(Op) = .empty,
    ops_head: usize = 0,

    user: []u8 = &.{},
    password: []u8 = &.{},
    sasl: ?scram.Client = null,

    backend_pid: i32 = 0,
    secret_key: [256]u8 = undefined,
    secret_key_len: usize = 0,
    txn_status: u8 = 0,
    params: std.ArrayList(Param) = .empty,
    params_blob: std.ArrayList(u8) = .empty,

    builder: Builder,
    rowdesc: std.ArrayList(u8) = .empty,
    /// The type and format of each column of `rowdesc`.
    cols: std.ArrayList(ColumnDesc) = .empty,
    shapes: shapes.Shapes = .{},
    ncols: u32 = 0,
    have_rowdesc: bool = false,
    paramdesc: std.ArrayList(u32) = .empty,
    have_paramdesc: bool = false,
    tag: std.ArrayList(u8) = .empty,
    result_buf: std.ArrayList(u8) = .empty,
    /// Set when a batch was handed over; its rows are dropped at the next step.
    batch_out: bool = false,
    /// Set when an operation's final result was handed over; its state resets at the next step.
    op_out: bool = false,

    err: ErrorRecord = .{},
    notice: ErrorRecord = .{},
    notify_pid: i32 = 0,
    notify_buf: std.ArrayList(u8) = .empty,
    notify_channel_len: usize = 0,

    /// An operation queued with `exec_open` awaits its remaining parameter sets and Sync.
    op_open: bool = false,

    /// Inside COPY OUT started by a query that does not handle COPY: skip its data.
    skipping_copy: bool = false,
    /// COPY FROM STDIN in progress: the server waits for copyData/copyEnd.
    copying_in: bool = false,
    /// COPY TO STDOUT in progress for an operation that handles it.
    copying_out: bool = false,
    /// Set when a COPY OUT chunk was handed over; the buffer is emptied at the next step.
    copy_out_handed: bool = false,

    pub fn init(gpa: Allocator, socket: posix.fd_t, startup_params: []const u8, password: []const u8) Allocator.Error!*Conn {
        const self = try gpa.create(Conn);
        self.* = .{ .gpa = gpa, .io = Transport.initPlain(socket), .builder = Builder.init(gpa) };
        errdefer self.deinit();
        self.password = try gpa.dupe(u8, password);
        self.user = try gpa.dupe(u8, findParam(startup_params, "user") orelse "");
        self.in = try gpa.alloc(u8, read_chunk);
        try frontend.startup(&self.out, gpa, startup_params);
        try self.ops.append(gpa, .{ .kind = .startup });
        return self;
    }

    pub fn deinit(self: *Conn) void {
        const gpa = self.gpa;
        if (self.close_kind == .open) self.io.close();
        std.crypto.secureZero(u8, self.password);
        gpa.free(self.password);
        gpa.free(self.user);
        if (self.sasl) |*s| s.deinit();
        gpa.free(self.in);
        self.out.deinit(gpa);
        for (self.ops.items[self.ops_head..]) |*op| op.deinit(gpa);
        self.ops.deinit(gpa);
        self.shapes.deinit(gpa);
        self.cols.deinit(gpa);
        for (self.params.items) |p| {
            gpa.free(p.key);
            gpa.free(p.value);
        }
        self.params.deinit(gpa);
        self.params_blob.deinit(gpa);
        self.builder.deinit();
        self.rowdesc.deinit(gpa);
        self.paramdesc.deinit(gpa);
        self.tag.deinit(gpa);
        self.result_buf.deinit(gpa);
        self.err.deinit(gpa);
        self.notice.deinit(gpa);
        self.notify_buf.deinit(gpa);
        self.close_reason.deinit(gpa);
        gpa.destroy(self);
    }

    pub fn fd(self: *const Conn) posix.fd_t {
        return self.io.fd();
    }

    pub fn pending(self: *const Conn) usize {
        return self.ops.items.len - self.ops_head;
    }

    // ---- closing ---------------------------------------------------------------------

    /// Closes the connection: a best-effort Terminate, then the socket.
    pub fn close(self: *Conn) void {
        if (self.close_kind != .open) return;
        self.out.clearRetainingCapacity();
        self.out_pos = 0;
        frontend.terminate(&self.out, self.gpa) catch {};
        _ = self.io.write(self.out.items);
        self.markClosed(.closed_by_user, "connection closed");
    }

    fn markClosed(self: *Conn, kind: CloseKind, reason: []const u8) void {
        if (self.close_kind != .open) return;
        self.io.close();
        self.close_kind = kind;
        self.txn_status = 0;
        self.close_reason.clearRetainingCapacity();
        self.close_reason.appendSlice(self.gpa, reason) catch {};
        self.close_reason.append(self.gpa, 0) catch {};
    }

    fn fail(self: *Conn, kind: CloseKind, reason: []const u8) Event {
        self.markClosed(kind, reason);
        return .closed;
    }

    fn ioFailure(self: *Conn, err: anyerror) Event {
        // The server usually says why before it goes (e.g. terminated by an administrator).
        if (self.err.present() and self.err.isFatal()) return self.fail(.lost, self.err.message());
        var buf: [160]u8 = undefined;
        const msg = std.fmt.bufPrint(&buf, "connection to server lost: {s}", .{@errorName(err)}) catch "connection to server lost";
        return self.fail(.lost, msg);
    }

    // ---- queueing operations -----------------------------------------------------------

    /// Queues one operation. See `exec_*` for `flags`; `params` holds `nsets` parameter sets of
    /// `nparams` parameters each, in the block format `frontend.bind` documents.
    pub fn exec(
        self: *Conn,
        flags: u32,
        statement: []const u8,
        sql: []const u8,
        oids: []const u32,
        params: []const u8,
        nparams: u16,
        nsets: u32,
        result_formats: []const i16,
        batch_rows: u32,
    ) ExecError!void {
        if (self.close_kind != .open) return error.Closed;
        const gpa = self.gpa;
        const mark = self.out.items.len;
        errdefer self.out.shrinkRetainingCapacity(mark);
        const discard = flags & exec_discard_rows != 0;
        if (flags & exec_simple != 0) {
            if (self.op_open) return error.BadParameters;
            try frontend.query(&self.out, gpa, sql);
            try self.ops.append(gpa, .{ .kind = .simple, .discard_rows = true, .copy = flags & exec_copy != 0 });
            return;
        }
        const more = flags & exec_more != 0;
        if (more != self.op_open) return error.BadParameters;
        var op: Op = .{ .kind = .extended, .discard_rows = discard, .batch_rows = batch_rows };
        errdefer op.deinit(gpa);
        if (flags & exec_parse != 0) {
            self.shapes.forget(gpa, statement);
            try frontend.parse(&self.out, gpa, statement, sql, oids);
        }
        if (flags & exec_describe_statement != 0) try frontend.describe(&self.out, gpa, 'S', statement);
        if (flags & exec_execute != 0) {
            var pos: usize = 0;
            var set: u32 = 0;
            while (set < nsets) : (set += 1) {
                pos += try frontend.bind(&self.out, gpa, "", statement, params[pos..], nparams, result_formats);
                if (set == 0 and !discard and !more) try self.describePortal(&op, flags, statement, result_formats);
                try frontend.execute(&self.out, gpa, "", 0);
            }
            if (pos != params.len) return error.BadParameters;
        }
        if (flags & exec_abort != 0) {
            if (!more) return error.BadParameters;
            try frontend.execute(&self.out, gpa, abort_portal, 0);
        }
        const open = flags & exec_open != 0 and flags & exec_abort == 0;
        if (!open) try frontend.sync(&self.out, gpa);
        if (!more) try self.ops.append(gpa, op);
        self.op_open = open;
    }

    /// Asks for the portal's row description, unless the statement's shape is known; the
    /// first execution of a named statement learns it (see shapes.zig).
    fn describePortal(self: *Conn, op: *Op, flags: u32, statement: []const u8, formats: []const i16) ExecError!void {
        const gpa = self.gpa;
        if (statement.len > 0 and flags & exec_parse == 0) {
            if (self.shapes.acquire(statement, formats)) |known| {
                op.shape = known;
                return;
            }
        }
        try frontend.describe(&self.out, gpa, 'P', "");
        if (statement.len == 0) return;
        op.learn_name = try gpa.dupe(u8, statement);
        op.learn_formats = try gpa.dupe(i16, formats);
    }

    /// Queues a Close of a prepared statement, to travel with the next operation. Its
    /// CloseComplete carries nothing and is skipped wherever it arrives.
    pub fn closeStatement(self: *Conn, name: []const u8) ExecError!void {
        if (self.close_kind != .open) return error.Closed;
        self.shapes.forget(self.gpa, name);
        try frontend.close(&self.out, self.gpa, 'S', name);
    }

    /// Queues COPY data (after a copy_in event), split into CopyData messages.
    pub fn copyData(self: *Conn, data: []const u8) ExecError!void {
        if (self.close_kind != .open) return error.Closed;
        if (!self.copying_in) return error.BadParameters;
        var rest = data;
        while (rest.len > 0) {
            const n = @min(rest.len, copy_message_max);
            try frontend.copyData(&self.out, self.gpa, rest[0..n]);
            rest = rest[n..];
        }
    }

    /// Ends COPY FROM STDIN: CopyDone, or CopyFail with `reason` (the server then fails the COPY).
    pub fn copyEnd(self: *Conn, reason: ?[]const u8) ExecError!void {
        if (self.close_kind != .open) return error.Closed;
        if (!self.copying_in) return error.BadParameters;
        if (reason) |r| try frontend.copyFail(&self.out, self.gpa, r) else try frontend.copyDone(&self.out, self.gpa);
        self.copying_in = false;
    }

    pub fn pendingOutput(self: *const Conn) usize {
        return self.out.items.len - self.out_pos;
    }

    /// Blocks until all queued output is written (or `timeout_ms` passes); reading waits.
    /// COPY FROM STDIN needs it: the server sends nothing until the data ends, so waiting
    /// for an event would wait for ever.
    pub fn waitWritable(self: *Conn, timeout_ms: i32) Event {
        const start = std.time.milliTimestamp();
        while (true) {
            if (self.close_kind != .open) return .closed;
            switch (self.flush()) {
                .ok => return .want_read,
                .closed => return .closed,
                .blocked => {},
            }
            if (self.pollSocket(posix.POLL.OUT, timeout_ms, start)) |ev| return ev;
        }
    }

    /// Waits in poll(2) until the socket is ready for `events`, within `timeout_ms` of
    /// `start` (negative: no limit). Null when ready; else timeout, interrupted (a signal:
    /// the caller runs its handlers) or closed.
    fn pollSocket(self: *Conn, events: i16, timeout_ms: i32, start: i64) ?Event {
        var remaining: i32 = -1;
        if (timeout_ms >= 0) {
            const elapsed = std.time.milliTimestamp() - start;
            if (elapsed >= timeout_ms) return .timeout;
            remaining = @intCast(timeout_ms - elapsed);
        }
        var fds = [_]posix.pollfd{.{ .fd = self.fd(), .events = events, .revents = 0 }};
        const rc = posix.system.poll(&fds, 1, remaining);
        return switch (posix.errno(rc)) {
            .SUCCESS => if (rc == 0) .timeout else null,
            .INTR => .interrupted,
            else => |e| self.ioFailure(posix.unexpectedErrno(e)),
        };
    }

    pub fn cancelPacket(self: *const Conn, buf: []u8) usize {
        if (buf.len < 12 + self.secret_key_len) return 0;
        return frontend.cancelRequest(self.backend_pid, self.secret_key[0..self.secret_key_len], buf);
    }

    // ---- driving -----------------------------------------------------------------------

    pub fn step(self: *Conn) Event {
        if (self.close_kind != .open) return .closed;
        self.releaseHandedOver();
        // Right after sending a request its answer cannot have arrived yet: skip the read
        // attempt (a syscall that would only say EAGAIN) and let the caller wait.
        var just_sent = self.out_pos < self.out.items.len;
        const write_blocked = switch (self.flush()) {
            .ok => false,
            .blocked => true,
            .closed => return .closed,
        };
        while (true) {
            const frame = backend.next(self.in[self.in_start..self.in_end]) catch
                return self.fail(.protocol, "protocol violation: bad message length");
            switch (frame) {
                .message => |m| {
                    self.in_start += m.size;
                    if (self.in_start == self.in_end) {
                        self.in_start = 0;
                        self.in_end = 0;
                    }
                    if (self.handle(m)) |ev| return ev;
                    if (self.close_kind != .open) return .closed;
                    // Handling may have queued a reply (authentication): send it now.
                    if (self.out_pos < self.out.items.len) switch (self.flush()) {
                        .ok, .blocked => {},
                        .closed => return .closed,
                    };
                },
                .need => |n| if (just_sent and !write_blocked) {
                    just_sent = false;
                    return .want_read;
                } else switch (self.fill(n)) {
                    .ok => {},
                    .blocked => return if (write_blocked or self.out_pos < self.out.items.len) .want_read_write else .want_read,
                    .closed => return .closed,
                },
            }
        }
    }

    /// Blocks (in poll(2)) until an event; `timeout_ms` < 0 waits for ever.
    pub fn wait(self: *Conn, timeout_ms: i32) Event {
        const start = std.time.milliTimestamp();
        while (true) {
            const ev = self.step();
            if (!ev.isWant()) return ev;
            var events: i16 = 0;
            if (ev == .want_read or ev == .want_read_write) events |= posix.POLL.IN;
            if (ev == .want_write or ev == .want_read_write) events |= posix.POLL.OUT;
            if (self.pollSocket(events, timeout_ms, start)) |stop| return stop;
        }
    }

    const IoStatus = enum { ok, blocked, closed };

    fn flush(self: *Conn) IoStatus {
        while (self.out_pos < self.out.items.len) {
            switch (self.io.write(self.out.items[self.out_pos..])) {
                .done => |n| self.out_pos += n,
                .want_write, .want_read => return .blocked,
                .eof => {
                    _ = self.fail(.lost, "connection to server lost while sending");
                    return .closed;
                },
                .failed => |e| {
                    _ = self.ioFailure(e);
                    return .closed;
                },
            }
        }
        self.out.clearRetainingCapacity();
        self.out_pos = 0;
        return .ok;
    }

    /// Reads more input so that at least `need` bytes of the current message are buffered.
    fn fill(self: *Conn, need: usize) IoStatus {
        if (self.in.len - self.in_start < @max(need, read_chunk)) {
            const live = self.in_end - self.in_start;
            std.mem.copyForwards(u8, self.in[0..live], self.in[self.in_start..self.in_end]);
            self.in_start = 0;
            self.in_end = live;
            if (self.in.len < need or self.in.len - live < read_chunk / 2) {
                const size = @max(need, live + read_chunk);
                self.in = self.gpa.realloc(self.in, size) catch {
                    _ = self.fail(.no_memory, "out of memory");
                    return .closed;
                };
            }
        }
        switch (self.io.read(self.in[self.in_end..])) {
            .done => |n| {
                self.in_end += n;
                return .ok;
            },
            .want_read, .want_write => return .blocked,
            .eof => {
                _ = self.fail(.lost, if (self.err.present() and self.err.isFatal())
                    self.err.message()
                else
                    "server closed the connection unexpectedly");
                return .closed;
            },
            .failed => |e| {
                _ = self.ioFailure(e);
                return .closed;
            },
        }
    }

    /// Drops what the caller has already taken: the rows of a handed-over batch, or the
    /// whole state of a finished operation.
    fn releaseHandedOver(self: *Conn) void {
        if (self.batch_out) {
            self.builder.clearRows();
            self.batch_out = false;
        }
        if (self.copy_out_handed) {
            self.result_buf.clearRetainingCapacity();
            self.copy_out_handed = false;
        }
        if (self.op_out) {
            self.builder.clearRows();
            self.have_rowdesc = false;
            self.have_paramdesc = false;
            self.ncols = 0;
            self.tag.clearRetainingCapacity();
            self.op_out = false;
        }
    }

    fn head(self: *Conn) ?*Op {
        if (self.ops_head >= self.ops.items.len) return null;
        return &self.ops.items[self.ops_head];
    }

    fn popOp(self: *Conn) void {
        self.ops.items[self.ops_head].deinit(self.gpa);
        self.ops_head += 1;
        if (self.ops_head == self.ops.items.len) {
            self.ops.clearRetainingCapacity();
            self.ops_head = 0;
        }
    }

    // ---- message handling --------------------------------------------------------------

    /// Handles one message; returns an event when the caller must act.
    fn handle(self: *Conn, m: backend.Message) ?Event {
        return self.dispatch(m) catch |err| switch (err) {
            error.ProtocolViolation => self.fail(.protocol, protocolReason(m.tag)),
            error.OutOfMemory => self.fail(.no_memory, "out of memory"),
            error.AuthFailed => .closed,
        };
    }

    const HandleError = error{ ProtocolViolation, OutOfMemory, AuthFailed };

    fn dispatch(self: *Conn, m: backend.Message) HandleError!?Event {
        switch (m.tag) {
            'N' => {
                try self.notice.set(self.gpa, m.body);
                return .notice;
            },
            'A' => {
                try self.onNotification(m.body);
                return .notify;
            },
            'S' => {
                try self.onParameterStatus(m.body);
                return null;
            },
            else => {},
        }
        const op = self.head() orelse return try self.onUnsolicited(m);
        if (op.kind == .startup) return try self.onStartupMessage(m);
        return try self.onOpMessage(op, m);
    }

    /// A message with no operation waiting: only a FATAL error (the server is about to
    /// close, e.g. terminated by an administrator) is legitimate here.
    fn onUnsolicited(self: *Conn, m: backend.Message) HandleError!?Event {
        if (m.tag != 'E') return error.ProtocolViolation;
        try self.err.set(self.gpa, m.body);
        return null;
    }

    fn onStartupMessage(self: *Conn, m: backend.Message) HandleError!?Event {
        switch (m.tag) {
            'R' => try self.onAuth(m.body),
            'K' => {
                var r = backend.Reader.init(m.body);
                self.backend_pid = try r.int(i32);
                const key = r.rest();
                if (key.len == 0 or key.len > self.secret_key.len) return error.ProtocolViolation;
                @memcpy(self.secret_key[0..key.len], key);
                self.secret_key_len = key.len;
            },
            'v' => {}, // NegotiateProtocolVersion: the server speaks an older minor version; 3.0 is all we ask.
            'E' => {
                // A start-up error ends the connection; report it as the failure of the start-up.
                try self.err.set(self.gpa, m.body);
                self.popOp();
                self.markClosed(.lost, self.err.message());
                return .failed;
            },
            'Z' => {
                self.txn_status = try readyStatus(m.body);
                self.popOp();
                std.crypto.secureZero(u8, self.password);
                return .ready;
            },
            else => return error.ProtocolViolation,
        }
        return null;
    }

    fn onAuth(self: *Conn, body: []const u8) HandleError!void {
        var r = backend.Reader.init(body);
        const code = try r.int(i32);
        const gpa = self.gpa;
        switch (code) {
            0 => {}, // AuthenticationOk
            3 => {
                try self.requirePassword();
                try frontend.password(&self.out, gpa, self.password);
            },
            5 => {
                try self.requirePassword();
                const salt = try r.bytes(4);
                const resp = md5.md5Response(self.user, self.password, salt[0..4].*);
                try frontend.password(&self.out, gpa, &resp);
            },
            10 => try self.startSasl(r.rest()),
            11 => {
                var s = &(self.sasl orelse return error.ProtocolViolation);
                const reply = s.handleServerFirst(r.rest()) catch |e| return self.authFailure(e);
                try frontend.saslResponse(&self.out, gpa, reply);
            },
            12 => {
                var s = &(self.sasl orelse return error.ProtocolViolation);
                s.verifyServerFinal(r.rest()) catch |e| return self.authFailure(e);
            },
            else => {
                var buf: [120]u8 = undefined;
                const msg = std.fmt.bufPrint(&buf, "the server requested an authentication method pypgz does not support (code {d})", .{code}) catch "unsupported authentication method";
                self.markClosed(.auth, msg);
                return error.AuthFailed;
            },
        }
    }

    fn requirePassword(self: *Conn) HandleError!void {
        if (self.password.len != 0) return;
        self.markClosed(.auth, "the server requested password authentication, but no password was given");
        return error.AuthFailed;
    }

    fn startSasl(self: *Conn, mechanisms: []const u8) HandleError!void {
        try self.requirePassword();
        const mechanism = sasl.pickMechanism(mechanisms) catch |e| switch (e) {
            error.InvalidServerMessage => return error.ProtocolViolation,
            error.UnsupportedMechanism => {
                self.markClosed(.auth, "the server offered no SASL mechanism pypgz supports (SCRAM-SHA-256)");
                return error.AuthFailed;
            },
        };
        self.sasl = scram.Client.init(self.gpa, "", self.password, null) catch |e| return self.authFailure(e);
        const first = self.sasl.?.clientFirst();
        try frontend.saslInitialResponse(&self.out, self.gpa, mechanism.name(), first);
    }

    fn authFailure(self: *Conn, err: anyerror) HandleError {
        if (err == error.OutOfMemory) return error.OutOfMemory;
        var buf: [160]u8 = undefined;
        const msg = std.fmt.bufPrint(&buf, "SCRAM authentication failed: {s}", .{@errorName(err)}) catch "SCRAM authentication failed";
        self.markClosed(.auth, msg);
        return error.AuthFailed;
    }

    fn onOpMessage(self: *Conn, op: *Op, m: backend.Message) HandleError!?Event {
        switch (m.tag) {
            'D' => return try self.onDataRow(op, m.body),
            '2' => if (op.shape) |known| try self.replayShape(known), // BindComplete
            '1', '3' => {}, // ParseComplete, CloseComplete
            'T' => if (!op.discard_rows) try self.onRowDescription(m.body),
            'n' => {}, // NoData
            't' => try self.onParameterDescription(m.body),
            'C' => {
                var r = backend.Reader.init(m.body);
                const t = try r.cstr();
                self.tag.clearRetainingCapacity();
                try self.tag.appendSlice(self.gpa, t);
                if (op.learn_name.len > 0 and !op.failed) {
                    const rd: ?[]const u8 = if (self.have_rowdesc) self.rowdesc.items else null;
                    try self.shapes.learn(self.gpa, op.learn_name, op.learn_formats, rd, self.cols.items);
                }
            },
            'I' => self.tag.clearRetainingCapacity(), // EmptyQueryResponse
            's' => {}, // PortalSuspended: not used (Execute asks for all rows)
            'E' => {
                if (!op.failed) try self.err.set(self.gpa, m.body);
                op.failed = true;
            },
            'Z' => return try self.onReady(op, m.body),
            'G' => {
                if (op.copy and !op.failed) {
                    self.copying_in = true;
                    return .copy_in;
                }
                // COPY FROM STDIN through a call that carries no data: refuse it cleanly.
                try frontend.copyFail(&self.out, self.gpa, "COPY FROM STDIN is not supported by this call; use the COPY API");
            },
            'H' => {
                if (op.copy) {
                    self.copying_out = true;
                    self.result_buf.clearRetainingCapacity();
                } else self.skipping_copy = true;
            },
            'd' => {
                if (self.copying_out) {
                    try self.result_buf.appendSlice(self.gpa, m.body);
                    if (self.result_buf.items.len >= copy_chunk) {
                        self.copy_out_handed = true;
                        return .copy_out;
                    }
                } else if (!self.skipping_copy) return error.ProtocolViolation;
            },
            'c' => {
                self.skipping_copy = false;
                if (self.copying_out) {
                    self.copying_out = false;
                    if (self.result_buf.items.len > 0) {
                        self.copy_out_handed = true;
                        return .copy_out;
                    }
                }
            },
            'W' => return error.ProtocolViolation,
            else => return error.ProtocolViolation,
        }
        return null;
    }

    fn onDataRow(self: *Conn, op: *Op, body: []const u8) HandleError!?Event {
        if (op.discard_rows or op.failed) return null;
        if (!self.have_rowdesc) return error.ProtocolViolation;
        try self.builder.addDataRow(body);
        const rows = self.builder.rowCount();
        if ((op.batch_rows != 0 and rows >= op.batch_rows) or self.builder.byteSize() >= default_batch_bytes) {
            try self.assemble(false);
            self.batch_out = true;
            return .batch;
        }
        return null;
    }

    fn onReady(self: *Conn, op: *Op, body: []const u8) HandleError!?Event {
        self.txn_status = try readyStatus(body);
        const failed = op.failed;
        self.popOp();
        self.skipping_copy = false;
        self.copying_in = false;
        self.copying_out = false;
        self.op_out = true;
        if (failed) return .failed;
        try self.assemble(true);
        return .done;
    }

    fn onRowDescription(self: *Conn, body: []const u8) HandleError!void {
        var r = backend.Reader.init(body);
        const n = try r.int(u16);
        const gpa = self.gpa;
        self.cols.clearRetainingCapacity();
        const cols = try self.cols.addManyAsSlice(gpa, n);
        self.rowdesc.clearRetainingCapacity();
        try self.rowdesc.appendNTimes(gpa, 0, @as(usize, n) * result.field_size);
        var names: std.ArrayList(u8) = .empty;
        defer names.deinit(gpa);
        for (0..n) |i| {
            const name = try r.cstr();
            const f = result.Field{
                .table_oid = try r.int(u32),
                .attnum = try r.int(i16),
                .type_oid = try r.int(u32),
                .typlen = try r.int(i16),
                .typmod = try r.int(i32),
                .format = try r.int(i16),
                .name_len = std.math.cast(u16, name.len) orelse return error.ProtocolViolation,
            };
            if (f.format != 0 and f.format != 1) return error.ProtocolViolation;
            result.writeField(self.rowdesc.items[i * result.field_size ..][0..result.field_size], f);
            try names.appendSlice(gpa, name);
            try names.append(gpa, 0);
            cols[i] = .{ .oid = f.type_oid, .format = @intCast(f.format) };
        }
        try r.expectEnd();
        try self.rowdesc.appendSlice(gpa, names.items);
        try self.builder.setColumns(cols);
        self.ncols = n;
        self.have_rowdesc = true;
    }

    /// Sets up the result from a statement's stored shape, as its RowDescription would have.
    fn replayShape(self: *Conn, known: *const shapes.Shape) HandleError!void {
        if (self.have_rowdesc) return; // a later parameter set of the same operation
        const rd = known.rowdesc orelse return;
        const gpa = self.gpa;
        self.rowdesc.clearRetainingCapacity();
        try self.rowdesc.appendSlice(gpa, rd);
        self.cols.clearRetainingCapacity();
        try self.cols.appendSlice(gpa, known.cols);
        try self.builder.setColumns(known.cols);
        self.ncols = @intCast(known.cols.len);
        self.have_rowdesc = true;
    }

    fn onParameterDescription(self: *Conn, body: []const u8) HandleError!void {
        var r = backend.Reader.init(body);
        const n = try r.int(u16);
        self.paramdesc.clearRetainingCapacity();
        for (0..n) |_| try self.paramdesc.append(self.gpa, try r.int(u32));
        try r.expectEnd();
        self.have_paramdesc = true;
    }

    fn onNotification(self: *Conn, body: []const u8) HandleError!void {
        var r = backend.Reader.init(body);
        self.notify_pid = try r.int(i32);
        const channel = try r.cstr();
        const payload = try r.cstr();
        self.notify_buf.clearRetainingCapacity();
        try self.notify_buf.appendSlice(self.gpa, channel);
        try self.notify_buf.append(self.gpa, 0);
        try self.notify_buf.appendSlice(self.gpa, payload);
        try self.notify_buf.append(self.gpa, 0);
        self.notify_channel_len = channel.len;
    }

    fn onParameterStatus(self: *Conn, body: []const u8) HandleError!void {
        var r = backend.Reader.init(body);
        const key = try r.cstr();
        const value = try r.cstr();
        const gpa = self.gpa;
        const v = try gpa.dupeZ(u8, value);
        for (self.params.items) |*p| {
            if (std.mem.eql(u8, p.key, key)) {
                gpa.free(p.value);
                p.value = v;
                return;
            }
        }
        errdefer gpa.free(v);
        const k = try gpa.dupe(u8, key);
        errdefer gpa.free(k);
        try self.params.append(gpa, .{ .key = k, .value = v });
    }

    pub fn parameter(self: *const Conn, key: []const u8) ?[:0]const u8 {
        for (self.params.items) |p| {
            if (std.mem.eql(u8, p.key, key)) return p.value;
        }
        return null;
    }

    /// All server parameters as NUL-terminated key and value strings.
    pub fn parameterBlob(self: *Conn) Allocator.Error![]const u8 {
        self.params_blob.clearRetainingCapacity();
        for (self.params.items) |p| {
            try self.params_blob.appendSlice(self.gpa, p.key);
            try self.params_blob.append(self.gpa, 0);
            try self.params_blob.appendSlice(self.gpa, p.value);
            try self.params_blob.append(self.gpa, 0);
        }
        return self.params_blob.items;
    }

    /// Builds the result buffer the caller reads (see result.zig and pgz.h).
    fn assemble(self: *Conn, final: bool) Allocator.Error!void {
        try result.assemble(self.gpa, &self.result_buf, .{
            .final = final,
            .rowdesc = if (self.have_rowdesc) self.rowdesc.items else null,
            .ncols = self.ncols,
            .params = if (self.have_paramdesc) self.paramdesc.items else null,
            .tag = self.tag.items,
            .builder = if (self.have_rowdesc) &self.builder else null,
        });
    }
};

fn readyStatus(body: []const u8) backend.Error!u8 {
    if (body.len != 1) return error.ProtocolViolation;
    return switch (body[0]) {
        'I', 'T', 'E' => body[0],
        else => error.ProtocolViolation,
    };
}

fn protocolReason(tag: u8) []const u8 {
    return switch (tag) {
        'D' => "protocol violation: malformed DataRow",
        'T' => "protocol violation: malformed RowDescription",
        'E', 'N' => "protocol violation: malformed error or notice",
        'R' => "protocol violation: malformed authentication request",
        else => "protocol violation: unexpected or malformed message",
    };
}

/// Looks up a key in a sequence of NUL-terminated key and value strings.
fn findParam(blob: []const u8, key: []const u8) ?[]const u8 {
    var it = std.mem.splitScalar(u8, blob, 0);
    while (it.next()) |k| {
        const v = it.next() orelse return null;
        if (std.mem.eql(u8, k, key)) return v;
    }
    return null;
}

test "findParam" {
    try std.testing.expectEqualSlices(u8, "bob", findParam("user\x00bob\x00database\x00db\x00", "user").?);
    try std.testing.expect(findParam("user\x00bob\x00", "database") == null);
}

/// A server played by the test: backend messages written to the other end of a socket pair.
const FakeServer = struct {
    fd: posix.fd_t,

    fn send(self: FakeServer, tag: u8, body: []const u8) !void {
        var head: [5]u8 = undefined;
        head[0] = tag;
        std.mem.writeInt(u32, head[1..5], @intCast(body.len + 4), .big);
        _ = try posix.write(self.fd, &head);
        _ = try posix.write(self.fd, body);
    }

    /// A RowDescription of one int4 column named "n", in `format`.
    fn rowDescription(self: FakeServer, format: u8) !void {
        try self.send('T', "\x00\x01n\x00" ++ "\x00\x00\x00\x00" ++ "\x00\x00" ++ "\x00\x00\x00\x17" ++ "\x00\x04" ++ "\xff\xff\xff\xff" ++ "\x00" ++ [1]u8{format});
    }

    /// One binary int4 row, its CommandComplete and ReadyForQuery.
    fn rowAndReady(self: FakeServer) !void {
        try self.send('D', "\x00\x01\x00\x00\x00\x04\x00\x00\x00\x07");
        try self.send('C', "SELECT 1\x00");
        try self.send('Z', "I");
    }
};

/// Steps until the connection has something for its caller (the data is already sent).
fn nextEvent(c: *Conn) Event {
    for (0..4) |_| {
        const ev = c.step();
        if (ev != .want_read) return ev;
    }
    return .want_read;
}

/// How many Describe messages the connection has queued since `mark`.
fn describesQueued(c: *const Conn, mark: usize) usize {
    var n: usize = 0;
    var rest = c.out.items[mark..];
    while (rest.len >= 5) {
        if (rest[0] == 'D') n += 1;
        rest = rest[1 + std.mem.readInt(u32, rest[1..5], .big) ..];
    }
    return n;
}

fn resultHeader(c: *const Conn) result.Header {
    return std.mem.bytesToValue(result.Header, c.result_buf.items[0..@sizeOf(result.Header)]);
}

test "a statement's later runs send no Describe and replay its row description" {
    const testing = std.testing;
    const linux = std.os.linux;
    var fds: [2]i32 = undefined;
    try testing.expectEqual(@as(usize, 0), linux.socketpair(linux.AF.UNIX, linux.SOCK.STREAM | linux.SOCK.NONBLOCK | linux.SOCK.CLOEXEC, 0, &fds));
    defer posix.close(fds[1]);
    const server: FakeServer = .{ .fd = fds[1] };
    const c = try Conn.init(testing.allocator, fds[0], "user\x00u\x00", "");
    defer c.deinit();

    try server.send('R', "\x00\x00\x00\x00");
    try server.send('Z', "I");
    try testing.expectEqual(Event.ready, nextEvent(c));

    // First run: Parse, Describe(statement), Bind, Describe(portal), Execute, Sync.
    const binary = [_]i16{1};
    var mark = c.out.items.len;
    try c.exec(exec_parse | exec_describe_statement | exec_execute, "s1", "SELECT 7", &.{}, "", 0, 1, &binary, 0);
    try testing.expectEqual(@as(usize, 2), describesQueued(c, mark));
    try server.send('1', "");
    try server.send('t', "\x00\x00");
    try server.rowDescription(0);
    try server.send('2', "");
    try server.rowDescription(1);
    try server.rowAndReady();
    try testing.expectEqual(Event.done, nextEvent(c));
    try testing.expectEqual(@as(u32, 1), resultHeader(c).nrows);

    // Second run, same formats: no Describe, and the result still carries the description.
    mark = c.out.items.len;
    try c.exec(exec_execute, "s1", "", &.{}, "", 0, 1, &binary, 0);
    try testing.expectEqual(@as(usize, 0), describesQueued(c, mark));
    try server.send('2', "");
    try server.rowAndReady();
    try testing.expectEqual(Event.done, nextEvent(c));
    const h = resultHeader(c);
    try testing.expect(h.flags & result.flag_rowdesc != 0);
    try testing.expectEqual(@as(u32, 1), h.nrows);
    try testing.expectEqual(@as(u32, 1), h.ncols);

    // Other result formats, or a Close of the statement, ask the server again.
    mark = c.out.items.len;
    try c.exec(exec_execute, "s1", "", &.{}, "", 0, 1, &[_]i16{0}, 0);
    try testing.expectEqual(@as(usize, 1), describesQueued(c, mark));
    try c.closeStatement("s1");
    mark = c.out.items.len;
    try c.exec(exec_execute, "s1", "", &.{}, "", 0, 1, &binary, 0);
    try testing.expectEqual(@as(usize, 1), describesQueued(c, mark));
}
