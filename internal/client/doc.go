// Package client owns every HTTP client concern of miscim: the SCIM 2.0
// calls (typed, and raw for replay and diagnostics), the miscim admin API
// for system variables, retries, timeouts, TLS, request tracing with the
// token redacted, and the mapping of failures to errors the CLI turns into
// exit codes (DESIGN §1.2): *scim.Error for HTTP errors, ErrUnavailable for
// transport failures and 5xx after retries, context.Canceled untouched.
//
// It is the only package that imports resty (DESIGN §2). The same client
// talks to a remote endpoint over the network or, through HandlerTransport,
// to the embedded server handler in-process, so both modes share one code
// path.
package client
