#ifndef CLIBPQ_SHIM_H
#define CLIBPQ_SHIM_H
#include <libpq-fe.h>
#include <postgres_ext.h>

// Macro-based and enum-comparing libpq APIs, wrapped so Swift never depends on how the
// header spells them (PG_DIAG_* are character macros; status enums differ across versions).

/// SQLSTATE of an error result, or NULL.
static inline const char *clibpq_result_sqlstate(const PGresult *res) {
    return PQresultErrorField(res, PG_DIAG_SQLSTATE);
}

/// Primary human-readable message of an error result, or NULL.
static inline const char *clibpq_result_primary_message(const PGresult *res) {
    return PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
}

/// Optional DETAIL of an error result, or NULL.
static inline const char *clibpq_result_detail(const PGresult *res) {
    return PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
}

/// 1 when the connection is usable (CONNECTION_OK).
static inline int clibpq_connection_ok(const PGconn *conn) {
    return conn != NULL && PQstatus(conn) == CONNECTION_OK;
}

/// 1 when the connection is idle outside a transaction block.
static inline int clibpq_transaction_idle(const PGconn *conn) {
    return PQtransactionStatus(conn) == PQTRANS_IDLE;
}

/// 1 when the connection is inside a failed transaction block.
static inline int clibpq_transaction_failed(const PGconn *conn) {
    return PQtransactionStatus(conn) == PQTRANS_INERROR;
}

/// Result status as a small int: 0 command ok, 1 tuples ok, 2 copy in, 3 error, 4 other.
static inline int clibpq_result_kind(const PGresult *res) {
    switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK: return 0;
    case PGRES_TUPLES_OK: return 1;
    case PGRES_COPY_IN: return 2;
    case PGRES_FATAL_ERROR:
    case PGRES_BAD_RESPONSE:
    case PGRES_NONFATAL_ERROR: return 3;
    default: return 4;
    }
}

/// Text-format PQexecParams: every parameter is text (or NULL), results are text.
static inline PGresult *clibpq_exec_text_params(PGconn *conn, const char *sql, int count, const char *const *values) {
    return PQexecParams(conn, sql, count, NULL, values, NULL, NULL, 0);
}

/// A notice processor that drops everything (libpq ignores a NULL processor, so "none" needs a function).
static inline void clibpq_ignore_notice(void *arg, const char *message) {
    (void)arg;
    (void)message;
}

/// Detaches any notice processor (and its context pointer) from the connection.
static inline void clibpq_silence_notices(PGconn *conn) {
    PQsetNoticeProcessor(conn, clibpq_ignore_notice, NULL);
}

#endif
