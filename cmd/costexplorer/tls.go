package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// certReloader serves the certificate of a key pair on disk and loads it
// again on SIGHUP, so certificates are rotated without a restart. A failed
// reload keeps the certificate in use and is logged.
type certReloader struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
	log               *slog.Logger
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *certReloader) reload() error {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("load TLS key pair: %w", err)
	}
	r.cert.Store(&c)
	return nil
}

// getCertificate is the tls.Config hook.
func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cert.Load(), nil
}

// watch reloads on every SIGHUP until ctx ends; reloaded, if set, is called
// after each attempt (tests wait on it).
func (r *certReloader) watch(ctx context.Context, reloaded func(error)) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				err := r.reload()
				if err != nil {
					r.log.Error("TLS certificate reload failed; keeping the previous certificate", "err", err)
				} else {
					r.log.Info("TLS certificate reloaded", "cert", r.certFile)
				}
				if reloaded != nil {
					reloaded(err)
				}
			}
		}
	}()
}

// tlsConfig returns the server TLS configuration: TLS 1.2 or later, HTTP/2
// and HTTP/1.1 offered through ALPN.
func (r *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.getCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}
