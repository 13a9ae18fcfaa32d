package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/costexplorer/costexplorer"
)

// The command line's flag parsing and the flag types the commands share.

// isHelp reports whether s asks for help.
func isHelp(s string) bool { return s == "-h" || s == "--help" || s == "-help" || s == "help" }

// parseFlags parses args into fs; a bad flag is a usage error (exit 2).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	return nil
}

// flagError is the error of a failed fs.Parse: --help as it is, anything
// else a usage error (exit 2) with no message, since the flag set has
// printed it.
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &exitError{code: exitUsage, err: errors.New("")}
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments (`org link A B --data-dir X`), returning the
// positional ones. The argument after a "--" is positional even when it
// looks like a flag (`org link -- -odd-id B`).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseKind parses the arguments of a command that takes the one kind it
// handles first (`export focus …`, `import usage FILE…`), then flags and
// positional arguments in any order, which it returns. No argument prints
// the usage and is a usage error; a help flag prints it; any other kind is a
// usage error naming synopsis.
func parseKind(m *Main, fs *flag.FlagSet, args []string, verb, kind, synopsis string) ([]string, error) {
	if len(args) == 0 || isHelp(args[0]) {
		fs.SetOutput(m.Stdout)
		fs.Usage()
		if len(args) == 0 {
			return nil, fmt.Errorf("%w: missing what to %s: %s", errUsage, verb, synopsis)
		}
		return nil, flag.ErrHelp
	}
	if args[0] != kind {
		fs.Usage()
		return nil, fmt.Errorf("%w: cannot %s %q: the only kind is %s (%s)", errUsage, verb, args[0], kind, synopsis)
	}
	rest, err := parseInterleaved(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return rest, nil
}

// parseNoArgs parses the flags of a command that takes no positional
// arguments, wherever they stand; a bad flag or a stray argument is a usage
// error (exit 2).
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(rest) > 0 {
		return usageErrorf("unexpected arguments %q", rest)
	}
	return nil
}

// flagCheck is a flag.Value that can validate itself after parsing.
type flagCheck interface{ check() error }

// checkFlags runs the checks of the flags that have them.
func checkFlags(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if c, ok := f.Value.(flagCheck); ok && err == nil {
			if e := c.check(); e != nil {
				err = fmt.Errorf("--%s: %w", f.Name, e)
			}
		}
	})
	return err
}

// required is a string flag that must be given.
type required struct{ v *string }

func (r required) String() string {
	if r.v == nil {
		return ""
	}
	return *r.v
}
func (r required) Set(s string) error { *r.v = s; return nil }
func (r required) check() error {
	if strings.TrimSpace(*r.v) == "" {
		return errors.New("is required")
	}
	return nil
}

func requiredString(fs *flag.FlagSet, name, usage string) *string {
	v := new(string)
	fs.Var(required{v}, name, usage+" (required)")
	return v
}

// orgID is an organization id flag: 24 lower-case hex characters.
type orgIDFlag struct {
	v        *string
	optional bool
}

func (o orgIDFlag) String() string {
	if o.v == nil {
		return ""
	}
	return *o.v
}
func (o orgIDFlag) Set(s string) error {
	if !costexplorer.IsID(s) {
		return errors.New("must be 24 lower-case hexadecimal characters")
	}
	*o.v = s
	return nil
}
func (o orgIDFlag) check() error {
	if !o.optional && *o.v == "" {
		return errors.New("is required")
	}
	return nil
}

func orgIDVar(fs *flag.FlagSet, name, usage string, optional bool) *string {
	v := new(string)
	if !optional {
		usage += " (required)"
	}
	fs.Var(orgIDFlag{v: v, optional: optional}, name, usage)
	return v
}

// rolesFlag is a repeatable role flag (also comma-separated).
type rolesFlag struct{ roles *[]costexplorer.Role }

func (r rolesFlag) String() string {
	if r.roles == nil {
		return ""
	}
	var s []string
	for _, x := range *r.roles {
		s = append(s, string(x))
	}
	return strings.Join(s, ",")
}
func (r rolesFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		role, ok := costexplorer.ParseRole(part)
		if !ok {
			var names []string
			for _, x := range costexplorer.Roles {
				names = append(names, string(x))
			}
			return fmt.Errorf("unknown role %q (one of %s)", part, strings.Join(names, ", "))
		}
		*r.roles = append(*r.roles, role)
	}
	return nil
}
func (r rolesFlag) check() error {
	if len(*r.roles) == 0 {
		return errors.New("at least one role is required")
	}
	return nil
}

// accessListFlag is a repeatable IP/CIDR flag (also comma-separated).
type accessListFlag struct{ list *costexplorer.AccessList }

func (a accessListFlag) String() string {
	if a.list == nil {
		return ""
	}
	return strings.Join(*a.list, ",")
}
func (a accessListFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if err := costexplorer.ValidateAccessList(costexplorer.AccessList{part}); err != nil {
			return fmt.Errorf("%q is not an IP address or CIDR block", part)
		}
		*a.list = append(*a.list, part)
	}
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}
