package main

import (
	"context"
	"errors"
	"net"
	"net/url"
	"testing"

	"github.com/costexplorer/costexplorer/client"
)

// TestClassify checks the failure classes of errors that reach the exit
// status without a server (network and cancellation).
func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"APIError", &client.APIError{StatusCode: 404}, exitAPIError},
		{"Unauthorized", &client.APIError{StatusCode: 401}, exitAuth},
		{"Forbidden", &client.APIError{StatusCode: 403}, exitAuth},
		{"RateLimited", &client.APIError{StatusCode: 429}, exitAPIError},
		{"Canceled", context.Canceled, exitCanceled},
		{"URLError", &url.Error{Op: "Get", URL: "http://127.0.0.1:1", Err: errors.New("connection refused")}, exitNetwork},
		{"NetError", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("no route to host")}, exitNetwork},
		{"ExitErrorKept", &exitError{code: exitProcessing, err: errors.New("still processing")}, exitProcessing},
		{"AnythingElse", errors.New("decode: unexpected EOF"), exitAPIError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify(tt.err)
			ee, ok := err.(*exitError)
			if !ok || ee.code != tt.want {
				t.Errorf("classify(%v) = %v, want exit %d", tt.err, err, tt.want)
			}
		})
	}
	if err := classify(nil); err != nil {
		t.Errorf("classify(nil) = %v, want nil", err)
	}
}
