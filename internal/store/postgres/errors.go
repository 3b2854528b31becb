package postgres

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// kind is what a failed attempt calls for.
type kind int

const (
	// other: not the store's to handle (a rule the engine enforces, a
	// constraint, a bug): returned as it is.
	other kind = iota
	// conflict: PostgreSQL rolled the transaction back to resolve a
	// conflict with another (serialization failure, deadlock): run it
	// again.
	conflict
	// lostBeforeCommit: the connection failed, or the server went away,
	// before COMMIT was sent: nothing was committed, it may run again.
	lostBeforeCommit
	// lostInCommit: the connection failed during COMMIT: the outcome is
	// unknown, so the caller is not told it succeeded.
	lostInCommit
)

// SQLSTATE codes (PostgreSQL documentation, appendix A).
const (
	codeSerializationFailure = "40001"
	codeDeadlock             = "40P01"
	codeUniqueViolation      = "23505"
)

func classify(err error) kind {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == codeSerializationFailure, pe.Code == codeDeadlock:
			return conflict
		case serverGone(pe.Code):
			if _, inCommit := errors.AsType[*errCommit](err); inCommit {
				return lostInCommit
			}
			return lostBeforeCommit
		}
		return other
	}
	if !connectionFailure(err) {
		return other
	}
	if _, inCommit := errors.AsType[*errCommit](err); inCommit {
		return lostInCommit
	}
	return lostBeforeCommit
}

// serverGone reports the SQLSTATEs of a server that cannot serve now:
// connection exceptions (class 08), shutdown and start-up (57P01–57P03),
// too many connections and insufficient resources (class 53).
func serverGone(code string) bool {
	return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03" || strings.HasPrefix(code, "53")
}

// connectionFailure reports an error of the connection rather than of a
// statement: a failed connect, a timeout, a reset or closed socket.
func connectionFailure(err error) bool {
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if pgconn.Timeout(err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	// pgx reports a connection it closed after a failure this way.
	return strings.Contains(err.Error(), "conn closed")
}

// describeOutage says in a few words why the database cannot be used,
// without SQL or credentials.
func describeOutage(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "57P01":
			return "the database server is shutting down"
		case pe.Code == "57P02":
			return "the database server crashed and is restarting"
		case pe.Code == "57P03":
			return "the database server is starting up"
		case pe.Code == "53300":
			return "the database server has no connection slot free"
		case strings.HasPrefix(pe.Code, "53"):
			return "the database server is out of resources (" + pe.Message + ")"
		}
		return "the connection failed (" + pe.Message + ")"
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case pgconn.Timeout(err):
		return "the database did not answer in time"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection was cut"
	case errors.Is(err, syscall.ENOENT):
		return "no server is listening on the socket"
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return "cannot connect"
	}
	return "the connection failed"
}
