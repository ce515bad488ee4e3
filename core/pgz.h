/*
 * libpgz — the PostgreSQL protocol core of pypgz.
 *
 * This header is the one description of the seam between the core and its callers.
 * Everything crosses it as opaque handles, integers, pointers with lengths and the
 * plain structs below; no Python object and no protocol message crosses it.
 *
 * Threading: a pgz_conn is not thread-safe; callers serialise calls on one connection.
 * Different connections are independent.
 *
 * Lifetimes: pointers returned by accessor functions stay valid until the next call of
 * pgz_step, pgz_wait, pgz_exec, pgz_close or pgz_free on the same connection.
 */
#ifndef PGZ_H
#define PGZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct pgz_conn pgz_conn;

/* ---- events: what pgz_step / pgz_wait return --------------------------------------- */

#define PGZ_WANT_READ        1   /* waiting for the socket to become readable */
#define PGZ_WANT_WRITE       2   /* waiting for the socket to become writable */
#define PGZ_WANT_READ_WRITE  3   /* both: output is blocked and input is awaited */
#define PGZ_EV_READY         4   /* start-up and authentication finished */
#define PGZ_EV_BATCH         5   /* a batch of rows of the current operation: pgz_result */
#define PGZ_EV_DONE          6   /* the current operation finished: pgz_result (final batch, tag) */
#define PGZ_EV_FAILED        7   /* the current operation failed: pgz_error; the connection is usable
                                    unless pgz_close_reason says otherwise (start-up errors close it) */
#define PGZ_EV_NOTICE        8   /* a NoticeResponse: pgz_notice */
#define PGZ_EV_NOTIFY        9   /* a NotificationResponse: pgz_notification */
#define PGZ_EV_CLOSED       10   /* the connection is closed: pgz_close_reason */
#define PGZ_EV_TIMEOUT      11   /* pgz_wait: the timeout passed first */
#define PGZ_EV_INTERRUPTED  12   /* pgz_wait: a signal arrived; call again after handling it */
#define PGZ_EV_COPY_IN      13   /* the server waits for COPY data: pgz_copy_data, then pgz_copy_end */
#define PGZ_EV_COPY_OUT     14   /* a chunk of COPY TO STDOUT data (about 1 MB): pgz_result */

/* ---- error codes of functions returning int ----------------------------------------- */

#define PGZ_ERR_CLOSED      (-1) /* the connection is closed */
#define PGZ_ERR_BAD_PARAMS  (-2) /* the parameter block does not match nparams/nsets */
#define PGZ_ERR_NO_MEMORY   (-3)

/* ---- why a connection closed (pgz_close_reason) ------------------------------------- */

#define PGZ_OPEN            0
#define PGZ_CLOSED_BY_USER  1
#define PGZ_CLOSED_LOST     2    /* EOF, reset or I/O error; a FATAL error may be in pgz_error */
#define PGZ_CLOSED_PROTOCOL 3    /* the server violated the protocol */
#define PGZ_CLOSED_AUTH     4    /* authentication could not proceed on the client side */
#define PGZ_CLOSED_NO_MEMORY 5

/* ---- connection ---------------------------------------------------------------------- */

/* Returns the ABI version (1). */
int pgz_version(void);

/*
 * Takes ownership of a connected, non-blocking stream socket `fd` and queues the start-up
 * packet. `params` holds NUL-terminated key and value strings ("user\0bob\0database\0db\0");
 * `password` (may be empty) is used if the server asks for one, then wiped. Drive the
 * connection with pgz_step/pgz_wait until PGZ_EV_READY. Returns NULL when out of memory
 * (the socket is then still the caller's).
 */
pgz_conn *pgz_connect(int fd, const uint8_t *params, size_t params_len,
                      const uint8_t *password, size_t password_len);

/* Sends Terminate (best effort) and closes the socket. The handle stays valid. */
void pgz_close(pgz_conn *c);

