package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/costexplorer/costexplorer/client"
)

// connectionHelp says, in every client command's --help, where the
// connection settings come from.
const connectionHelp = `Connection and credentials (each from the first source that has it):
  1. flags: --base-url, --public-key with --private-key or --private-key-file (API key, HTTP Digest),
     --client-id with --client-secret or --client-secret-file (service account, OAuth)
  2. environment: COSTEXPLORER_BASE_URL, COSTEXPLORER_PUBLIC_KEY, COSTEXPLORER_PRIVATE_KEY,
     COSTEXPLORER_CLIENT_ID, COSTEXPLORER_CLIENT_SECRET, COSTEXPLORER_ORG_ID, or the Atlas CLI's
     MONGODB_ATLAS_BASE_URL, MONGODB_ATLAS_PUBLIC_API_KEY, MONGODB_ATLAS_PRIVATE_API_KEY,
     MONGODB_ATLAS_CLIENT_ID, MONGODB_ATLAS_CLIENT_SECRET, MONGODB_ATLAS_ORG_ID
  3. a profile file (--profile-file, COSTEXPLORER_PROFILE_FILE, default
     $XDG_CONFIG_HOME/costexplorer/config.toml or ~/.config/costexplorer/config.toml):
       # the default profile
       base-url = "http://127.0.0.1:8080"
       public-key = "abcdefgh"
       private-key = "…"
       org = "5f…"
       [prod]            # chosen with --profile prod or COSTEXPLORER_PROFILE=prod
       base-url = "https://cloud.mongodb.com"
       client-id = "mdb_sa_id_…"
       client-secret = "…"
  4. the default base URL http://127.0.0.1:8080
An API key is used when both its parts are known, otherwise a service account. Prefer the
environment, a *-file flag or the profile file to flags for secrets: flags show in the process list.`

// connFlags are the connection flags of the client commands.
type connFlags struct {
	baseURL, publicKey, privateKey, privateKeyFile string
	clientID, clientSecret, clientSecretFile       string
	profile, profileFile                           string
	fs                                             *flag.FlagSet
	orgFlag                                        string // the name of the organization flag of the command
	org                                            *string
}

// register adds the connection flags to fs, with the organization flag
// named orgFlag that sets *org.
func (cf *connFlags) register(fs *flag.FlagSet, orgFlag string, org *string) {
	cf.fs, cf.orgFlag, cf.org = fs, orgFlag, org
	if orgFlag != "" { // sync takes organizations of its own
		fs.StringVar(org, orgFlag, "", "organization id (default: COSTEXPLORER_ORG_ID, MONGODB_ATLAS_ORG_ID or the profile's org)")
	}
	fs.StringVar(&cf.baseURL, "base-url", "", "API base URL (default http://127.0.0.1:8080)")
	fs.StringVar(&cf.publicKey, "public-key", "", "API key public part (HTTP Digest)")
	fs.StringVar(&cf.privateKey, "private-key", "", "API key private part (visible in the process list: prefer --private-key-file or the environment)")
	fs.StringVar(&cf.privateKeyFile, "private-key-file", "", "file holding the API key private part")
	fs.StringVar(&cf.clientID, "client-id", "", "service account client id (OAuth client credentials)")
	fs.StringVar(&cf.clientSecret, "client-secret", "", "service account secret (visible in the process list: prefer --client-secret-file or the environment)")
	fs.StringVar(&cf.clientSecretFile, "client-secret-file", "", "file holding the service account secret")
	fs.StringVar(&cf.profile, "profile", "", "profile of the profile file (default: COSTEXPLORER_PROFILE, else the top of the file)")
	fs.StringVar(&cf.profileFile, "profile-file", "", "profile file (default: COSTEXPLORER_PROFILE_FILE, else ~/.config/costexplorer/config.toml)")
}

// connection is the resolved connection of a client command.
type connection struct {
	BaseURL                string
	PublicKey, PrivateKey  string
	ClientID, ClientSecret string
	OrgID                  string
	Version                string
}

// settings lists each connection setting with its environment variables, in
// order of precedence, and its key in the profile file.
var settings = []struct {
	key string // profile-file key and flag name
	env []string
}{
	{"base-url", []string{"COSTEXPLORER_BASE_URL", "MONGODB_ATLAS_BASE_URL"}},
	{"public-key", []string{"COSTEXPLORER_PUBLIC_KEY", "MONGODB_ATLAS_PUBLIC_API_KEY"}},
	{"private-key", []string{"COSTEXPLORER_PRIVATE_KEY", "MONGODB_ATLAS_PRIVATE_API_KEY"}},
	{"client-id", []string{"COSTEXPLORER_CLIENT_ID", "MONGODB_ATLAS_CLIENT_ID"}},
	{"client-secret", []string{"COSTEXPLORER_CLIENT_SECRET", "MONGODB_ATLAS_CLIENT_SECRET"}},
	{"org", []string{"COSTEXPLORER_ORG_ID", "MONGODB_ATLAS_ORG_ID"}},
}

// defaultBaseURL is where the client commands go when nothing else is said.
const defaultBaseURL = "http://127.0.0.1:8080"

// parse parses the flags of a client command, which takes no positional
// arguments, and resolves its connection; the organization flag, when not
// given, takes the resolved organization. The command's --help shows help,
// then the exit statuses and where the connection settings come from.
func (cf *connFlags) parse(m *Main, args []string, help string) (*connection, error) {
	text := exitStatusHelp + "\n\n" + connectionHelp
	if help != "" {
		text = help + "\n\n" + text
	}
	usage := cf.fs.Usage
	cf.fs.Usage = func() {
		usage()
		fmt.Fprintln(cf.fs.Output(), "\n"+text)
	}
	if err := parseNoArgs(cf.fs, args); err != nil {
		return nil, err
	}
	conn, err := cf.resolve(m)
	if err != nil {
		return nil, err
	}
	if *cf.org == "" {
		*cf.org = conn.OrgID
	}
	return conn, nil
}

