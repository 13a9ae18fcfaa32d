package auth

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// nonceRE matches the nonce of a challenge, for masking in golden files.
var nonceRE = regexp.MustCompile(`nonce="[^"]*"`)

// maskedChallenges renders WWW-Authenticate values one per line with the
// nonces masked.
func maskedChallenges(values []string) string {
	var b strings.Builder
	for _, v := range values {
		b.WriteString(nonceRE.ReplaceAllString(v, `nonce="NONCE"`))
		b.WriteByte('\n')
	}
	return b.String()
}

// checkGolden compares got with testdata/name, rewriting it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n got: %q\nwant: %q", name, got, want)
	}
}

type headerList []string

func (h *headerList) Add(k, v string) { *h = append(*h, v) }

func TestChallenge(t *testing.T) {
	t.Run("GoldenBytes", func(t *testing.T) {
		var h headerList
		setChallenges(&h, "abc", false)
		checkGolden(t, "challenge.golden", maskedChallenges(h))
	})
	t.Run("StaleTrue", func(t *testing.T) {
		got := challenge(algMD5, "n", true)
		if !strings.HasSuffix(got, ", stale=true") {
			t.Errorf("stale challenge = %q", got)
		}
	})
	t.Run("AcceptedByStrictSDKParser", func(t *testing.T) {
		for _, alg := range []string{algMD5, algSHA256} {
			c, err := parseChallengeLikeSDK(challenge(alg, "n0nce-_", false))
			if err != nil {
				t.Fatalf("%s: %v", alg, err)
			}
			if c["realm"] != Realm || c["nonce"] != "n0nce-_" || c["algorithm"] != alg || c["qop"] != "auth" || c["stale"] != "false" {
				t.Errorf("%s: parsed %v", alg, c)
			}
		}
	})
}

