//! The byte stream under the protocol. The connection state machine reads and writes only
//! through `Transport`, never the socket, so TLS slots in here as another variant without
//! touching the protocol code, for the blocking and the event-loop-driven connection alike.
//! All I/O is non-blocking: the caller waits for readiness (poll(2) or the event loop).
const std = @import("std");
const posix = std.posix;

pub const Io = union(enum) {
    /// Bytes moved.
    done: usize,
    /// The socket would block; wait until it is readable (`want_read`) or writable.
    want_read,
    want_write,
    /// The peer closed the stream.
    eof,
    /// An I/O error; the connection is unusable.
    failed: anyerror,
};

pub const Plain = struct {
    fd: posix.fd_t,

    fn read(self: *Plain, buf: []u8) Io {
        const n = posix.recv(self.fd, buf, 0) catch |err| return switch (err) {
            error.WouldBlock => .want_read,
            else => .{ .failed = err },
        };
        return if (n == 0) .eof else .{ .done = n };
    }

    fn write(self: *Plain, data: []const u8) Io {
        const n = posix.send(self.fd, data, posix.MSG.NOSIGNAL) catch |err| return switch (err) {
            error.WouldBlock => .want_write,
            else => .{ .failed = err },
        };
        return .{ .done = n };
    }
};

pub const Transport = union(enum) {
    plain: Plain,

    pub fn initPlain(socket: posix.fd_t) Transport {
        return .{ .plain = .{ .fd = socket } };
    }

    pub fn fd(self: *const Transport) posix.fd_t {
        return switch (self.*) {
            .plain => |p| p.fd,
        };
    }

    pub fn read(self: *Transport, buf: []u8) Io {
        return switch (self.*) {
            .plain => |*p| p.read(buf),
        };
    }

    pub fn write(self: *Transport, data: []const u8) Io {
        return switch (self.*) {
            .plain => |*p| p.write(data),
        };
    }

    pub fn close(self: *Transport) void {
        switch (self.*) {
            .plain => |p| posix.close(p.fd),
        }
    }
};
