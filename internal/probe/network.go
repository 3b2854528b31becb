package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// checkURL judges the Tenant URL itself. Entra accepts only https (SCIM-TUT
// "Security requirements", entra-behavior §1); MI serves SCIM at
// https://<MI host>/scim/v2; ?aadOptscim062020 switches Entra to the
// RFC-compliant PATCH dialect (entra-behavior §2.5). Nothing here can stop
// the connection, so the check warns but never fails.
func (r *runner) checkURL(context.Context) Result {
	if r.cfg.Embedded {
		return skip(embeddedNoNetwork)
	}
	if r.u == nil {
		return Result{Status: Fail, Detail: "no base URL"}
	}
	res := Result{Status: Pass}
	var notes, hints []string
	switch {
	case strings.EqualFold(r.u.Scheme, "https"):
		notes = append(notes, "https")
	case isLoopback(r.host):
		notes = append(notes, "http on loopback: fine for a local test; Entra requires https")
	default:
		res.Status = Warn
		notes = append(notes, "http: Entra accepts only https Tenant URLs")
		hints = append(hints, "serve SCIM over https with TLS 1.2 or later and a publicly trusted certificate")
	}
	if strings.HasSuffix(strings.ToLower(r.u.Path), "/scim/v2") {
		notes = append(notes, "path ends in /scim/v2")
	} else {
		res.Status = Warn
		p := r.u.Path
		if p == "" {
			p = "/"
		}
		notes = append(notes, fmt.Sprintf("path %s does not end in /scim/v2", p))
		hints = append(hints, "MI's Tenant URL is https://<MI host>/scim/v2")
	}
	if r.cfg.Client.FlagNoticed() {
		notes = append(notes, "aadOptscim062020 flag in the URL: Entra will use the RFC-compliant PATCH dialect")
	}
	res.Detail = strings.Join(notes, "; ")
	res.Hint = strings.Join(hints, "; ")
	return res
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkDNS resolves the host. Entra reports a name it cannot resolve as
// CredentialValidationUnavailable (entra-behavior §1), and the name must
// resolve from Microsoft's network, not only from here.
func (r *runner) checkDNS(ctx context.Context) Result {
	if r.cfg.Embedded {
		return skip(embeddedNoNetwork)
	}
	if ip := net.ParseIP(r.host); ip != nil {
		r.addrs = []string{r.host}
		return Result{Status: Pass, Detail: "IP address"}
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	lookup := r.cfg.LookupHost
	if lookup == nil {
		lookup = net.DefaultResolver.LookupHost
	}
	addrs, err := lookup(ctx, r.host)
	if err != nil || len(addrs) == 0 {
		r.blocked = "DNS failed"
		detail := fmt.Sprintf("cannot resolve %s", r.host)
		var de *net.DNSError
		if errors.As(err, &de) {
			detail = de.Error()
		} else if err != nil {
			detail += ": " + err.Error()
		}
		return Result{Status: Fail, Detail: detail, Hint: "check the host name in --url; Entra must resolve it too (a public DNS name)"}
	}
	r.addrs = addrs
	shown := addrs
	if len(shown) > 3 {
		shown = append(shown[:3:3], "…")
	}
	return Result{Status: Pass, Detail: fmt.Sprintf("%s → %s", r.host, strings.Join(shown, ", "))}
}

func (r *runner) dial(ctx context.Context, addr string) (net.Conn, error) {
	if r.cfg.Dial != nil {
		return r.cfg.Dial(ctx, "tcp", addr)
	}
	d := net.Dialer{Timeout: r.timeout}
	return d.DialContext(ctx, "tcp", addr)
}

// checkTCP opens a connection to the first resolved address.
func (r *runner) checkTCP(ctx context.Context) Result {
	if r.cfg.Embedded {
		return skip(embeddedNoNetwork)
	}
	if r.blocked != "" {
		return skip("not run: " + r.blocked)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	addr := net.JoinHostPort(r.addrs[0], r.port)
	conn, err := r.dial(ctx, addr)
	if err != nil {
		r.blocked = "TCP connect failed"
		hint := "is the server running, and does the firewall let the port through? Entra connects from the AzureActiveDirectory service-tag IP ranges"
		return Result{Status: Fail, Detail: fmt.Sprintf("connect to %s: %s", addr, dialCause(err, r.timeout)), Hint: hint}
	}
	conn.Close()
	r.dialTo = addr
	return Result{Status: Pass, Detail: "connected to " + addr}
}

func dialCause(err error, timeout time.Duration) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no answer within %s (timeout)", timeout)
	}
	return err.Error()
}

// expiryWarnDays is when an approaching certificate expiry becomes a
// warning: Entra quarantines a job whose endpoint stops answering, so the
// renewal must happen before, not after.
const expiryWarnDays = 30

// checkTLS does a handshake and judges what Entra will judge: TLS 1.2 or
// later, a chain to a public root, the host name, and expiry (SCIM-TUT
// "Security requirements", entra-behavior §1). The handshake itself skips
// verification so that the version and the certificate can be reported
// even when verification fails; verification is then done here.
func (r *runner) checkTLS(ctx context.Context) Result {
	if r.cfg.Embedded {
		return skip(embeddedNoNetwork)
	}
	if r.blocked != "" {
		return skip("not run: " + r.blocked)
	}
	if !strings.EqualFold(r.u.Scheme, "https") {
		return skip("http: no TLS")
	}
	fail := func(res Result) Result {
		if !r.cfg.Insecure {
			r.blocked = "TLS failed" // the client fails the same way
		}
		return res
	}

	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	raw, err := r.dial(ctx, r.dialTo)
	if err != nil {
		r.blocked = "TLS connect failed"
		return Result{Status: Fail, Detail: fmt.Sprintf("connect to %s: %s", r.dialTo, dialCause(err, r.timeout))}
	}
	defer raw.Close()
	conf := &tls.Config{
		ServerName:         r.host,
		InsecureSkipVerify: true, //nolint:gosec // verified below, so that failures can be described
		MinVersion:         tls.VersionTLS10,
	}
	conn := tls.Client(raw, conf)
	if err := conn.HandshakeContext(ctx); err != nil {
		var rh tls.RecordHeaderError
		if errors.As(err, &rh) {
			return fail(Result{Status: Fail, Detail: "TLS handshake failed: the server does not speak TLS", Hint: "is the port serving http rather than https?"})
		}
		return fail(Result{Status: Fail, Detail: "TLS handshake failed: " + err.Error()})
	}
	st := conn.ConnectionState()
	version := tls.VersionName(st.Version)
	if len(st.PeerCertificates) == 0 {
		return fail(Result{Status: Fail, Detail: version + ": the server sent no certificate"})
	}
	leaf := st.PeerCertificates[0]
	now := r.now()
	days := int(leaf.NotAfter.Sub(now).Hours() / 24)

	if st.Version < tls.VersionTLS12 {
		return fail(Result{Status: Fail, Detail: version + ": Entra requires TLS 1.2 or later", Hint: "enable TLS 1.2 or 1.3 on the server"})
	}
	if now.After(leaf.NotAfter) {
		return fail(Result{
			Status: Fail,
			Detail: fmt.Sprintf("%s; certificate expired on %s (%d days ago)", version, leaf.NotAfter.UTC().Format(time.DateOnly), -days),
			Hint:   "renew the certificate: Entra refuses an expired one and quarantines the provisioning job",
		})
	}
	if now.Before(leaf.NotBefore) {
		return fail(Result{
			Status: Fail,
			Detail: fmt.Sprintf("%s; certificate not valid before %s", version, leaf.NotBefore.UTC().Format(time.RFC3339)),
			Hint:   "check the server's clock and the certificate's dates",
		})
	}

	inter := x509.NewCertPool()
	for _, c := range st.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	verify := func(roots *x509.CertPool) error {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: r.host, Roots: roots, Intermediates: inter, CurrentTime: now})
		return err
	}
	trust := "chain verified"
	status := Pass
	var hint string
	verr := verify(r.cfg.SystemRoots)
	if verr != nil && r.cfg.CAFile != "" {
		pool, perr := r.withCAFile()
		if perr != nil {
			return Result{Status: Fail, Detail: perr.Error(), Hint: "--ca-file must name a PEM file of CA certificates"}
		}
		if verify(pool) == nil {
			verr = nil
			trust = "chain verified with --ca-file only"
			status = Warn
			hint = "Entra trusts only certificates that chain to public roots (entra-behavior §1): a private CA works here, not for Entra"
		}
	}
	expiry := fmt.Sprintf("expires in %d days", days)
	if verr != nil {
		var he x509.HostnameError
		why := verr.Error()
		if errors.As(verr, &he) {
			why = fmt.Sprintf("certificate is not valid for %s: %s", r.host, verr.Error())
		}
		if r.cfg.Insecure {
			return Result{
				Status: Warn,
				Detail: fmt.Sprintf("%s; verification skipped (--insecure): %s; %s", version, why, expiry),
				Hint:   "Entra verifies the certificate: it must chain to a public root and name the host",
			}
		}
		return fail(Result{
			Status: Fail,
			Detail: fmt.Sprintf("%s; %s", version, why),
			Hint:   "Entra accepts only certificates that chain to public roots and name the host; --ca-file trusts a private CA here, --insecure skips verification",
		})
	}
	if r.cfg.Insecure {
		status = Warn
		trust = "verification skipped (--insecure), though the chain verifies"
		hint = "drop --insecure: the certificate verifies"
	}
	if days < expiryWarnDays {
		if status == Pass {
			status = Warn
		}
		if hint != "" {
			hint += "; "
		}
		hint += fmt.Sprintf("renew the certificate within %d days: an expired one stops provisioning", days)
	}
	return Result{Status: status, Detail: fmt.Sprintf("%s; %s for %s; %s", version, trust, r.host, expiry), Hint: hint}
}

// withCAFile is the system pool plus the CA file's certificates, as the
// client trusts them.
func (r *runner) withCAFile() (*x509.CertPool, error) {
	pem, err := os.ReadFile(r.cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool := r.cfg.SystemRoots
	if pool == nil {
		if sys, err := x509.SystemCertPool(); err == nil && sys != nil {
			pool = sys
		} else {
			pool = x509.NewCertPool()
		}
	} else {
		pool = pool.Clone()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", r.cfg.CAFile)
	}
	return pool, nil
}