// TestDigestResponse checks the response computation against the worked
// example of RFC 7616 §3.9.1.
func TestDigestResponse(t *testing.T) {
	const (
		user, realm, pass = "Mufasa", "http-auth@example.org", "Circle of Life"
		nonce             = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
		cnonce            = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	)
	tests := []struct {
		alg  string
		want string
	}{
		{algMD5, "8ca523f5e9506fed4657c9700eebdbec"},
		{algSHA256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			ha1 := hexHash(newHash(tt.alg), user+":"+realm+":"+pass)
			if got := digestResponse(tt.alg, ha1, "GET", "/dir/index.html", nonce, "00000001", cnonce); got != tt.want {
				t.Errorf("response = %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("HA1UsesTheAtlasRealm", func(t *testing.T) {
		if got, want := HA1MD5("abcdefgh", "k"), hexHash(newHash(algMD5), "abcdefgh:MMS Public API:k"); got != want {
			t.Errorf("HA1MD5 = %s, want %s", got, want)
		}
		if got, want := HA1SHA256("abcdefgh", "k"), hexHash(newHash(algSHA256), "abcdefgh:MMS Public API:k"); got != want {
			t.Errorf("HA1SHA256 = %s, want %s", got, want)
		}
	})
}

func TestParseDigestAuthorization(t *testing.T) {
	md5resp := strings.Repeat("a", 32)
	shaResp := strings.Repeat("b", 64)
	sdk := `Digest username="abcdefgh", realm="MMS Public API", nonce="N", uri="/api/atlas/v2?x=1", response="` + md5resp + `", algorithm="MD5", qop=auth, nc=00000001, cnonce="c1"`
	tests := []struct {
		name   string
		header string
		want   *digestCredentials
		errHas string
	}{
		{name: "OKAtlasSDKStyle", header: sdk, want: &digestCredentials{Username: "abcdefgh", Realm: Realm, Nonce: "N", URI: "/api/atlas/v2?x=1", Response: md5resp, Algorithm: algMD5, Cnonce: "c1", NC: "00000001", Count: 1}},
		{name: "OKCurlStyleSHA256", header: `Digest username="abcdefgh",realm="MMS Public API",nonce="N",uri="/p",cnonce="c",nc=0000000a,algorithm=SHA-256,response="` + strings.ToUpper(shaResp) + `",qop=auth`,
			want: &digestCredentials{Username: "abcdefgh", Realm: Realm, Nonce: "N", URI: "/p", Response: shaResp, Algorithm: algSHA256, Cnonce: "c", NC: "0000000a", Count: 10}},
		{name: "OKDefaultAlgorithmAndEscapes", header: `digest  username = "ab\"cd" , realm="MMS Public API", nonce="N", uri="/p", response="` + md5resp + `", qop="auth", nc=00000002, cnonce="c", opaque="", userhash=false, unknown=x`,
			want: &digestCredentials{Username: `ab"cd`, Realm: Realm, Nonce: "N", URI: "/p", Response: md5resp, Algorithm: algMD5, Cnonce: "c", NC: "00000002", Count: 2}},
		{name: "ErrNotDigest", header: "Basic YWJjOmRlZg==", errHas: "scheme"},
		{name: "ErrNoParams", header: "Digest", errHas: "scheme"},
		{name: "ErrMissingResponse", header: strings.Replace(sdk, `response="`+md5resp+`", `, "", 1), errHas: "missing response"},
		{name: "ErrMissingNC", header: strings.Replace(sdk, `nc=00000001, `, "", 1), errHas: "missing nc"},
		{name: "ErrQopAuthInt", header: strings.Replace(sdk, "qop=auth", "qop=auth-int", 1), errHas: "qop"},
		{name: "ErrAlgorithmSess", header: strings.Replace(sdk, `"MD5"`, `"MD5-sess"`, 1), errHas: "algorithm"},
		{name: "ErrResponseLengthForSHA256", header: strings.Replace(sdk, `"MD5"`, `"SHA-256"`, 1), errHas: "length"},
		{name: "ErrResponseNotHex", header: strings.Replace(sdk, md5resp, strings.Repeat("z", 32), 1), errHas: "hex"},
		{name: "ErrNCShort", header: strings.Replace(sdk, "nc=00000001", "nc=1", 1), errHas: "nc"},
		{name: "ErrNCZero", header: strings.Replace(sdk, "nc=00000001", "nc=00000000", 1), errHas: "nc"},
		{name: "ErrNCNotHex", header: strings.Replace(sdk, "nc=00000001", "nc=0000000g", 1), errHas: "nc"},
		{name: "ErrRepeatedParam", header: sdk + `, realm="other"`, errHas: "repeated"},
		{name: "ErrUnterminatedQuote", header: `Digest username="abc`, errHas: "unterminated"},
		{name: "ErrTrailingBackslash", header: `Digest username="abc\`, errHas: "unterminated"},
		{name: "ErrNoEquals", header: `Digest username`, errHas: "no value"},
		{name: "ErrEmptyTokenValue", header: `Digest username=, realm="x"`, errHas: "empty value"},
		{name: "ErrJunkAfterValue", header: `Digest username="a"b, realm="x"`, errHas: "comma"},
		{name: "ErrBadName", header: `Digest ="a"`, errHas: "parameter name"},
		{name: "ErrControlChar", header: "Digest username=\"a\x00b\"", errHas: "control"},
		{name: "ErrUserhash", header: sdk + ", userhash=true", errHas: "userhash"},
		{name: "ErrExtendedUsername", header: sdk + ", username*=UTF-8''x", errHas: "username*"},
		{name: "ErrTooLong", header: sdk + ", x=\"" + strings.Repeat("x", maxAuthorizationLen) + "\"", errHas: "longer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDigestAuthorization(tt.header)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) || !errors.Is(err, errMalformedDigest) {
					t.Fatalf("err = %v, want one containing %q", err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != *tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestNonce(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	m := &nonceMinter{key: []byte(strings.Repeat("k", 32)), ttl: 5 * time.Minute}
	n, err := m.mint(now)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(n, `", =`) {
		t.Fatalf("nonce %q has characters a strict challenge parser would split on", n)
	}
	// tamper changes one base64 character (so one bit of the timestamp or
	// the random part) into another valid one.
	tamper := func(s string) string {
		b := []byte(s)
		if b[10] == 'A' {
			b[10] = 'B'
		} else {
			b[10] = 'A'
		}
		return string(b)
	}
	other := &nonceMinter{key: []byte(strings.Repeat("o", 32)), ttl: 5 * time.Minute}
	future, _ := m.mint(now.Add(2 * nonceSkew))
	tests := []struct {
		name    string
		minter  *nonceMinter
		nonce   string
		at      time.Time
		wantErr error
	}{
		{"OK", m, n, now, nil},
		{"OKJustBeforeExpiry", m, n, now.Add(5*time.Minute - time.Nanosecond), nil},
		{"OKOtherReplicaSameKey", &nonceMinter{key: m.key, ttl: m.ttl}, n, now.Add(time.Minute), nil},
		{"ErrStaleAtExpiry", m, n, now.Add(5 * time.Minute), errNonceStale},
		{"ErrInvalidOtherKey", other, n, now, errNonceInvalid},
		{"ErrInvalidTampered", m, tamper(n), now, errNonceInvalid},
		{"ErrInvalidTruncated", m, n[:len(n)-1], now, errNonceInvalid},
		{"ErrInvalidNotBase64", m, strings.Repeat("!", len(n)), now, errNonceInvalid},
		{"ErrInvalidFromTheFuture", m, future, now, errNonceInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp, err := tt.minter.check(tt.nonce, tt.at)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("check = %v, want %v", err, tt.wantErr)
			}
			if err == nil && !exp.Equal(now.Add(5*time.Minute)) {
				t.Errorf("expires %v, want %v", exp, now.Add(5*time.Minute))
			}
		})
	}
}