/* Closes the socket if still open and frees the handle. */
void pgz_free(pgz_conn *c);

/* Does all that can be done without blocking; returns a PGZ_WANT_* or PGZ_EV_* code,
 * with PGZ_MORE_INPUT or-ed in when received bytes remain to be processed (so an event
 * loop knows whether to step again before the socket next becomes readable). */
#define PGZ_MORE_INPUT 0x100
int pgz_step(pgz_conn *c);

/*
 * Like pgz_step, but blocks in poll(2) until an event, at most `timeout_ms` milliseconds
 * (negative: no limit). Returns PGZ_EV_TIMEOUT or PGZ_EV_INTERRUPTED as said above.
 */
int pgz_wait(pgz_conn *c, int timeout_ms);

/* ---- operations ---------------------------------------------------------------------- */

#define PGZ_EXEC_PARSE            1  /* send Parse(statement, sql, oids) */
#define PGZ_EXEC_DESCRIBE_STMT    2  /* send Describe(statement): parameter types in the result */
#define PGZ_EXEC_EXECUTE          4  /* send Bind/Execute for each parameter set, and a
                                      * Describe(portal) for the first unless the named
                                      * statement's row description is known from an
                                      * earlier run with the same result formats (it is
                                      * then replayed into the result as if sent) */
#define PGZ_EXEC_DISCARD_ROWS     8  /* do not collect rows (executemany) */
#define PGZ_EXEC_SIMPLE          16  /* send `sql` as a simple Query; rows are discarded */
#define PGZ_EXEC_OPEN            32  /* leave the operation open: no Sync yet, more sets follow */
#define PGZ_EXEC_MORE            64  /* add parameter sets to the open operation (no new
                                        operation); it ends with Sync unless PGZ_EXEC_OPEN */
#define PGZ_EXEC_ABORT          128  /* with PGZ_EXEC_MORE: end the open operation so that the
                                        server rolls back its sets (it then fails with 34000) */
#define PGZ_EXEC_COPY           256  /* with PGZ_EXEC_SIMPLE: the query is a COPY whose data the
                                        caller sends or receives (PGZ_EV_COPY_IN/OUT) */

/*
 * Queues one operation, ending with Sync, behind those already in flight (pipelining);
 * its events arrive in order. `params` is a parameter block: for each parameter an int16
 * format (0 text, 1 binary), an int32 length (-1 for NULL) and that many bytes, big-endian
 * as on the wire; `nsets` sets of `nparams` parameters follow each other (one Bind and
 * Execute per set). `result_formats` are the Bind result format codes (none = text,
 * one = all columns, else one per column). `batch_rows` (0 = no limit) makes the result
 * arrive as PGZ_EV_BATCH events of at most that many rows. A long executemany can be sent
 * in slices (PGZ_EXEC_OPEN, then PGZ_EXEC_MORE calls), so the server works on the first
 * while the caller encodes the next; it is still one operation, one Sync, all or nothing.
 * Returns 0 or PGZ_ERR_*.
 */
int pgz_exec(pgz_conn *c, uint32_t flags,
             const uint8_t *statement, size_t statement_len,
             const uint8_t *sql, size_t sql_len,
             const uint32_t *oids, uint32_t n_oids,
             const uint8_t *params, size_t params_len, uint32_t nparams, uint32_t nsets,
             const int16_t *result_formats, uint32_t n_result_formats,
             uint32_t batch_rows);

/*
 * The blocking fast path for a prepared (described) statement: pgz_exec with
 * PGZ_EXEC_EXECUTE and one parameter set, then pgz_wait, in one call. Returns pgz_wait's
 * event (or PGZ_ERR_*); after PGZ_EV_BATCH/PGZ_EV_DONE *ptr/*len are the result buffer.
 */
int pgz_run(pgz_conn *c, const uint8_t *statement, size_t statement_len,
            const uint8_t *params, size_t params_len, uint32_t nparams,
            const int16_t *result_formats, uint32_t n_result_formats,
            int timeout_ms, const uint8_t **ptr, size_t *len);

