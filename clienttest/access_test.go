package clienttest

import (
	"os/exec"
	"strings"
	"testing"
)

// admin runs `costexplorer admin ARGS` on the demo's data directory (the
// server keeps running: credentials are read from the store on use) and
// returns the "name: value" lines it printed.
func admin(t *testing.T, args ...string) map[string]string {
	t.Helper()
	out, err := exec.Command(binary, append(append([]string{"admin"}, args...), "--data-dir", demo.dataDir)...).CombinedOutput()
	if err != nil {
		t.Fatalf("costexplorer admin %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	kv := map[string]string{}
	for line := range strings.Lines(string(out)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			kv[k] = strings.TrimSpace(v)
		}
	}
	return kv
}

// newCredentials creates an API key and a service account of the demo
// organization with role and the given access-list flags.
func newCredentials(t *testing.T, role string, flags ...string) credentials {
	t.Helper()
	org := demo.creds.OrgID
	key := admin(t, append([]string{"apikey", "create", "--org", org, "--role", role}, flags...)...)
	sa := admin(t, append([]string{"serviceaccount", "create", "--org", org, "--name", "clienttest " + role, "--role", role}, flags...)...)
	c := credentials{OrgID: org, OrgName: demo.creds.OrgName,
		PublicKey: key["public key"], PrivateKey: key["private key"],
		ClientID: sa["client id"], ClientSecret: sa["client secret"]}
	if c.PublicKey == "" || c.PrivateKey == "" || c.ClientID == "" || c.ClientSecret == "" {
		t.Fatalf("could not read the new credentials from the admin output: %+v", c)
	}
	return c
}

// A role without billing access reads its organization but gets 401 from
// the cost explorer; a credential whose access list leaves out loopback gets
// 403 IP_ADDRESS_NOT_ON_ACCESS_LIST on every call (after the OAuth token,
// which access lists do not govern).
func TestRolesAndAccessLists(t *testing.T) {
	readOnly := newCredentials(t, "ORG_READ_ONLY")
	elsewhere := newCredentials(t, "ORG_OWNER", "--access-list", "192.0.2.0/24")
	for _, v := range sdkVersions {
		for _, a := range authMethods {
			ro := newSDKClient(t, v, a, clientConfig{base: demo.base, creds: readOnly})
			t.Run("ReadOnlyRole/"+ro.String(), func(t *testing.T) {
				ctx := t.Context()
				ro.checkOK(t, ctx, "get organization", ro.getOrg(ctx, readOnly.OrgID), 200)
				ro.checkError(t, ctx, "create query", ro.createUsageQuery(ctx, readOnly.OrgID, validQuery()), 401, "USER_UNAUTHORIZED")
				ro.checkError(t, ctx, "get usage", ro.getUsage(ctx, readOnly.OrgID, strings.Repeat("0", 64)), 401, "USER_UNAUTHORIZED")
			})
			off := newSDKClient(t, v, a, clientConfig{base: demo.base, creds: elsewhere})
			t.Run("NotOnAccessList/"+off.String(), func(t *testing.T) {
				ctx := t.Context()
				off.checkError(t, ctx, "get organization", off.getOrg(ctx, elsewhere.OrgID), 403, "IP_ADDRESS_NOT_ON_ACCESS_LIST")
				off.checkError(t, ctx, "create query", off.createUsageQuery(ctx, elsewhere.OrgID, validQuery()), 403, "IP_ADDRESS_NOT_ON_ACCESS_LIST")
				off.checkError(t, ctx, "get usage", off.getUsage(ctx, elsewhere.OrgID, strings.Repeat("0", 64)), 403, "IP_ADDRESS_NOT_ON_ACCESS_LIST")
			})
		}
	}
}
