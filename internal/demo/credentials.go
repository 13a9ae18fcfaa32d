package demo

// CredentialsFile is the file, in the demo's data directory, where
// `costexplorer demo` keeps the credentials it creates on first start (mode
// 0600), so that every later start can print working examples again and
// the demo's clients (clienttest, scripts) can read them.
const CredentialsFile = "demo-credentials.json"

// Credentials are the contents of CredentialsFile, as JSON: the paying
// organization, an owner API key and a service account. A real deployment
// creates its credentials with `costexplorer admin` and keeps no such file.
type Credentials struct {
	OrgID        string `json:"orgId"`
	OrgName      string `json:"orgName"`
	PublicKey    string `json:"publicKey"`
	PrivateKey   string `json:"privateKey"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}