/*
 * The event-loop fast path for a prepared (described) statement: pgz_exec with
 * PGZ_EXEC_EXECUTE and one parameter set, then one pgz_step (which sends it). Returns
 * pgz_step's result (or PGZ_ERR_*).
 */
int pgz_execute(pgz_conn *c, const uint8_t *statement, size_t statement_len,
                const uint8_t *params, size_t params_len, uint32_t nparams,
                const int16_t *result_formats, uint32_t n_result_formats, uint32_t batch_rows);

/* Queues a Close of prepared statement `name`; it travels with the next operation. */
int pgz_close_statement(pgz_conn *c, const uint8_t *name, size_t name_len);

/* ---- COPY ------------------------------------------------------------------------------ */

/* After PGZ_EV_COPY_IN: queues `len` bytes of COPY data (any split; the core frames it into
 * CopyData messages). Returns 0 or PGZ_ERR_*. */
int pgz_copy_data(pgz_conn *c, const uint8_t *data, size_t len);

/* Ends COPY FROM STDIN: CopyDone when `reason` is NULL, else CopyFail with that reason (the
 * server then fails the COPY). Keep stepping for PGZ_EV_DONE / PGZ_EV_FAILED. */
int pgz_copy_end(pgz_conn *c, const uint8_t *reason, size_t reason_len);

/* Bytes queued and not yet written to the socket. */
size_t pgz_pending_output(pgz_conn *c);

/* Blocks until the queued output is written, at most `timeout_ms` (negative: no limit).
 * Returns PGZ_WANT_READ when done, or PGZ_EV_TIMEOUT / PGZ_EV_INTERRUPTED / PGZ_EV_CLOSED.
 * For COPY FROM STDIN, where the server sends nothing until the data ends. */
int pgz_wait_writable(pgz_conn *c, int timeout_ms);

/* Writes the 16-byte CancelRequest packet for this connection into buf; returns its length
 * (0 if cap is too small). The caller sends it on a new connection to the same server. */
size_t pgz_cancel_packet(pgz_conn *c, uint8_t *buf, size_t cap);

/* ---- results ------------------------------------------------------------------------- */

/*
 * After PGZ_EV_COPY_OUT the result buffer holds raw COPY data and nothing else.
 * After PGZ_EV_BATCH or PGZ_EV_DONE: the result buffer. Layout, all little-endian:
 *   pgz_result_header
 *   row description (if PGZ_RES_ROWDESC): ncols pgz_field records, then ncols column names,
 *       each NUL-terminated
 *   parameter types (if PGZ_RES_PARAMS): nparams uint32 oids, at params_off
 *   command tag: tag_len bytes at tag_off (final batch only; empty for an empty query)
 *   column section at columns_off: see core/batch/LAYOUT.md (pgz_column entries and data)
 */
#define PGZ_RES_DONE     1   /* the operation's final batch */
#define PGZ_RES_ROWDESC  2   /* the result has rows (a row description applies) */
#define PGZ_RES_PARAMS   4   /* parameter types of the statement are included */

typedef struct pgz_result_header {
    uint32_t version;        /* 1 */
    uint32_t flags;          /* PGZ_RES_* */
    uint32_t nrows;          /* rows in this batch */
    uint32_t ncols;          /* columns of the row description */
    uint32_t nentries;       /* pgz_column entries in the column section */
    uint32_t nparams;        /* parameter type oids */
    uint32_t rowdesc_off, rowdesc_len;
    uint32_t params_off;
    uint32_t tag_off, tag_len;
    uint32_t columns_off;    /* 8-aligned */
} pgz_result_header;         /* 48 bytes */

typedef struct pgz_field {
    uint32_t type_oid;
    int32_t  typmod;
    uint32_t table_oid;      /* 0 if not a table column */
    int16_t  attnum;
    int16_t  format;         /* 0 text, 1 binary */
    int16_t  typlen;
    uint16_t name_len;       /* bytes of the name, which follows all records */
} pgz_field;                 /* 20 bytes, packed */

