package main

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParseInterleaved(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		positional []string
		x          string
	}{
		{"NoArgs", nil, nil, ""},
		{"FlagsFirst", []string{"--x", "1", "A", "B"}, []string{"A", "B"}, "1"},
		{"FlagsBetween", []string{"A", "--x", "1", "B"}, []string{"A", "B"}, "1"},
		{"FlagsLast", []string{"A", "B", "--x=1"}, []string{"A", "B"}, "1"},
		{"DoubleDashMakesTheNextArgumentPositional", []string{"A", "--", "--x", "--x", "2"}, []string{"A", "--x"}, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			x := fs.String("x", "", "")
			got, err := parseInterleaved(fs, tt.args)
			if err != nil || !slices.Equal(got, tt.positional) || *x != tt.x {
				t.Errorf("parseInterleaved(%q) = %q, %v with --x %q; want %q with --x %q", tt.args, got, err, *x, tt.positional, tt.x)
			}
		})
	}
}

func TestParseNoArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		help bool   // the error is flag.ErrHelp
		code int    // the exit status of the error, 0 for none
		msg  string // part of the message
	}{
		{"OK", []string{"--x", "1"}, false, 0, ""},
		{"Help", []string{"--x", "1", "-h"}, true, 0, ""},
		{"ErrUnknownFlag", []string{"--y"}, false, exitUsage, ""},
		{"ErrStrayArgument", []string{"--x", "1", "extra", "more"}, false, exitUsage, `unexpected arguments ["extra" "more"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			fs.String("x", "", "")
			err := parseNoArgs(fs, tt.args)
			var ee *exitError
			switch {
			case tt.help:
				if !errors.Is(err, flag.ErrHelp) {
					t.Errorf("err = %v, want flag.ErrHelp", err)
				}
			case tt.code == 0:
				if err != nil {
					t.Errorf("err = %v, want none", err)
				}
			case !errors.As(err, &ee) || ee.code != tt.code || !strings.Contains(err.Error(), tt.msg):
				t.Errorf("err = %v, want exit %d with %q", err, tt.code, tt.msg)
			}
		})
	}
}
