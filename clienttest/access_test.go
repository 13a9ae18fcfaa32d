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

// newCredentials creates an API key and a service account of org with role
// and the given access-list flags.
func newCredentials(t *testing.T, org, role string, flags ...string) credentials {
	t.Helper()
	key := admin(t, append([]string{"apikey", "create", "--org", org, "--role", role}, flags...)...)
	sa := admin(t, append([]string{"serviceaccount", "create", "--org", org, "--name", "clienttest " + role, "--role", role}, flags...)...)
	c := credentials{OrgID: org,
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
// which access lists do not govern), and one without an access list in an
// organization that requires one gets 403 ORG_REQUIRES_ACCESS_LIST.
func TestRolesAndAccessLists(t *testing.T) {
	const strictOrg = "c11e0000000000000000c0de"
	admin(t, "org", "create", "--id", strictOrg, "--name", "clienttest strict", "--requires-access-list")
	readOnly := newCredentials(t, demo.creds.OrgID, "ORG_READ_ONLY")
	elsewhere := newCredentials(t, demo.creds.OrgID, "ORG_OWNER", "--access-list", "192.0.2.0/24")
	unlisted := newCredentials(t, strictOrg, "ORG_OWNER")
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
			strict := newSDKClient(t, v, a, clientConfig{base: demo.base, creds: unlisted})
			t.Run("OrgRequiresAccessList/"+strict.String(), func(t *testing.T) {
				ctx := t.Context()
				strict.checkError(t, ctx, "get organization", strict.getOrg(ctx, strictOrg), 403, "ORG_REQUIRES_ACCESS_LIST")
				strict.checkError(t, ctx, "create query", strict.createUsageQuery(ctx, strictOrg, validQuery()), 403, "ORG_REQUIRES_ACCESS_LIST")
			})
		}
	}
}