/* The column section's entry; see core/batch/LAYOUT.md for each kind's payload. */
#define PGZ_KIND_I64       1
#define PGZ_KIND_F64       2
#define PGZ_KIND_BOOL      3
#define PGZ_KIND_TEXT      4
#define PGZ_KIND_BYTES     5
#define PGZ_KIND_UUID      6
#define PGZ_KIND_INTERVAL  7
#define PGZ_KIND_ARRAY     8
#define PGZ_KIND_RAW       9
#define PGZ_KIND_DATETIME 10
#define PGZ_KIND_DATE     11
#define PGZ_COL_HAS_NULLS  1

typedef struct pgz_column {
    uint8_t  kind;
    uint8_t  flags;
    uint16_t reserved;
    uint32_t oid;
    uint32_t count;
    uint32_t nnulls;
    uint64_t data_off, data_len;
    uint64_t aux_off, aux_len;
    uint64_t nulls_off;
    uint32_t child;
    uint32_t pad;
} pgz_column;                /* 64 bytes */

/* 1 if libpgz decodes values of this type in binary format, else 0 (request such
 * columns in text format to receive their text form). */
int pgz_binary_supported(uint32_t type_oid);

/* Points *ptr/*len at the result buffer of the last PGZ_EV_BATCH/PGZ_EV_DONE. */
void pgz_result(pgz_conn *c, const uint8_t **ptr, size_t *len);

/*
 * An ErrorResponse or NoticeResponse: one NUL-terminated string per field, NULL when the
 * server did not send it. Members are in the order of the protocol's field codes
 * S V C M D H P p q W s t c d n F L R.
 */
typedef struct pgz_error {
    const char *severity;              /* S */
    const char *severity_nonlocalized; /* V */
    const char *sqlstate;              /* C */
    const char *message;               /* M */
    const char *detail;                /* D */
    const char *hint;                  /* H */
    const char *position;              /* P */
    const char *internal_position;     /* p */
    const char *internal_query;        /* q */
    const char *where;                 /* W */
    const char *schema_name;           /* s */
    const char *table_name;            /* t */
    const char *column_name;           /* c */
    const char *data_type_name;        /* d */
    const char *constraint_name;       /* n */
    const char *file;                  /* F */
    const char *line;                  /* L */
    const char *routine;               /* R */
} pgz_error;

/* The error of the last PGZ_EV_FAILED (or the FATAL error before a loss). */
const pgz_error *pgz_error(pgz_conn *c);

/* The notice of the last PGZ_EV_NOTICE. */
const pgz_error *pgz_notice(pgz_conn *c);

/* The notification of the last PGZ_EV_NOTIFY. */
void pgz_notification(pgz_conn *c, int32_t *pid, const char **channel, const char **payload);

/* ---- connection state ---------------------------------------------------------------- */

/* PGZ_OPEN or PGZ_CLOSED_*; *message is a NUL-terminated reason (or NULL while open). */
int pgz_close_reason(pgz_conn *c, const char **message);

/* The socket, for registering with an event loop. */
int pgz_fd(pgz_conn *c);

/* Process id of the backend (from BackendKeyData). */
int32_t pgz_backend_pid(pgz_conn *c);

/* 'I' idle, 'T' in a transaction, 'E' in a failed transaction, 0 before start-up or closed. */
int pgz_transaction_status(pgz_conn *c);

/* Operations in flight (queued and not yet finished). */
int pgz_pending(pgz_conn *c);

/* The value of server parameter `name` (ParameterStatus), NUL-terminated, or NULL. */
const char *pgz_parameter(pgz_conn *c, const char *name);

/* All server parameters as NUL-terminated key and value strings. Returns 0 or PGZ_ERR_*. */
int pgz_parameters(pgz_conn *c, const uint8_t **ptr, size_t *len);

#endif /* PGZ_H */