// resolve applies the precedence flags, environment, profile file, default
// to every connection setting.
func (cf *connFlags) resolve(m *Main) (*connection, error) {
	set := map[string]bool{}
	cf.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	flagValue := map[string]string{
		"base-url": cf.baseURL, "public-key": cf.publicKey, "private-key": cf.privateKey,
		"client-id": cf.clientID, "client-secret": cf.clientSecret, "org": *cf.org,
	}
	flagSet := map[string]bool{
		"base-url": set["base-url"], "public-key": set["public-key"], "private-key": set["private-key"],
		"client-id": set["client-id"], "client-secret": set["client-secret"], "org": set[cf.orgFlag],
	}
	for _, f := range []struct{ file, key string }{{cf.privateKeyFile, "private-key"}, {cf.clientSecretFile, "client-secret"}} {
		if f.file == "" {
			continue
		}
		b, err := os.ReadFile(f.file)
		if err != nil {
			return nil, usageErrorf("read the %s file: %v", f.key, err)
		}
		flagValue[f.key], flagSet[f.key] = strings.TrimSpace(string(b)), true
	}
	profile, err := cf.loadProfile(m)
	if err != nil {
		return nil, err
	}
	val := map[string]string{}
	for _, s := range settings {
		switch {
		case flagSet[s.key] && flagValue[s.key] != "":
			val[s.key] = flagValue[s.key]
		case m.envOr("", s.env...) != "":
			val[s.key] = m.envOr("", s.env...)
		default:
			val[s.key] = profile[s.key]
		}
	}
	c := &connection{
		BaseURL: val["base-url"], PublicKey: val["public-key"], PrivateKey: val["private-key"],
		ClientID: val["client-id"], ClientSecret: val["client-secret"], OrgID: val["org"],
	}
	if c.BaseURL == "" {
		c.BaseURL = defaultBaseURL
	}
	return c, nil
}

// profileKeys are the keys a profile may hold.
var profileKeys = []string{"base-url", "public-key", "private-key", "client-id", "client-secret", "org"}

// loadProfile reads the chosen profile of the profile file. A missing
// default file is no profile; a missing named file or profile is an error.
func (cf *connFlags) loadProfile(m *Main) (map[string]string, error) {
	path := cf.profileFile
	if path == "" {
		path = m.envOr("", "COSTEXPLORER_PROFILE_FILE")
	}
	explicit := path != ""
	if !explicit {
		dir := m.envOr("", "XDG_CONFIG_HOME")
		if dir == "" {
			if home := m.envOr("", "HOME"); home != "" {
				dir = filepath.Join(home, ".config")
			}
		}
		if dir == "" {
			return nil, nil
		}
		path = filepath.Join(dir, "costexplorer", "config.toml")
	}
	name := cf.profile
	if name == "" {
		name = m.envOr("", "COSTEXPLORER_PROFILE")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			if name != "" {
				return nil, usageErrorf("profile %q: no profile file %s", name, path)
			}
			return nil, nil
		}
		return nil, usageErrorf("profile file: %v", err)
	}
	profiles, err := parseProfiles(path, b)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	if name == "" {
		return profiles[""], nil
	}
	p, ok := profiles[name]
	if !ok {
		return nil, usageErrorf("profile %q is not in %s", name, path)
	}
	return p, nil
}

// parseProfiles reads a profile file: "key = value" lines (values may be
// double-quoted), "# comments", and "[name]" lines that start a named
// profile; keys before the first section form the default profile "".
func parseProfiles(path string, b []byte) (map[string]map[string]string, error) {
	out := map[string]map[string]string{"": {}}
	cur := ""
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			cur = strings.TrimSpace(line[1 : len(line)-1])
			cur = strings.Trim(cur, `"`)
			if cur == "" {
				return nil, fmt.Errorf("%s:%d: empty profile name", path, n+1)
			}
			if out[cur] == nil {
				out[cur] = map[string]string{}
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want key = value", path, n+1)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if !slices.Contains(profileKeys, k) {
			return nil, fmt.Errorf("%s:%d: unknown key %q (known: %s)", path, n+1, k, strings.Join(profileKeys, ", "))
		}
		out[cur][k] = v
	}
	return out, nil
}

// newClient returns a client for c, with the extra options, or an
// auth-class error when no credentials are configured.
func (m *Main) newClient(c *connection, extra ...client.Option) (*client.Client, error) {
	opts := append([]client.Option{client.WithUserAgent("costexplorer-cli/" + version)}, extra...)
	switch {
	case c.PublicKey != "" && c.PrivateKey != "":
		opts = append(opts, client.WithDigest(c.PublicKey, c.PrivateKey))
	case c.ClientID != "" && c.ClientSecret != "":
		opts = append(opts, client.WithServiceAccount(c.ClientID, c.ClientSecret))
	default:
		return nil, &exitError{code: exitAuth, err: errors.New("no credentials: give an API key (--public-key and --private-key-file, " +
			"or COSTEXPLORER_PUBLIC_KEY and COSTEXPLORER_PRIVATE_KEY) or a service account (--client-id and --client-secret-file, " +
			"or COSTEXPLORER_CLIENT_ID and COSTEXPLORER_CLIENT_SECRET)")}
	}
	if c.Version != "" {
		opts = append(opts, client.WithAPIVersion(c.Version))
	}
	cl, err := client.New(c.BaseURL, opts...)
	if err != nil {
		return nil, usageErrorf("%v", strings.TrimPrefix(err.Error(), "client: "))
	}
	return cl, nil
}
