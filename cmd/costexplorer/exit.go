package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	"github.com/costexplorer/costexplorer/client"
)

// Exit statuses of the client commands (api, query). They are part of the
// command line's contract and listed in --help.
const (
	exitAPIError   = 1   // the server answered with an error
	exitUsage      = 2   // bad flags, arguments or input
	exitAuth       = 3   // no credentials, or the server refused them (401, 403)
	exitNetwork    = 4   // the server could not be reached
	exitProcessing = 5   // the query is still processing
	exitCanceled   = 130 // interrupted (Ctrl-C)
)

const exitStatusHelp = `Exit status:
  0  success
  1  the server answered with an error (the Atlas error body is printed on standard error)
  2  usage error: bad flags, arguments or request body file
  3  authentication failed: no credentials configured, or the server refused them (401, 403)
  4  network error: the server could not be reached
  5  the query is still processing: try again later`

// usageErrorf returns a usage error (exit status 2).
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// classify turns an error of a client call into the exit status of its
// class.
func classify(err error) error {
	var ae *client.APIError
	var ee *exitError
	var ue *url.Error
	var ne net.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		return err
	case errors.As(err, &ae):
		return &exitError{code: classifyCode(ae), err: err}
	case errors.Is(err, context.Canceled):
		return &exitError{code: exitCanceled, err: errors.New("interrupted")}
	case errors.As(err, &ue), errors.As(err, &ne):
		return &exitError{code: exitNetwork, err: err}
	}
	return &exitError{code: exitAPIError, err: err}
}

// classifyCode is the exit status of an API error.
func classifyCode(e *client.APIError) int {
	if e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden {
		return exitAuth
	}
	return exitAPIError
}
