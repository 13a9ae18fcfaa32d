package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConnectionPrecedence(t *testing.T) {
	dir := t.TempDir()
	profiles := filepath.Join(dir, "costexplorer", "config.toml")
	if err := os.MkdirAll(filepath.Dir(profiles), 0o700); err != nil {
		t.Fatal(err)
	}
	err := os.WriteFile(profiles, []byte(`# test profiles
base-url = "http://profile.example"
public-key = "profpub1"
private-key = "profile-private"
org = "aaaaaaaaaaaaaaaaaaaaaaaa"

[prod]
base-url = https://cloud.example
client-id = "mdb_sa_id_prod"
client-secret = "prod-secret"
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "private-key")
	if err := os.WriteFile(keyFile, []byte("file-private\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want connection
		err  string
	}{
		{"Defaults", nil, nil, connection{BaseURL: defaultBaseURL}, ""},
		{"DefaultProfileFromXDG", map[string]string{"XDG_CONFIG_HOME": dir}, nil,
			connection{BaseURL: "http://profile.example", PublicKey: "profpub1", PrivateKey: "profile-private", OrgID: "aaaaaaaaaaaaaaaaaaaaaaaa"}, ""},
		{"DefaultProfileFromHOME", map[string]string{"HOME": filepath.Dir(dir)}, []string{"--profile-file", profiles},
			connection{BaseURL: "http://profile.example", PublicKey: "profpub1", PrivateKey: "profile-private", OrgID: "aaaaaaaaaaaaaaaaaaaaaaaa"}, ""},
		{"NamedProfile", map[string]string{"XDG_CONFIG_HOME": dir, "COSTEXPLORER_PROFILE": "prod"}, nil,
			connection{BaseURL: "https://cloud.example", ClientID: "mdb_sa_id_prod", ClientSecret: "prod-secret"}, ""},
		{"AtlasEnvOverProfile", map[string]string{"XDG_CONFIG_HOME": dir, "MONGODB_ATLAS_BASE_URL": "http://atlas.env", "MONGODB_ATLAS_ORG_ID": "bbbbbbbbbbbbbbbbbbbbbbbb"}, nil,
			connection{BaseURL: "http://atlas.env", PublicKey: "profpub1", PrivateKey: "profile-private", OrgID: "bbbbbbbbbbbbbbbbbbbbbbbb"}, ""},
		{"OwnEnvOverAtlasEnv", map[string]string{"MONGODB_ATLAS_BASE_URL": "http://atlas.env", "COSTEXPLORER_BASE_URL": "http://own.env"}, nil,
			connection{BaseURL: "http://own.env"}, ""},
		{"FlagsOverEnv", map[string]string{"XDG_CONFIG_HOME": dir, "COSTEXPLORER_BASE_URL": "http://own.env", "COSTEXPLORER_PRIVATE_KEY": "env-private"},
			[]string{"--base-url", "http://flag", "--private-key-file", keyFile, "--org", "cccccccccccccccccccccccc"},
			connection{BaseURL: "http://flag", PublicKey: "profpub1", PrivateKey: "file-private", OrgID: "cccccccccccccccccccccccc"}, ""},
		{"UnknownProfile", map[string]string{"XDG_CONFIG_HOME": dir}, []string{"--profile", "staging"}, connection{}, `profile "staging" is not in`},
		{"MissingNamedFile", nil, []string{"--profile-file", filepath.Join(dir, "nope.toml")}, connection{}, "profile file"},
		{"MissingKeyFile", nil, []string{"--private-key-file", filepath.Join(dir, "nope")}, connection{}, "read the private-key file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMain(strings.NewReader(""), io.Discard, io.Discard, func(k string) string { return tt.env[k] })
			var org string
			var cf connFlags
			fs := m.newFlagSet("test", "test")
			cf.register(fs, "org", &org)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			got, err := cf.resolve(m)
			if wantErr(t, err, tt.err) {
				return
			}
			if *got != tt.want {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseProfilesRejectsUnknownKeys(t *testing.T) {
	_, err := parseProfiles("p.toml", []byte("base-url = x\npasword = y\n"))
	if err == nil || !strings.Contains(err.Error(), `p.toml:2: unknown key "pasword"`) {
		t.Errorf("err = %v", err)
	}
}
